"""Cables between stations: end-to-end encipherment and signature, serials per link, the failures."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from kartoteka.channels.cable import Receiver, _canonical, send
from kartoteka.channels.station import Station
from kartoteka.errors import Forbidden, KartotekaError
from tests.channels.world import World, as_user, make_world

BODY = "1. (S) Resident reports Colonel Zorin recalled to Moscow.\n2. (U) Weather in Lisbon mild.\n"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


@pytest.fixture
def stations(tmp_path: Path) -> dict[str, Station]:
    made = {n: Station.create(tmp_path / n.lower(), n) for n in ("LISBON", "CENTRE", "MALLORY")}
    for a in made.values():
        for b in made.values():
            if a is not b:
                a.import_peer(b.public().as_json())
    return made


def _receive(world: World, station: Station, *paths: Path, user: str | None = "registry") -> list[dict[str, Any]]:
    arch = as_user(world, user)
    try:
        return list(Receiver(arch, station).run(list(paths)))
    finally:
        arch.close()


def test_a_cable_is_readable_only_by_the_addressee_and_ingested_with_label_and_precedence(
    world: World, stations: dict[str, Station]
) -> None:
    header, path = send(stations["LISBON"], "CENTRE", "FLASH", "S", BODY, "Recall")
    assert header["serial"] == 1 and path.parent.name == "CENTRE"
    raw = path.read_bytes()
    assert b"Zorin" not in raw and b"Recall" not in raw  # stored enciphered, even at the sender
    # Neither the sender nor a third station can open it.
    for other in ("LISBON", "MALLORY"):
        (r,) = _receive(world, stations[other], path)
        assert r["status"] == "error" and "[E150]" in r["error"] and "addressed to 'CENTRE'" in r["error"]
    (r,) = _receive(world, stations["CENTRE"], path)
    assert r["status"] == "added" and r["precedence"] == "FLASH" and r["label"] == "S" and r["serial"] == 1
    owner = as_user(world, None)
    clerk = as_user(world, "clerk")
    try:
        doc = owner.document(r["document_id"])
        text = "\n".join(p["text"] for p in doc["portions"])
        assert "PRECEDENCE: FLASH" in text and "FROM: LISBON" in text and "Zorin" in text
        assert doc["source"] == "cable:LISBON-CENTRE/000001"
        # Its label holds: for a U clerk the S cable does not exist.
        assert clerk.search("Zorin")["total"] == 0 and clerk.search("Weather")["total"] == 0
        assert owner.search("Weather")["total"] == 1
    finally:
        owner.close()
        clerk.close()
    # The cable is kept as received, still enciphered, in the inbox.
    kept = stations["CENTRE"].path / "inbox" / "LISBON" / "000001.cable"
    assert kept.read_bytes() == raw


def test_a_replayed_cable_is_refused(world: World, stations: dict[str, Station]) -> None:
    _, path = send(stations["LISBON"], "CENTRE", "ROUTINE", "S", BODY, "")
    assert _receive(world, stations["CENTRE"], path)[0]["status"] == "added"
    (again,) = _receive(world, stations["CENTRE"], path)
    assert again["status"] == "error" and "[E137]" in again["error"] and "replay" in again["error"]
    # Twice in one batch: the second is the replay.
    _, p2 = send(stations["LISBON"], "CENTRE", "ROUTINE", "S", BODY + "more", "")
    first, second = _receive(world, stations["CENTRE"], p2, p2)
    assert first["status"] == "added" and second["status"] == "error" and "[E137]" in second["error"]


def test_gaps_and_late_cables_are_reported_and_replays_of_them_refused(
    world: World, stations: dict[str, Station]
) -> None:
    paths = [send(stations["LISBON"], "CENTRE", "PRIORITY", "S", f"{BODY} part {i}", "")[1] for i in range(1, 5)]
    one, three = _receive(world, stations["CENTRE"], paths[0], paths[2])
    assert one["status"] == "added" and one["warnings"] == []
    assert three["status"] == "added" and len(three["warnings"]) == 1 and "[E139]" in three["warnings"][0]
    assert "serials 2" in three["warnings"][0]
    (two,) = _receive(world, stations["CENTRE"], paths[1])
    assert two["status"] == "added" and "[E151]" in two["warnings"][0] and "late" in two["warnings"][0]
    (two_again,) = _receive(world, stations["CENTRE"], paths[1])
    assert "[E137]" in two_again["error"]
    (four,) = _receive(world, stations["CENTRE"], paths[3])
    assert four["status"] == "added" and four["warnings"] == []
    arrivals = stations["CENTRE"].arrivals("LISBON")
    assert arrivals.highest == 4 and arrivals.missing == ()


def _envelope(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_bytes()))


def _write(tmp: Path, name: str, env: dict[str, Any]) -> Path:
    p = tmp / name
    p.write_text(json.dumps(env))
    return p


def test_a_cable_signed_by_the_wrong_station_is_refused(
    world: World, stations: dict[str, Station], tmp_path: Path
) -> None:
    _, path = send(stations["LISBON"], "CENTRE", "IMMEDIATE", "S", BODY, "")
    env = _envelope(path)
    # MALLORY signs a cable that claims to be LISBON's.
    forged = {k: v for k, v in env.items() if k != "signature"}
    forged["signature"] = base64.b64encode(stations["MALLORY"].signing_key.sign(_canonical(forged)).signature).decode()
    (r,) = _receive(world, stations["CENTRE"], _write(tmp_path, "forged.cable", forged))
    assert r["status"] == "error" and "[E138]" in r["error"] and "LISBON" in r["error"]
    # MALLORY takes LISBON's ciphertext as its own: its signature is good, the enciphered header is not.
    stolen = {**{k: v for k, v in env.items() if k != "signature"}, "from": "MALLORY"}
    stolen["signature"] = base64.b64encode(stations["MALLORY"].signing_key.sign(_canonical(stolen)).signature).decode()
    (r,) = _receive(world, stations["CENTRE"], _write(tmp_path, "stolen.cable", stolen))
    assert r["status"] == "error" and "[E150]" in r["error"] and "header differs" in r["error"]
    # From a station nobody imported.
    (r,) = _receive(world, stations["CENTRE"], _write(tmp_path, "unknown.cable", {**env, "from": "NOWHERE"}))
    assert "[E150]" in r["error"] and "unknown station" in r["error"]
    # And the real one still arrives.
    assert _receive(world, stations["CENTRE"], path)[0]["status"] == "added"


@pytest.mark.parametrize("field", ["ciphertext", "serial", "precedence", "label", "sent", "from"])
def test_a_tampered_cable_is_refused(world: World, stations: dict[str, Station], tmp_path: Path, field: str) -> None:
    _, path = send(stations["LISBON"], "CENTRE", "ROUTINE", "S", BODY, "t")
    env = _envelope(path)
    if field == "ciphertext":
        raw = bytearray(base64.b64decode(env["ciphertext"]))
        raw[60] ^= 1
        env["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    elif field == "serial":
        env["serial"] = 7
    elif field == "precedence":
        env["precedence"] = "FLASH"
    elif field == "label":
        env["label"] = "U"  # a downgrade
    elif field == "from":
        env["from"] = "MALLORY"
    else:
        env[field] = env[field] + "x"
    (r,) = _receive(world, stations["CENTRE"], _write(tmp_path, "t.cable", env))
    assert r["status"] == "error" and "[E138]" in r["error"]
    owner = as_user(world, None)
    try:
        assert owner.stats()["documents"] == 0
    finally:
        owner.close()


def test_ciphertext_sealed_to_another_key_does_not_open(
    world: World, stations: dict[str, Station], tmp_path: Path
) -> None:
    # LISBON enciphers to MALLORY by mistake but addresses and signs it to CENTRE.
    lisbon = stations["LISBON"]
    _, path = send(lisbon, "MALLORY", "ROUTINE", "S", BODY, "")
    env = {k: v for k, v in _envelope(path).items() if k != "signature"}
    env["to"] = "CENTRE"
    env["signature"] = base64.b64encode(lisbon.signing_key.sign(_canonical(env)).signature).decode()
    (r,) = _receive(world, stations["CENTRE"], _write(tmp_path, "x.cable", env))
    assert r["status"] == "error" and "[E133]" in r["error"]


@pytest.mark.parametrize(
    "junk", [b"", b"{", b"[]", b'{"kartoteka_cable": 2}', b'{"kartoteka_cable": 1, "to": "CENTRE"}']
)
def test_malformed_cables_are_one_error_each(
    world: World, stations: dict[str, Station], tmp_path: Path, junk: bytes
) -> None:
    p = tmp_path / "junk.cable"
    p.write_bytes(junk)
    _, good = send(stations["LISBON"], "CENTRE", "ROUTINE", "S", BODY, "")
    bad, ok = _receive(world, stations["CENTRE"], p, good)
    assert bad["status"] == "error" and "[E150]" in bad["error"] and ok["status"] == "added"


def test_a_missing_station_key_is_one_error(stations: dict[str, Station]) -> None:
    centre = stations["CENTRE"].path
    (centre / "station.key").unlink()
    with pytest.raises(KartotekaError) as missing:
        Station(centre)
    assert missing.value.code == "E132" and "missing" in missing.value.message
    with pytest.raises(KartotekaError) as none:
        Station(centre.parent / "nowhere")
    assert none.value.code == "E136"


def test_receiving_needs_the_registry_role(world: World, stations: dict[str, Station]) -> None:
    for user in ("clerk", "reader", "handler"):
        arch = as_user(world, user)
        try:
            with pytest.raises(Forbidden):
                Receiver(arch, stations["CENTRE"])
        finally:
            arch.close()


def test_a_label_above_the_receiver_is_not_ingested(world: World, stations: dict[str, Station]) -> None:
    _, path = send(stations["LISBON"], "CENTRE", "ROUTINE", "TS:SI", BODY, "")
    (r,) = _receive(world, stations["CENTRE"], path)  # registry holds S:HUM
    assert r["status"] == "error" and "[E101]" in r["error"]
    assert stations["CENTRE"].arrivals("LISBON").highest == 0  # not counted as arrived: it can come again
    (r,) = _receive(world, stations["CENTRE"], path, user=None)
    assert r["status"] == "added" and r["label"] == "TS:SI"


def test_serials_are_per_link_and_bad_sends_are_refused(stations: dict[str, Station]) -> None:
    lisbon = stations["LISBON"]
    assert [send(lisbon, "CENTRE", "ROUTINE", "S", "a", "")[0]["serial"] for _ in range(3)] == [1, 2, 3]
    assert send(lisbon, "MALLORY", "ROUTINE", "S", "a", "")[0]["serial"] == 1
    for args, code in (
        (("CENTRE", "URGENT", "S", "a"), "E071"),
        (("CENTRE", "ROUTINE", "S:(A", "a"), "E041"),
        (("CENTRE", "ROUTINE", "S", "  "), "E136"),
        (("NOWHERE", "ROUTINE", "S", "a"), "E136"),
        (("bad name", "ROUTINE", "S", "a"), "E136"),
    ):
        with pytest.raises(KartotekaError) as refused:
            send(lisbon, *args, "")
        assert refused.value.code == code
    assert send(lisbon, "CENTRE", "ROUTINE", "S", "a", "")[0]["serial"] == 4  # refusals used no serial


def test_key_exchange_checks(stations: dict[str, Station], tmp_path: Path) -> None:
    centre = stations["CENTRE"]
    with pytest.raises(KartotekaError):
        centre.import_peer(centre.public().as_json())  # itself
    impostor = Station.create(tmp_path / "imp", "LISBON").public().as_json()
    with pytest.raises(KartotekaError) as changed:
        centre.import_peer(impostor)  # new keys for a known peer are news, not a quiet update
    assert "differ" in changed.value.message
    assert centre.import_peer(impostor, replace=True).fingerprint == impostor["fingerprint"]
    with pytest.raises(KartotekaError):
        centre.import_peer({**impostor, "fingerprint": "0000"})
