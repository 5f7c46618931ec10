"""Boilerplate learned from the collection: masked from the card index, kept in text and search."""

from __future__ import annotations

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument

# A review stamp naming a reviewer, on every document of a fictional release.
STAMP = "Проверено для рассекречивания: Борис Соколов, отдел архивов"
BODY = ["Аркадий Зорин", "Елена Ветрова", "Григорий Бортник", "Пётр Калмыков", "Олег Миронов", "Ирина Лебедева"]


def _docs(stamp: str, label_suffix: str = "") -> list[RawDocument]:
    return [
        RawDocument(
            f"release{label_suffix}-{i}.txt",
            "text",
            "kartoteka.reader.text.v1",
            f"{stamp}\n\nДонесение {i}: {name} встретился с агентом в Лиссабоне.\n",
        )
        for i, name in enumerate(BODY)
    ]


def _people(arch: Archive) -> set[str]:
    store = arch._store
    db = store.db  # type: ignore[attr-defined]
    return {r[0] for r in db.execute("SELECT DISTINCT m.text FROM mentions m WHERE m.kind='PERSON'").fetchall()}


def test_a_recurring_line_is_learned_and_earlier_documents_are_corrected(archive: Archive) -> None:
    results = list(archive.ingest(iter(_docs(STAMP))))
    assert all(r.status == "added" for r in results)
    people = _people(archive)
    # The reviewer of the stamp is nobody's card, not even in the first four
    # documents read before the line was learned.
    assert not any("Соколов" in p for p in people), people
    assert any("Зорин" in p for p in people) and any("Миронов" in p for p in people)
    assert all(m["score"] < 0.7 for m in archive.check("Борис Соколов")["matches"])
    # The stamp stays in the stored text and in search.
    assert archive.search("Соколов")["total"] == len(BODY)
    shown = archive.document(results[0].document_id or "")
    assert any(m["kind"] == "boilerplate" for m in shown["markings"])


def test_a_line_seen_in_too_few_documents_is_content(archive: Archive) -> None:
    list(archive.ingest(iter(_docs(STAMP)[:3])))
    assert any("Соколов" in p for p in _people(archive))


def test_recurrence_is_counted_per_label(archive: Archive) -> None:
    # Four copies under SECRET and two under U: neither partition reaches five,
    # so a U reader never sees a line flagged because of documents they cannot read.
    docs = _docs(STAMP)
    list(archive.ingest(iter(docs[:4]), label="S"))
    list(archive.ingest(iter(docs[4:])))
    assert any("Соколов" in p for p in _people(archive))
