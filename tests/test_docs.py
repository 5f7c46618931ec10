"""Docs that cannot go stale: every command is documented in the README."""

from pathlib import Path

from kartoteka.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_command_in_readme() -> None:
    text = README.read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert names
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None and group.name
        names += [f"{group.name} {c.name}" for c in sub.registered_commands]
    missing = [n for n in names if f"kartoteka {n}" not in text and f"`{n}`" not in text]
    assert not missing, f"commands missing from README: {missing}"


def test_readme_quick_start_has_two_commands() -> None:
    text = README.read_text()
    start = text.index("## Quick start")
    block = text[start:].split("```")[1]
    commands = [ln for ln in block.splitlines()[1:] if ln.strip() and not ln.startswith("#")]
    assert len(commands) == 2 and "kartoteka demo" in commands[0]
