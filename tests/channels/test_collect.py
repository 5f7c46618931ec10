"""The handler's side: collect into the archive under new cryptonyms, idempotently; reply; the desk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.channels.collect import Collector, cryptonym_for, desk, reply
from kartoteka.channels.drop_store import NEWSROOM_KEY, Drop, read_private_key, write_key_pair
from kartoteka.errors import Forbidden, KartotekaError, NotFound
from tests.channels.world import World, as_user, make_world

MESSAGE = "(U) Colonel Arkady Zorin met the deputy minister in Lisbon on 3 March 1977."


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _collect(world: World, user: str | None = "handler", **kw: object) -> tuple[list[dict[str, object]], Collector]:
    arch = as_user(world, user)
    try:
        c = Collector(arch, world.drop_path, world.key, "handler" if user is None else user, **kw)  # type: ignore[arg-type]
        return list(c.run()), c
    finally:
        arch.close()


def test_collect_ingests_each_submission_under_a_new_cryptonym_labelled_s_hum(world: World) -> None:
    drop = world.drop
    a, b = drop.new_source(), drop.new_source()
    drop.submit(a, MESSAGE, [("notes.txt", b"Zorin drives a grey Volga.")])
    drop.submit(a, "A second visit.", [])
    drop.submit(b, "Another source writes.", [])
    results, c = _collect(world)
    assert [r["status"] for r in results] == ["added"] * 4
    assert c.summary.submissions == 3 and len(c.summary.new_sources) == 2
    key = read_private_key(world.key, NEWSROOM_KEY)
    crypt = {cryptonym_for(key, s) for s in drop.source_ids()}
    assert set(c.summary.sources) == crypt and all(x.startswith("DROP-") for x in crypt)
    handler = as_user(world, "handler")
    clerk = as_user(world, "clerk")
    try:
        assert {s["cryptonym"] for s in handler.sources()} == crypt
        docs = handler.documents()
        assert len(docs) == 4
        for d in docs:
            full = handler.document(d["id"])
            assert full["label"] == "SECRET//HUM"
        # The source's own "(U)" is history, not a label: a U clerk sees nothing of it.
        assert clerk.documents() == [] and clerk.search("Zorin")["total"] == 0
        assert handler.search("Volga")["total"] == 1
        # The true name is unknown, and said so.
        first = sorted(crypt)[0]
        assert "unknown" in handler.source_show(first)["true_name"]
    finally:
        handler.close()
        clerk.close()


def test_collect_again_ingests_nothing_twice(world: World) -> None:
    drop = world.drop
    a = drop.new_source()
    drop.submit(a, MESSAGE, [])
    drop.submit(a, MESSAGE, [])  # the same words twice: two submissions, two documents
    first, _ = _collect(world)
    assert [r["status"] for r in first] == ["added", "added"]
    again, c = _collect(world)
    assert [r["status"] for r in again] == ["unchanged", "unchanged"]
    assert c.summary.new_sources == [] and c.summary.added == 0
    owner = as_user(world, None)
    try:
        assert owner.stats()["documents"] == 2 and len(owner.sources()) == 1
    finally:
        owner.close()
    # A new submission from the same source joins the same cryptonym.
    drop.submit(a, "More.", [])
    third, c = _collect(world)
    assert [r["status"] for r in third].count("added") == 1 and c.summary.new_sources == []


def test_collect_with_delete_empties_the_drop_of_what_is_stored(world: World) -> None:
    drop = world.drop
    drop.submit(drop.new_source(), MESSAGE, [])
    _, c = _collect(world, delete=True)
    assert c.summary.deleted == 1 and drop.submissions(drop.source_ids()[0]) == []


def test_a_tampered_submission_is_one_error_and_the_rest_go_on(world: World) -> None:
    drop = world.drop
    a = drop.new_source()
    drop.submit(a, "first", [])
    drop.submit(a, "second", [])
    target = drop.submissions(drop.source_ids()[0])[0]
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    results, c = _collect(world, delete=True)
    assert sorted(r["status"] for r in results) == ["added", "error"]
    bad = next(r for r in results if r["status"] == "error")
    assert "[E133]" in str(bad["error"]) and "\n" not in str(bad["error"])
    assert target.exists() and c.summary.deleted == 1  # the damaged one stays for the newsroom to look at


def test_files_with_traversal_names_are_read_under_their_harmless_name(world: World) -> None:
    drop = world.drop
    drop.submit(drop.new_source(), "", [("../../../etc/cron.d/evil.txt", b"Anna Ivanova is the courier.")])
    results, _ = _collect(world)
    (r,) = results
    assert r["status"] == "added" and str(r["source"]).endswith("/evil.txt") and ".." not in str(r["source"])


def test_an_unreadable_file_type_is_one_error_line(world: World) -> None:
    drop = world.drop
    drop.submit(drop.new_source(), "see attached", [("archive.zip", b"PK\x03\x04junk")])
    results, _ = _collect(world)
    assert sorted(r["status"] for r in results) == ["added", "error"]
    err = next(r for r in results if r["status"] == "error")
    assert "[E002]" in str(err["error"]) and "kartoteka-drop-" not in str(err["error"])  # no temp path shown


def test_collect_needs_the_handler_role_before_anything_is_read(world: World) -> None:
    for user in ("reader", "registry", "clerk"):
        arch = as_user(world, user)
        try:
            with pytest.raises(Forbidden) as refused:
                Collector(arch, world.drop_path / "nowhere", world.key, user)
            assert refused.value.code == "E100" and "HANDLER" in refused.value.message
        finally:
            arch.close()
    # The role without the clearance: they may not register a source of the label (E170).
    world.drop.submit(world.drop.new_source(), MESSAGE, [])
    arch = as_user(world, "lowhandler")
    try:
        with pytest.raises(KartotekaError) as uncleared:
            list(Collector(arch, world.drop_path, world.key, "lowhandler").run())
        assert uncleared.value.code == "E170"
        assert arch.documents() == []
    finally:
        arch.close()


def test_a_missing_or_wrong_key_is_one_error(world: World, tmp_path: Path) -> None:
    arch = as_user(world, "handler")
    try:
        with pytest.raises(KartotekaError) as missing:
            Collector(arch, world.drop_path, tmp_path / "gone.key", "handler")
        assert missing.value.code == "E132"
        write_key_pair(tmp_path / "other.key", NEWSROOM_KEY)
        with pytest.raises(KartotekaError) as wrong:
            Collector(arch, world.drop_path, tmp_path / "other.key", "handler")
        assert wrong.value.code == "E132" and "not the newsroom key" in wrong.value.message
    finally:
        arch.close()


def test_the_private_key_is_never_stored_beside_the_archive(world: World) -> None:
    world.drop.submit(world.drop.new_source(), MESSAGE, [])
    _collect(world)
    raw = bytes(read_private_key(world.key, NEWSROOM_KEY))
    for p in world.archive.parent.glob(world.archive.name + "*"):
        data = p.read_bytes()
        assert raw not in data and raw.hex().encode() not in data, p


def test_another_handlers_source_is_a_namesake_to_a_handler_and_not_collected_by_the_owner(world: World) -> None:
    """A handler does not see another's sources, so is not told of one (issue 10): collecting the
    same drop registers a namesake of their own. The owner, who sees both, is refused (E153)."""
    drop = world.drop
    drop.submit(drop.new_source(), MESSAGE, [])
    _collect(world, "other")
    results, c = _collect(world, "handler")
    assert [r["status"] for r in results] == ["added"] and c.problems == []
    for user in ("handler", "other"):
        arch = as_user(world, user)
        try:
            assert [s["handler"] for s in arch.sources()] == [user]
        finally:
            arch.close()
    owner = as_user(world, None)
    try:
        collector = Collector(owner, world.drop_path, world.key, "registry")
        assert list(collector.run()) == [] and len(collector.problems) == 1 and "[E153]" in collector.problems[0]
    finally:
        owner.close()


def _reply_setup(world: World) -> tuple[str, str]:
    drop = world.drop
    codename = drop.new_source()
    drop.submit(codename, MESSAGE, [])
    _, c = _collect(world)
    return codename, c.summary.sources[0]


def test_a_reply_reaches_only_the_source_and_is_kept_in_the_archive(world: World) -> None:
    codename, cryptonym = _reply_setup(world)
    arch = as_user(world, "handler")
    try:
        out = reply(arch, world.drop_path, world.key, cryptonym, "Thank you. Use the drop again on Friday.")
        assert out["cryptonym"] == cryptonym and out["document_id"]
        listing = desk(arch)
    finally:
        arch.close()
    assert [r.text for r in Drop(world.drop_path).replies(codename)] == ["Thank you. Use the drop again on Friday."]
    (entry,) = listing["sources"]
    assert entry["cryptonym"] == cryptonym and len(entry["submissions"]) == 1 and len(entry["replies"]) == 1
    assert entry["replies"][0]["reply"] == out["reply"] and entry["submissions"][0]["day"] == out["day"]


def test_a_reply_is_labelled_as_its_source_is(world: World) -> None:
    # A reply says that someone handles that source: filed at the default
    # S:HUM, a TS handler's reply would be read by every S reader.
    owner = as_user(world, None)
    try:
        owner.add_user("deep", "TS", ["HUM", "HANDLER"])
    finally:
        owner.close()
    drop = world.drop
    drop.submit(drop.new_source(), MESSAGE, [])
    _, c = _collect(world, "deep", label="TS:HUM")
    (cryptonym,) = c.summary.sources
    arch = as_user(world, "deep")
    try:
        out = reply(arch, world.drop_path, world.key, cryptonym, "Received. Wait for the signal.")
        doc = arch.document(out["document_id"])
        assert doc["label"] == "TOP SECRET//HUM", doc.keys()
    finally:
        arch.close()
    lower = as_user(world, "handler")  # cleared for S:HUM
    try:
        assert out["document_id"] not in {d["id"] for d in lower.documents(limit=1000)}
    finally:
        lower.close()


def test_the_sources_own_codename_is_refused_as_a_reply_target(world: World) -> None:
    codename, _ = _reply_setup(world)
    arch = as_user(world, "handler")
    try:
        for target in (codename, codename.upper(), "-".join(codename.split()), " ".join(codename.split()[:5])):
            with pytest.raises(KartotekaError) as refused:
                reply(arch, world.drop_path, world.key, target, "hello")
            assert refused.value.code == "E131"
            assert codename.split()[0] not in refused.value.message  # and never repeated back
        with pytest.raises(NotFound):
            reply(arch, world.drop_path, world.key, "DROP-AAAAAAAAAA", "hello")
        with pytest.raises(KartotekaError) as empty:
            reply(arch, world.drop_path, world.key, "DROP-AAAAAAAAAA", "  ")
        assert empty.value.code == "E134"
    finally:
        arch.close()
    assert Drop(world.drop_path).replies(codename) == []


def test_replies_and_the_desk_are_for_handlers_only(world: World) -> None:
    _, cryptonym = _reply_setup(world)
    for user in ("reader", "clerk", "registry"):
        arch = as_user(world, user)
        try:
            with pytest.raises(Forbidden):
                reply(arch, world.drop_path, world.key, cryptonym, "hello")
            with pytest.raises(Forbidden):
                desk(arch)
        finally:
            arch.close()
    # Another handler sees none of this handler's sources, and cannot reply to them.
    arch = as_user(world, "other")
    try:
        assert desk(arch) == {"sources": []}
        with pytest.raises(NotFound):
            reply(arch, world.drop_path, world.key, cryptonym, "hello")
    finally:
        arch.close()
