"""The `Archive` facade: opens the store once, builds the viewer's context, delegates.

Each public method is one line handing the question to the module that
answers it; the docstrings are there, beside the logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kartoteka.access.audit import AuditLog
from kartoteka.access.labels import OWNER
from kartoteka.access.policy import Policy
from kartoteka.archive import backup as backups
from kartoteka.archive import transfer
from kartoteka.archive.analysis import Analysis
from kartoteka.archive.cards import Cards
from kartoteka.archive.claims import Claims
from kartoteka.archive.common import Context, clearance_of
from kartoteka.archive.corrections import Corrections
from kartoteka.archive.documents import Documents
from kartoteka.archive.imports import Imports
from kartoteka.archive.release import Releases
from kartoteka.archive.sources import DEFAULT_SOURCE_LABEL, Sources
from kartoteka.archive.users import Users
from kartoteka.errors import E, NotFound
from kartoteka.index.extract import SpanRunner
from kartoteka.registry.ingest import IngestResult
from kartoteka.registry.readers import RawDocument, ReadError
from kartoteka.release import ReleaseCopy
from kartoteka.store import open_store
from kartoteka.store.base import Store
from kartoteka.store.location import Location, display, is_postgres, side_path
from kartoteka.store.transfer import Progress


class Archive:
    """One archive as one viewer sees it.

    `user` names a user of the archive; without it the archive owner, who
    holds everything. Every read goes through the viewer's policy in the
    shared `Context`; nothing else in the package reads the store.
    """

    def __init__(self, path: str | Path, user: str | None = None) -> None:
        # A file path, or a postgresql:// URL (kept as given: it is how to open the archive again).
        self.path: Location = path if is_postgres(path) else Path(path)
        self._store: Store = open_store(self.path)
        if user is None:
            clearance, actor = OWNER, "owner"
        else:
            row = self._store.user(user)
            if row is None:
                self._store.close()
                raise NotFound(E.E040, name=user)
            clearance = clearance_of(row)
            actor = user
        # The side files (keys, anchors, segments) lie beside a file, or in the keys folder of a URL.
        side = side_path(self.path)
        ctx = Context(side, self._store, Policy(self._store, clearance, actor), AuditLog(self._store, side))
        ctx.location = str(self.path) if not is_postgres(self.path) else display(str(self.path))
        ctx.target = self.path
        self._ctx = ctx
        self._cards = Cards(ctx)
        self._corrections = Corrections(ctx)
        self._imports = Imports(ctx, self._cards.recorded)
        self._documents = Documents(ctx, self._cards)
        self._analysis = Analysis(ctx, self._cards)
        self._claims = Claims(ctx, self._cards)
        self._releases = Releases(ctx)
        self._sources = Sources(ctx)
        self._users = Users(ctx)

    @staticmethod
    def login(path: str | Path, user: str, password: str) -> bool:
        return Users.login(path, user, password)

    def refresh(self) -> None:
        self._ctx.refresh()

    @property
    def actor(self) -> str:
        return self._ctx.actor

    def alive(self) -> bool:
        """Are the archive's connections usable? A server reopens an archive that is not."""
        return self._store.alive() and self._ctx.audit.trail.alive()

    def close(self) -> None:
        try:
            self._ctx.audit.anchor()
        finally:
            self._ctx.audit.close()
            self._store.close()

    # documents ---------------------------------------------------------------
    def ingest(
        self,
        items: Iterable[RawDocument | ReadError],
        *,
        workers: int = 1,
        label: str | None = None,
        markings: str = "enforce",
        action: str = "ingest",
        ner: SpanRunner | None = None,
    ) -> Iterator[IngestResult]:
        return self._documents.ingest(items, workers=workers, label=label, markings=markings, action=action, ner=ner)

    def stats(self) -> dict[str, Any]:
        return self._documents.stats()

    def documents(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        return self._documents.documents(limit, offset)

    def document(self, document_id: str) -> dict[str, Any]:
        return self._documents.document(document_id)

    def search(
        self,
        query: str,
        limit: int = 20,
        offset: int = 0,
        chosen: Mapping[str, str] | None = None,
        with_facets: bool = False,
    ) -> dict[str, Any]:
        return self._documents.search(query, limit, offset, chosen, with_facets)

    # cards -------------------------------------------------------------------
    def check(self, name: str, limit: int = 10) -> dict[str, Any]:
        return self._cards.check(name, limit)

    def check_batch(
        self, rows: Iterable[tuple[str, str]], limit: int = 5, workers: int = 1, ray_actors: int = 0
    ) -> Iterator[dict[str, Any]]:
        return self._cards.check_batch(rows, limit, workers, ray_actors)

    def resolve_ref(self, ref: str) -> str:
        return self._cards.resolve_ref(ref)

    def cards(
        self,
        kind: str | None = None,
        sort: str = "mentions",
        limit: int = 50,
        offset: int = 0,
        unconfirmed: bool = False,
    ) -> dict[str, Any]:
        return self._cards.cards(kind, sort, limit, offset, unconfirmed)

    def dossier(self, ref: str, associates: int = 10) -> dict[str, Any]:
        d = self._cards.dossier(ref, associates, self._claims.facts)
        d["marked"] = self._analysis.marked(str(d["entity_id"]))
        return d

    def merge(self, keep_ref: str, gone_ref: str) -> dict[str, Any]:
        return self._corrections.merge(keep_ref, gone_ref)

    def split(self, ref: str, mention_keys: list[str]) -> dict[str, Any]:
        return self._corrections.split(ref, mention_keys)

    def alias(self, ref: str, name: str, label: str | None = None) -> dict[str, Any]:
        return self._corrections.alias(ref, name, label)

    def import_persons(self, path: Path) -> Iterator[dict[str, Any]]:
        return self._imports.import_persons(path)

    # analysis ----------------------------------------------------------------
    def build_relations(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        return self._analysis.build_relations(progress)

    def links(
        self, a_ref: str, b_ref: str, since: str | None = None, until: str | None = None, max_paths: int = 10
    ) -> dict[str, Any]:
        return self._analysis.links(a_ref, b_ref, since, until, max_paths)

    def network(self, ref: str, depth: int = 1) -> dict[str, Any]:
        return self._analysis.network(ref, depth)

    def cooccur(self, a_ref: str, b_ref: str) -> dict[str, Any]:
        return self._analysis.cooccur(a_ref, b_ref)

    def associates(self, ref: str, limit: int = 20) -> dict[str, Any]:
        return self._analysis.associates(ref, limit)

    def timeline(self, ref: str) -> dict[str, Any]:
        return self._analysis.timeline(ref)

    def grade(
        self, document_id: str, reliability: str, credibility: int, reported_by: str | None = None
    ) -> dict[str, Any]:
        return self._claims.grade(document_id, reliability, credibility, reported_by)

    def claim(
        self,
        subject_ref: str,
        statement: str,
        source: str,
        reliability: str,
        credibility: int,
        document_id: str | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        return self._claims.claim(subject_ref, statement, source, reliability, credibility, document_id, label)

    def derive_claims(self) -> dict[str, Any]:
        return self._claims.derive_claims()

    def assess(self, ref: str) -> dict[str, Any]:
        return self._claims.assess(ref)

    # release -----------------------------------------------------------------
    def release_copy(self, document_id: str, audience: str, exempt: str | None = None) -> ReleaseCopy:
        return self._releases.release_copy(document_id, audience, exempt)

    def release(
        self, document_id: str, audience: str, fmt: str, exempt: str | None = None
    ) -> tuple[bytes, str, ReleaseCopy]:
        return self._releases.release(document_id, audience, fmt, exempt)

    def verify_release(self, path: Path, document_id: str, audience: str | None = None) -> dict[str, Any]:
        return self._releases.verify_release(path, document_id, audience)

    # protected sources -------------------------------------------------------
    def source_add(
        self,
        cryptonym: str,
        true_name: str,
        handler: str,
        label: str = DEFAULT_SOURCE_LABEL,
        action: str = "source add",
    ) -> dict[str, Any]:
        return self._sources.source_add(cryptonym, true_name, handler, label, action)

    def source_show(self, cryptonym: str, source_id: str | None = None) -> dict[str, Any]:
        return self._sources.source_show(cryptonym, source_id)

    def sources(self) -> list[dict[str, Any]]:
        return self._sources.sources()

    def source_handover(self, cryptonym: str, new_handler: str, source_id: str | None = None) -> dict[str, Any]:
        return self._sources.source_handover(cryptonym, new_handler, source_id)

    def require(self, action: str) -> None:
        """Refuse `action` (a key of `access.roles.ACTIONS`) unless the viewer holds its role.

        For writes made of other writes (`drop collect` registers sources and
        ingests; kartoteka/channels/): refused before anything is read.
        """
        self._ctx.require(action)

    # users and audit ---------------------------------------------------------
    def add_user(self, name: str, clearance: str, tokens: list[str], password: str | None = None) -> dict[str, Any]:
        return self._users.add_user(name, clearance, tokens, password)

    def users(self) -> list[dict[str, Any]]:
        return self._users.users()

    def create_token(self, user: str, name: str, scopes: str, days: float = 90) -> dict[str, Any]:
        return self._users.create_token(user, name, scopes, days)

    def tokens(self) -> list[dict[str, Any]]:
        return self._users.tokens()

    def revoke_token(self, ident: str) -> dict[str, Any]:
        return self._users.revoke_token(ident)

    def audit_verify(self) -> dict[str, Any]:
        return self._users.audit_verify()

    def audit_compact(self, keep: int = 0) -> dict[str, Any]:
        """Seal old audit entries into a signed segment file (owner only; access/segments.py)."""
        self._ctx.owner_only("compact the audit log")
        return self._ctx.audit.compact(keep)

    def audit_anchor(self) -> dict[str, Any]:
        """Sign the audit head now (a cron job or a server's timer); nothing if it is already anchored."""
        self._ctx.owner_only("anchor the audit log")
        return {"anchored": self._ctx.audit.anchor()}

    def corrections(self) -> list[dict[str, Any]]:
        return self._users.corrections()

    # export, import and backup (archive/transfer.py; owner only) ---------------
    def export(self, dest: Path, with_keys: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """Write the whole archive to the folder `dest` (the sources' key only `with_keys`)."""
        return transfer.export_archive(self._ctx, dest, with_keys, progress)

    def backup(self, dest: Path, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        """A consistent copy of the archive, its audit trail and keys in the folder `dest`."""
        return backups.backup_archive(self._ctx, dest, progress)

    @staticmethod
    def import_export(source: Path, target: Location, progress: Progress | None = None) -> dict[str, Any]:
        """Load an export folder into the empty (or missing) archive `target`, then open it as
        every command does (which finishes the import's renames) and log the import in its trail."""
        result = transfer.import_archive(source, target, progress)
        arch = Archive(target)
        try:
            arch._ctx.audit.record(arch.actor, "import archive", [], detail=str(source))
        finally:
            arch.close()
        return result
