"""The handler's side of the drop: collect submissions into the archive, reply, list.

`collect` opens each sealed submission with the newsroom's private key (a
file the handler keeps offline and names on the command line; the archive
never holds it), registers each new drop source under a cryptonym of its
own and ingests what it sent, labelled (default `S:HUM`). Everything goes
through the `Archive` facade, as the HANDLER it is run as (access/roles.py).

A source's cryptonym is `DROP-` and ten base-32 letters of a BLAKE2b MAC of
its drop folder's name, keyed by the newsroom key: the same source always
gets the same cryptonym, so collecting again registers nothing twice, and
without the key no one can tie a cryptonym to a folder of the drop. A
collect that is run again ingests nothing twice either: the documents'
texts are fixed by the submission (its id, the source, the day) and ingest
skips stored content.

Portion marks in what a source sends are kept as history, never as labels
(`markings="record"`): a `(U)` typed by a source must not open its
paragraph to uncleared readers.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

from kartoteka.access.labels import Label
from kartoteka.archive import Archive
from kartoteka.archive.sources import DEFAULT_SOURCE_LABEL
from kartoteka.channels import codename as cn
from kartoteka.channels.drop_store import NEWSROOM_KEY, Drop, open_submission, read_private_key, safe_name
from kartoteka.channels.sealing import today
from kartoteka.errors import E, InvalidInput, KartotekaError, NotFound
from kartoteka.registry.readers import RawDocument, ReadError, read_path

READER = "kartoteka.channels.drop.v1"
SUBMISSION = "drop:"
REPLY = "drop-reply:"
# The true name of a drop source is the one thing the newsroom does not know.
UNKNOWN_TRUE_NAME = "unknown (a drop source; only the source holds its codename)"


def cryptonym_for(key: PrivateKey, source_id: str) -> str:
    mac = hashlib.blake2b(bytes.fromhex(source_id), key=bytes(key), person=b"kartoteka-drop", digest_size=10)
    return "DROP-" + base64.b32encode(mac.digest()).decode()[:10]


def newsroom_key(drop: Drop, key_path: Path) -> PrivateKey:
    key = read_private_key(key_path, NEWSROOM_KEY)
    if key.public_key != drop.newsroom:
        raise InvalidInput(E.E132, path=key_path, reason="not the newsroom key of this drop")
    return key


@dataclass
class CollectSummary:
    submissions: int = 0
    sources: list[str] = field(default_factory=list)
    new_sources: list[str] = field(default_factory=list)
    added: int = 0
    unchanged: int = 0
    errors: int = 0
    deleted: int = 0

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Collector:
    """One collection of a drop into an archive, as `handler`."""

    def __init__(
        self,
        archive: Archive,
        drop_path: Path,
        key_path: Path,
        handler: str,
        label: str = DEFAULT_SOURCE_LABEL,
        delete: bool = False,
    ) -> None:
        archive.require("drop collect")  # first: the refusal depends on the author alone
        self.archive = archive
        self.drop = Drop(drop_path)
        self.key = newsroom_key(self.drop, key_path)
        self.handler = handler
        self.label = label
        self.delete = delete
        self.summary = CollectSummary()
        self.problems: list[str] = []  # one line each: sources that could not be collected

    def _register(self, cryptonym: str) -> bool:
        try:
            self.archive.source_add(cryptonym, UNKNOWN_TRUE_NAME, self.handler, self.label, action="drop collect")
            self.summary.new_sources.append(cryptonym)
            return True
        except KartotekaError as exc:
            if exc.code != "E049":
                raise
        # Registered before, and the registrar may see it (E049 says nothing of sources they
        # may not, archive/sources.py): by this collection's handler (collect again), or by
        # another handler, which only a registry chief sees. A source of this cryptonym that
        # the handler may not see is no answer: they were given a namesake of their own above.
        mine = any(s["cryptonym"] == cryptonym and s["handler"] == self.handler for s in self.archive.sources())
        if not mine:
            self.problems.append(KartotekaError(E.E153, cryptonym=cryptonym).message)
        return mine

    def pending(self) -> list[tuple[str, Path]]:
        """(cryptonym, sealed file) of every submission in the drop, sources registered on the way."""
        out: list[tuple[str, Path]] = []
        for source_id in self.drop.source_ids():
            files = self.drop.submissions(source_id)
            if not files:
                continue
            cryptonym = cryptonym_for(self.key, source_id)
            if self._register(cryptonym):
                self.summary.sources.append(cryptonym)
                out.extend((cryptonym, f) for f in files)
        self.summary.submissions = len(out)
        return out

    def _documents(
        self, pending: list[tuple[str, Path]], owner: dict[str, Path], tick: Callable[[], None]
    ) -> Iterator[RawDocument | ReadError]:
        for cryptonym, path in pending:
            sub_id = path.stem
            where = f"{SUBMISSION}{cryptonym}/{sub_id}"
            try:
                sub = open_submission(path.read_bytes(), self.key)
            except (ValueError, OSError):
                owner[where] = path
                yield ReadError(where, KartotekaError(E.E133, path=path).message)
                tick()
                continue
            if sub.message.strip():
                source = f"{where}/message.txt"
                owner[source] = path
                head = f"Drop submission {sub_id} from source {cryptonym}, received {sub.day}."
                yield RawDocument(source, "text", READER, f"{head}\n\n{sub.message}", title=f"{cryptonym} {sub.day}")
            for name, data in sub.files:
                yield from self._file_documents(where, name, data, path, owner)
            tick()

    def _file_documents(
        self, where: str, name: str, data: bytes, path: Path, owner: dict[str, Path]
    ) -> Iterator[RawDocument | ReadError]:
        # The registry's readers read paths: the file goes, under its harmless
        # name, into a private folder that is removed as soon as it is read.
        source = f"{where}/{safe_name(name)}"
        owner[source] = path
        with tempfile.TemporaryDirectory(prefix="kartoteka-drop-") as tmp:
            file_path = Path(tmp) / safe_name(name)
            file_path.write_bytes(data)
            for n, doc in enumerate(read_path(file_path, ocr="auto")):
                named = source if n == 0 else f"{source}#{n + 1}"
                owner[named] = path
                if isinstance(doc, ReadError):
                    yield ReadError(named, doc.message.replace(str(file_path), named))
                else:
                    yield dataclasses.replace(doc, source=named)

    def run(
        self, pending: list[tuple[str, Path]] | None = None, tick: Callable[[], None] = lambda: None
    ) -> Iterator[dict[str, Any]]:
        """Ingest every pending submission; one result per document (the shape of `ingest --json`,
        with the source's `cryptonym`). `tick` is called once per submission read."""
        pending = self.pending() if pending is None else pending
        owner: dict[str, Path] = {}
        failed: set[Path] = set()
        docs = self._documents(pending, owner, tick)
        for result in self.archive.ingest(docs, label=self.label, markings="record", action="drop collect"):
            out = result.as_json()
            out["cryptonym"] = result.source[len(SUBMISSION) :].split("/", 1)[0]
            if result.status == "added":
                self.summary.added += 1
            elif result.status == "unchanged":
                self.summary.unchanged += 1
            else:
                self.summary.errors += 1
                failed.add(owner.get(result.source, Path()))
            yield out
        if self.delete:
            # Only what is wholly in the archive leaves the drop.
            for _, path in pending:
                if path not in failed:
                    path.unlink(missing_ok=True)
                    self.summary.deleted += 1


def _source_id(drop: Drop, key: PrivateKey, cryptonym: str) -> str:
    for source_id in drop.source_ids():
        if cryptonym_for(key, source_id) == cryptonym:
            return source_id
    raise NotFound(E.E047, cryptonym=cryptonym)


def reply(
    archive: Archive,
    drop_path: Path,
    key_path: Path,
    target: str,
    text: str,
    label: str | None = None,
) -> dict[str, Any]:
    """Seal a reply to a drop source (by its cryptonym) and keep a copy in the archive.

    The copy is labelled as the source is (the join of the labels of the
    sources of that cryptonym the handler runs), unless `label` says
    otherwise: a reply says who is handled, so a default below the source's
    label would write a TS handler's reply down where S readers see it.

    A codename is refused as a target before anything else is done with it:
    it is the source's secret, and a handler who types it has already put it
    somewhere it should not be (a shell history, a terminal log).
    """
    if cn.looks_like_codename(target):
        raise InvalidInput(E.E131)
    archive.require("drop reply")
    if not text.strip():
        raise InvalidInput(E.E134, reason="the reply is empty")
    labels = [str(s["label"]) for s in archive.sources() if s["cryptonym"] == target]
    if not labels:
        raise NotFound(E.E047, cryptonym=target)  # not a source this user handles (or may run)
    if label is None:
        label = str(Label.join([Label.parse(x) for x in labels]))
    drop = Drop(drop_path)
    key = newsroom_key(drop, key_path)
    path = drop.add_reply(_source_id(drop, key, target), text)
    day = today().isoformat()
    source = f"{REPLY}{target}/{path.stem}"
    doc = RawDocument(source, "text", READER, f"Reply to drop source {target}, {day}.\n\n{text}", title=source)
    results = list(archive.ingest([doc], label=label, markings="record", action="drop reply"))
    return {"cryptonym": target, "reply": path.stem, "day": day, "document_id": results[0].document_id}


def desk(archive: Archive) -> dict[str, Any]:
    """What the drop sent and what was replied, for a handler: the sources they handle (all, for the
    registry chief and the owner), each with its submissions' and replies' documents.

    A pure read through the facade, for the web application to serve:
    `{"sources": [{"cryptonym", "handler", "submissions": [{"document_id", "source", "submission", "day"}],
    "replies": [{"document_id", "source", "reply", "day"}]}]}`, sources by cryptonym, items by id.
    """
    archive.require("drop list")
    # Namesakes the viewer may see (archive/sources.py) are one entry, their handlers joined: a
    # drop's cryptonym is its folder's, so two handlers who collected the same drop share it,
    # and a submission's document names the cryptonym alone.
    sources: dict[str, set[str]] = {}
    for s in archive.sources():
        sources.setdefault(s["cryptonym"], set()).add(s["handler"])
    out: dict[str, dict[str, Any]] = {
        c: {"cryptonym": c, "handler": ", ".join(sorted(h)), "submissions": [], "replies": []}
        for c, h in sorted(sources.items())
    }
    for d in archive.documents(limit=10**9):
        src = str(d["source"])
        for prefix, kind, key in ((SUBMISSION, "submissions", "submission"), (REPLY, "replies", "reply")):
            if src.startswith(prefix):
                cryptonym, _, rest = src[len(prefix) :].partition("/")
                item_id = rest.split("/", 1)[0]
                if cryptonym in out:
                    out[cryptonym][kind].append(
                        {"document_id": d["id"], "source": src, key: item_id, "day": item_id[:10]}
                    )
    for entry in out.values():
        entry["submissions"].sort(key=lambda i: (i["submission"], i["source"]))
        entry["replies"].sort(key=lambda i: (i["reply"], i["source"]))
    return {"sources": list(out.values())}
