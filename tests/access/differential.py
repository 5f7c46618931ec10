"""A differential harness for compartments: two archives a low user must not tell apart.

`World` is an archive built from a list of documents. Two worlds that hold
the same visible documents, one of them with hidden material besides, must
give a low user the same bytes on every read path (`read_everything`). The
two archives share their secret, so keyed ids agree where their material
does; ids are still compared up to a consistent renaming, because a
document that holds a hidden paragraph is keyed by its whole text and so
has another id in the world without it (it is not computable from content
by the viewer, see `store.keyed_id`).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.registry.readers import PageText, RawDocument
from kartoteka.store.location import Location, side_path
from tests.backends import Where, pg_location

LOW = "ivan"
PASSWORD = "ivan's long passphrase"

_ID = re.compile(r"\b[a-z]{2,4}-[0-9a-f]{16}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


@dataclass(frozen=True)
class Doc:
    source: str
    text: str
    label: str = "U"
    paged: bool = False  # pages are separated by form feeds in `text`

    def raw(self) -> RawDocument:
        pages: list[PageText] = []
        if self.paged:
            start = 0
            for n, page in enumerate(self.text.split("\f"), start=1):
                pages.append(PageText(n, start, start + len(page), "text"))
                start += len(page) + 1
        return RawDocument(source=self.source, format="txt", reader="test.v1", text=self.text, pages=tuple(pages))


@dataclass
class World:
    docs: list[Doc]
    imports: list[tuple[str, str]] = field(default_factory=list)  # (id, name) of a watch list


def make_base(folder: Path, where: Where | None = None) -> Location:
    """An empty archive with its secret and a U user, to copy into each world."""
    folder.mkdir(parents=True, exist_ok=True)
    path = where(folder, "base.db") if where else folder / "base.db"
    arch = Archive(path)
    arch.add_user(LOW, "U", [], PASSWORD)
    arch.close()
    return path


def _copy_pg(base: str, folder: Path) -> str:
    """A new PostgreSQL archive with the base's secret and users (a schema can't be copied as a file)."""
    from kartoteka.store.location import parse
    from kartoteka.store.postgres import PostgresStore

    url = pg_location(base.split("?", 1)[0], folder, "world.db")
    PostgresStore(url).close()  # the schema, before an Archive binds its trail to the new secret
    libpq, schema, _keys = parse(url)
    from_schema = parse(base)[1]
    with psycopg.connect(libpq, autocommit=True) as db, db.transaction():
        db.execute(f"DELETE FROM {schema}.archive_secret")
        db.execute(f"INSERT INTO {schema}.archive_secret(secret) SELECT secret FROM {from_schema}.archive_secret")
        db.execute(
            f"INSERT INTO {schema}.users(name, clearance, tokens, password_hash, created_at)"
            f" SELECT name, clearance, tokens, password_hash, created_at FROM {from_schema}.users ORDER BY rowid"
        )
    return url


def build(base: Location, folder: Path, world: World) -> Location:
    """The world's archive: a copy of `base` (same secret, same users) with its documents."""
    if folder.exists():
        shutil.rmtree(folder)
    path: Location
    if isinstance(base, str):
        folder.mkdir(parents=True)
        path = _copy_pg(base, folder)
    else:
        shutil.copytree(base.parent, folder)
        path = folder / base.name
    arch = Archive(path)
    try:
        if world.imports:
            csv = folder / "watch.csv"
            csv.write_text("id,name\n" + "".join(f"{i},{n}\n" for i, n in world.imports), encoding="utf-8")
            list(arch.import_persons(csv))
        for d in world.docs:
            results = list(arch.ingest([d.raw()], label=d.label))
            # "unchanged": the same text again (a generated world may repeat itself).
            assert [r.status for r in results] in (["added"], ["unchanged"]), results
        arch.build_relations()
        arch.derive_claims()
    finally:
        arch.close()
    return path


