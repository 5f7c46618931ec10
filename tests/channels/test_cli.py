"""The drop, station and cable commands end to end, as a handler and a registry clerk would type them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kartoteka.archive import Archive
from kartoteka.channels.drop_store import Drop
from kartoteka.cli import app
from tests.channels.world import CHEAP

runner = CliRunner()


def _ok(*args: str, input: str | None = None) -> str:
    r = runner.invoke(app, list(args), input=input)
    assert r.exit_code == 0, (args, r.output)
    return r.output


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_drop_keygen_init_collect_reply_list(tmp_path: Path) -> None:
    db, drop, key = tmp_path / "a.db", tmp_path / "drop", tmp_path / "offline" / "newsroom.key"
    made = json.loads(_ok("drop", "keygen", str(key), "--json"))
    assert key.stat().st_mode & 0o077 == 0 and Path(str(made["public_key_file"])).exists()
    init = json.loads(
        _ok("drop", "init", "--drop", str(drop), "--newsroom-key", str(made["public_key_file"]), "--json")
    )
    assert init["codename_bits"] == 90.47 and init["max_upload_bytes"] == 10 * 2**20
    # Tests use a cheap hash (the drop records its parameters).
    config = json.loads((drop / "drop.json").read_text())
    config["kdf"] = CHEAP.as_json()
    (drop / "drop.json").write_text(json.dumps(config))
    d = Drop(drop)
    codename = d.new_source()
    d.submit(codename, "(U) The courier is Anna Ivanova.", [("map.txt", b"North gate, 22:00.")])

    owner = Archive(db)
    owner.add_user("handler", "S", ["HUM", "HANDLER"])
    owner.close()
    # The owner must say for whom; the handler collects for themselves.
    r = runner.invoke(app, ["--archive", str(db), "drop", "collect", "--drop", str(drop), "--key", str(key)])
    assert r.exit_code == 1 and "[E152]" in r.output
    out = _ok(
        "--archive", str(db), "--as", "handler", "drop", "collect", "--drop", str(drop), "--key", str(key), "--json"
    )
    lines = _lines(out)
    docs, summary = lines[:-1], lines[-1]["summary"]
    assert [x["status"] for x in docs] == ["added", "added"] and summary["new_sources"] == summary["sources"]  # type: ignore[index]
    cryptonym = str(docs[0]["cryptonym"])
    again = _lines(
        _ok(
            "--archive", str(db), "--as", "handler", "drop", "collect", "--drop", str(drop), "--key", str(key), "--json"
        )
    )
    assert [x["status"] for x in again[:-1]] == ["unchanged", "unchanged"]

    # A reply, from stdin; the codename as a target is refused before anything is read.
    r = runner.invoke(
        app,
        [
            "--archive",
            str(db),
            "--as",
            "handler",
            "drop",
            "reply",
            codename,
            "-",
            "--drop",
            str(drop),
            "--key",
            str(key),
        ],
        input="x",
    )
    assert r.exit_code == 1 and "[E131]" in r.output and codename not in r.output
    sent = json.loads(
        _ok(
            "--archive",
            str(db),
            "--as",
            "handler",
            "drop",
            "reply",
            cryptonym,
            "-",
            "--drop",
            str(drop),
            "--key",
            str(key),
            "--json",
            input="Noted.",
        )
    )
    assert sent["cryptonym"] == cryptonym
    assert [x.text for x in Drop(drop).replies(codename)] == ["Noted."]
    listing = json.loads(_ok("--archive", str(db), "--as", "handler", "drop", "list", "--json"))
    (entry,) = listing["sources"]
    assert entry["cryptonym"] == cryptonym and len(entry["submissions"]) == 2 and len(entry["replies"]) == 1
    # A missing key is one line.
    r = runner.invoke(
        app,
        [
            "--archive",
            str(db),
            "--as",
            "handler",
            "drop",
            "collect",
            "--drop",
            str(drop),
            "--key",
            str(tmp_path / "nope"),
        ],
    )
    assert r.exit_code == 1 and "[E132]" in r.output and "Traceback" not in r.output


def test_stations_and_cables(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    Archive(db).close()
    lis, cen = tmp_path / "lisbon", tmp_path / "centre"
    a = json.loads(_ok("station", "create", "LISBON", "--station", str(lis), "--json"))
    _ok("station", "create", "CENTRE", "--station", str(cen))
    _ok("station", "export", "--station", str(lis), "-o", str(tmp_path / "lisbon.pub"))
    exported = _ok("station", "export", "--station", str(cen))
    (tmp_path / "centre.pub").write_text(exported)
    imported = json.loads(_ok("station", "import", str(tmp_path / "lisbon.pub"), "--station", str(cen), "--json"))
    assert imported["fingerprint"] == a["fingerprint"]
    _ok("station", "import", str(tmp_path / "centre.pub"), "--station", str(lis))
    assert "LISBON" in _ok("station", "peers", "--station", str(cen))
    text = tmp_path / "cable.txt"
    text.write_text("Colonel Zorin recalled to Moscow.\n", encoding="utf-8")
    sent = json.loads(
        _ok("cable", "send", str(text), "--to", "CENTRE", "--precedence", "FLASH", "--label", "S", "--title", "Recall",
            "--station", str(lis), "-o", str(tmp_path / "out.cable"), "--json")
    )  # fmt: skip
    assert sent["serial"] == 1 and sent["precedence"] == "FLASH"
    got = _lines(
        _ok("--archive", str(db), "cable", "receive", str(tmp_path / "out.cable"), "--station", str(cen), "--json")
    )
    assert got[0]["status"] == "added" and got[0]["precedence"] == "FLASH" and got[0]["label"] == "S"
    r = runner.invoke(
        app, ["--archive", str(db), "cable", "receive", str(tmp_path / "out.cable"), "--station", str(cen)]
    )
    assert r.exit_code == 1 and "[E137]" in r.output
    r = runner.invoke(
        app, ["cable", "send", str(text), "--to", "CENTRE", "--precedence", "URGENT", "--station", str(lis)]
    )
    assert r.exit_code == 1 and "[E071]" in r.output
