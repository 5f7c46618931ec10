"""`kartoteka cards`: the card index read as a card drawer, through the policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kartoteka.archive import Archive
from kartoteka.cli import app
from kartoteka.errors import KartotekaError
from kartoteka.registry.readers import RawDocument

OPEN = "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n\n(U) Zorin left Lisbon.\n"
SECRET = "(S//HUM) General Oleg Sokolov met Arkady Zorin in Vienna on 3 May 1979.\n"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "c.db"
    arch = Archive(p)
    list(arch.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
    list(arch.ingest([RawDocument("secret.txt", "txt", "test.v1", SECRET)], label="S:HUM"))
    (tmp_path / "watch.csv").write_text("id,name\nw-1,Viktor Orlov\n", encoding="utf-8")
    list(arch.import_persons(tmp_path / "watch.csv"))
    arch.add_user("ivan", "U", [])
    arch.close()
    return p


def _names(r: dict[str, object]) -> list[str]:
    return [str(c["name"]) for c in r["cards"]]  # type: ignore[attr-defined]


def test_counts_are_what_the_viewer_may_see(path: Path) -> None:
    owner, ivan = Archive(path), Archive(path, user="ivan")
    try:
        mine = {c["name"]: c for c in owner.cards(kind="person")["cards"]}
        seen = {c["name"]: c for c in ivan.cards(kind="person")["cards"]}
        assert mine["Arkady Zorin"]["records"] == 2 and seen["Arkady Zorin"]["records"] == 1
        assert seen["Arkady Zorin"]["mentions"] < mine["Arkady Zorin"]["mentions"]
        assert "Oleg Sokolov" in mine and "Oleg Sokolov" not in seen  # named only in the S:HUM cable
        assert seen["Viktor Orlov"]["mentions"] == 0 and seen["Viktor Orlov"]["origin"] == "imported"
        assert all(c["kind"] == "PERSON" for c in seen.values())
    finally:
        owner.close()
        ivan.close()


def test_sorts_pages_and_errors(path: Path) -> None:
    ivan = Archive(path, user="ivan")
    try:
        by_name = _names(ivan.cards(sort="name", limit=500))
        assert by_name == sorted(by_name, key=str.casefold)
        first, rest = ivan.cards(limit=1), ivan.cards(limit=500, offset=1)
        assert first["total"] == rest["total"] == len(first["cards"]) + len(rest["cards"])
        for bad in ({"kind": "spy"}, {"sort": "fame"}):
            with pytest.raises(KartotekaError, match="E071"):
                ivan.cards(**bad)  # type: ignore[arg-type]
    finally:
        ivan.close()


def test_the_command(path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["--archive", str(path), "--as", "ivan", "cards", "--kind", "place", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["kind"] == "place" and {c["kind"] for c in out["cards"]} <= {"PLACE"}
    r = runner.invoke(app, ["--archive", str(path), "cards", "--kind", "spy"])
    assert r.exit_code == 1 and "E071" in r.stderr