def _answer(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except KartotekaError as exc:
        return {"error": exc.code, "message": exc.message}


def _ids(value: Any) -> list[str]:
    return _ID.findall(json.dumps(value, ensure_ascii=False))


def read_everything(path: Location, names: Iterable[str], words: Iterable[str], user: str | None = LOW) -> str:
    """Every read a viewer can make, as one canonical text: ids renamed in order of
    first appearance, timestamps blanked, the archive's own path dropped."""
    arch = Archive(path, user=user)
    out: list[tuple[str, Any]] = []
    try:
        stats = arch.stats()
        stats.pop("archive", None)
        out.append(("stats", stats))
        docs = arch.documents(limit=10_000)
        out.append(("documents", docs))
        for sort in ("mentions", "records", "name"):
            out.append(("cards", arch.cards(sort=sort, limit=500)))
            out.append(("unconfirmed cards", arch.cards(sort=sort, limit=500, unconfirmed=True)))
        for d in docs:
            out.append(("show", _answer(lambda d=d: arch.document(d["id"]))))
            out.append(("release", _answer(lambda d=d: arch.release(d["id"], LOW, "txt")[0].decode())))
        for w in words:
            out.append(("search", _answer(lambda w=w: arch.search(w, limit=50))))
            faceted = _answer(lambda w=w: arch.search(w, limit=50, with_facets=True))
            out.append(("search facets", faceted))
            # Each facet value chosen in turn: the narrowed totals and hits too.
            for name, values in (faceted.get("facets") or {}).items():
                for item in values:
                    chosen = {name: str(item["value"])}
                    out.append(("search narrowed", _answer(lambda w=w, c=chosen: arch.search(w, limit=50, chosen=c))))
        names = list(names)
        for n in names:
            out.append(("check", _answer(lambda n=n: arch.check(n, limit=20))))
        out.append(("batch", list(arch.check_batch([(str(i), n) for i, n in enumerate(names)], limit=20))))
        entities: list[str] = []
        for _, value in out:
            entities.extend(e for e in _ids(value) if not e.startswith("doc-") and e not in entities)
        for e in entities:
            out.append(("dossier", _answer(lambda e=e: arch.dossier(e))))
            out.append(("network", _answer(lambda e=e: arch.network(e, depth=2))))
            out.append(("timeline", _answer(lambda e=e: arch.timeline(e))))
            out.append(("associates", _answer(lambda e=e: arch.associates(e))))
            out.append(("assess", _answer(lambda e=e: arch.assess(e))))
        for a, b in itertools.pairwise(entities):
            out.append(("links", _answer(lambda a=a, b=b: arch.links(a, b))))
            out.append(("cooccur", _answer(lambda a=a, b=b: arch.cooccur(a, b))))
    finally:
        arch.close()
    return canonical(out, path)


def canonical(answers: list[tuple[str, Any]], path: Location) -> str:
    """Answers as one text: ids renamed in order of first appearance, timestamps
    blanked, the archive's own folder (a PostgreSQL archive's: its keys folder) named ARCHIVE."""
    text = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in answers)
    text = text.replace(str(side_path(path).parent), "ARCHIVE")
    renamed: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        return renamed.setdefault(m.group(0), f"{m.group(0)[:3]}#{len(renamed)}")

    return _TIME.sub("TIME", _ID.sub(rename, text))


def ids_in(value: Any) -> list[str]:
    """Entity and document ids in an answer, in order of first appearance."""
    return list(dict.fromkeys(_ids(value)))


def first_difference(a: str, b: str) -> str:
    """The first differing line of two answers, for a readable failure."""
    for x, y in zip(a.splitlines(), b.splitlines(), strict=False):
        if x != y:
            return f"\n- {x[:600]}\n+ {y[:600]}"
    return f"\n(lengths differ: {len(a.splitlines())} vs {len(b.splitlines())} lines)"
