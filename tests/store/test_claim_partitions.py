"""Schema 13: a derived claim carries its passage's label partition, and a
viewer's claims are read through the partition indexes only, so the facts of
a dossier cost the same however many hidden claims name the entity."""

from __future__ import annotations

from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument

OPEN = "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"
SECRET = "(S//HUM) Colonel Arkady Zorin met Boris Kovalenko in Vienna in May 1979.\n"


def test_claims_are_read_by_partition(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    owner = Archive(path)
    list(owner.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
    list(owner.ingest([RawDocument("secret.txt", "txt", "test.v1", SECRET)], label="S:HUM"))
    owner.build_relations()
    assert owner.derive_claims()["claims"] >= 2
    owner.add_user("ivan", "U", [])
    zorin = owner.check("Arkady Zorin")["matches"][0]["entity_id"]
    store = owner._store
    assert store.db.execute("SELECT count(*) FROM claims WHERE partition_id IS NULL").fetchone()[0] == 0
    owner.close()

    ivan = Archive(path, user="ivan")
    try:
        parts = ivan._ctx.visible_partitions()
        assert parts is not None
        rows = ivan._store.claims_about(zorin, parts)
        everything = ivan._store.claims_about(zorin)
        assert 0 < len(rows) < len(everything)  # the hidden claim is not even read
        facts = ivan.dossier(zorin)["facts"]
        assert facts and not any("Kovalenko" in f["fact"] for f in facts)
        # Every branch of the query seeks a partition index, never the subject
        # index alone (which would walk the entity's hidden claims).
        marks = ",".join("?" * len(parts))
        by_s, by_o = "claims INDEXED BY claims_partition_subject", "claims INDEXED BY claims_partition_object"
        plan = ivan._store.db.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM {by_s} WHERE partition_id IN ({marks}) AND subject_id=?"
            f" UNION SELECT id FROM {by_o} WHERE partition_id IN ({marks}) AND object_id=?",
            (*parts, zorin, *parts, zorin),
        ).fetchall()
        searches = [str(r[3]) for r in plan if "SEARCH" in str(r[3])]
        assert searches and all("claims_partition_" in s for s in searches), searches
    finally:
        ivan.close()
