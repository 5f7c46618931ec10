"""Known persons imported from a file (CSV id,name,aliases or FollowTheMoney JSON lines)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kartoteka.archive.cards import RECORD_KEY
from kartoteka.archive.common import Context
from kartoteka.errors import E, InvalidInput, KartotekaError
from kartoteka.names.parse import parse_name


class Imports:
    """The REGISTRY role's import of known persons, answered from the importer's view."""

    def __init__(self, ctx: Context, recorded: Callable[[str], list[str]]) -> None:
        self.ctx = ctx
        # Cards.recorded: the visible cards bearing a record id, as the dossier looks them up.
        self.recorded = recorded

    def import_persons(self, path: Path) -> Iterator[dict[str, Any]]:
        """Load known persons (CSV id,name,aliases or FollowTheMoney JSON lines).

        Yields one result per record; bad records are reported and skipped.
        Re-importing adds nothing new. The owner's imports keep the file's
        ids. Anyone else's answer is computed from what they may see: a record
        joins a visible card that bears its id, else it becomes a card of the
        importer's own, whose id is keyed with the file's id and the importer
        (never the file's id itself, which a hidden card may hold), so that
        "added" or "unchanged" says nothing about hidden cards. The file's id
        is kept as `record_id`, and `dossier RECORD_ID` finds the card.
        """
        self.ctx.require("import")
        return self._import_persons(path)

    def _import_persons(self, path: Path) -> Iterator[dict[str, Any]]:
        ctx = self.ctx
        suffix = path.suffix.lower()
        if suffix == ".csv":
            records = _csv_persons(path)
        elif suffix in (".json", ".jsonl", ".ndjson", ".ftm"):
            records = _ftm_persons(path)
        else:
            raise InvalidInput(E.E032, path=path)
        rows = list(_guarded(records, path))
        # Which records name a card the importer may see, looked up before
        # anything is written: visibility is computed once, not once a record.
        known = {r[0]: self.recorded(r[0]) for r in rows if not isinstance(r, str)}
        made: dict[str, str] = {}  # record id -> card, for a record given twice
        for rec in rows:
            if isinstance(rec, str):
                yield {"status": "error", "error": rec}
                continue
            eid, names = rec
            parsed = [parse_name(n) for n in names]
            if not names or parsed[0].is_empty:
                yield {
                    "entity_id": eid,
                    "status": "error",
                    "error": KartotekaError(E.E024, name=names[0] if names else "").message,
                }
                continue
            record_id = eid
            target = made.get(record_id) or next(iter(known[record_id]), None)
            if target is not None:
                eid = target
            elif not ctx.policy.is_owner:
                eid = ctx.store.keyed_id("per", f"import:{record_id}\x00{ctx.actor}\x00{ctx.policy.clearance.key}")
            # A card of the importer's own that they can no longer see is
            # theirs from an earlier import: it is not made twice.
            existing = target is not None or ctx.store.entity(eid) is not None
            made[record_id] = eid
            with ctx.write():
                if not existing:
                    ctx.store.create_entity(eid, "PERSON", parsed[0].display or names[0], "imported")
                ctx.store.add_keys(eid, [RECORD_KEY + record_id])
                ctx.store.add_given_names(eid, [(n, "import") for n in names])
                ctx.audit.record(ctx.actor, "import", [eid])
            yield {
                "entity_id": eid,
                "record_id": record_id,
                "name": names[0],
                "status": "unchanged" if existing else "added",
            }


def _guarded(records: Iterator[tuple[str, list[str]] | str], path: Path) -> Iterator[tuple[str, list[str]] | str]:
    """A file that cannot be decoded or read is one clean error, not a traceback."""
    try:
        yield from records
    except UnicodeDecodeError as exc:
        raise InvalidInput(E.E001, path=path, reason=f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InvalidInput(E.E001, path=path, reason=exc.strerror or str(exc)) from exc


def _csv_persons(path: Path) -> Iterator[tuple[str, list[str]] | str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in reader.fieldnames or []]
        if "id" not in fields or "name" not in fields:
            raise InvalidInput(E.E031, path=path, expected="id,name[,aliases]", found=",".join(fields) or "(none)")
        for row_no, row in enumerate(reader, start=2):
            eid, name = (row.get("id") or "").strip(), (row.get("name") or "").strip()
            if not eid or not name:
                yield KartotekaError(E.E030, path=path, row=row_no, reason="'id' and 'name' are required").message
                continue
            aliases = [a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()]
            yield eid, [name, *aliases]


def _ftm_persons(path: Path) -> Iterator[tuple[str, list[str]] | str]:
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield KartotekaError(E.E030, path=path, row=line_no, reason=f"invalid JSON: {exc.msg}").message
                continue
            if not isinstance(obj, dict) or obj.get("schema") != "Person" or not obj.get("id"):
                yield KartotekaError(
                    E.E030,
                    path=path,
                    row=line_no,
                    reason="expected a FollowTheMoney entity with schema 'Person' and an 'id'",
                ).message
                continue
            props = obj.get("properties") or {}
            names: list[str] = []
            for prop in ("name", "alias", "weakAlias", "previousName"):
                names.extend(str(v) for v in props.get(prop, []) if str(v).strip())
            if not names and (props.get("firstName") or props.get("lastName")):
                names.append(
                    " ".join(str(v) for v in [*props.get("firstName", [])[:1], *props.get("lastName", [])[:1]])
                )
            if not names:
                yield KartotekaError(E.E030, path=path, row=line_no, reason="no 'name' property").message
                continue
            yield str(obj["id"]), list(dict.fromkeys(names))
