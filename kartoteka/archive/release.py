"""Release: the copy of a document an audience may receive, and the proof that nothing withheld survived."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kartoteka import release
from kartoteka.access import roles
from kartoteka.access.labels import Clearance, Label, LabelError, roll_up
from kartoteka.access.policy import stored_label
from kartoteka.archive.common import UNCLASSIFIED_LABEL, Context, clearance_of
from kartoteka.errors import E, Forbidden, InvalidInput, NotFound


def release_codes() -> list[tuple[str, str]]:
    """(token, exemption code) pairs, most specific first; the last is the default.

    A withheld human-source portion is exempt as 50X1-HUM (E.O. 13526
    §3.3(b)(1)); anything else as 25X1 unless `--exempt` says otherwise.
    """
    return [("HUM", "50X1-HUM"), ("", "25X1")]


class Releases:
    """Release copies: what the requester may see, cut down to what the audience may receive."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def audience(self, audience: str) -> tuple[Clearance, str]:
        """A user name, or a level with tokens (`U`, `S:HUM,NOFORN`).

        Only the owner, who manages users, may name any user; anyone else
        names a level, or themselves. Another user's name is read as a level
        and refused exactly as a name nobody holds, so `--for` cannot tell
        which users exist or what they hold.
        """
        may_name = self.ctx.policy.is_owner or audience == self.ctx.actor
        row = self.ctx.store.user(audience) if may_name else None
        if row is not None:
            return clearance_of(row), audience
        try:
            c = Clearance.parse(audience)
        except LabelError as exc:
            raise InvalidInput(E.E041, reason=f"audience {audience!r} is neither a user nor a level: {exc}") from exc
        return c, c.key

    def release_copy(self, document_id: str, audience: str, exempt: str | None = None) -> release.ReleaseCopy:
        """What `audience` may receive of a document the requester can see."""
        ctx = self.ctx
        if not ctx.policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        clearance, who = self.audience(audience)
        doc_label = ctx.store.document_label(document_id) or UNCLASSIFIED_LABEL
        declassifier = roles.holds(ctx.policy.clearance, roles.RELEASE)
        if not clearance.can_see(stored_label(doc_label)) and not declassifier:
            # Releasing a classified document to a lower audience is a
            # declassification: the owner's or a RELEASE holder's decision.
            # Anyone else is told only that they may not.
            raise Forbidden(E.E042, action=f"release {document_id} to {who}", actor=ctx.actor)
        codes = release_codes()
        parts: list[release.Part] = []
        shown: list[Label] = []
        for (pid, _, kind, text, _, _), label in ctx.labelled_rows(document_id):
            if not ctx.policy.portion_visible(pid):
                continue  # not the requester's to release, nor to mention
            if kind == "banner":
                continue  # the copy carries its own banner, computed from what it releases
            if clearance.can_see(label):
                parts.append(release.Part(text))
                if kind == "text":
                    shown.append(label)
            else:
                code = exempt or next((c for t, c in codes if t in label.tokens), codes[-1][1])
                parts.append(release.Part(None, code))
        copy = release.ReleaseCopy(document_id, who, roll_up(shown), tuple(parts))
        ctx.audit.record(ctx.actor, "release", [document_id], detail=who)
        return copy

    def release(
        self, document_id: str, audience: str, fmt: str, exempt: str | None = None
    ) -> tuple[bytes, str, release.ReleaseCopy]:
        if fmt not in release.FORMATS:
            raise InvalidInput(E.E045, format=fmt)
        copy = self.release_copy(document_id, audience, exempt)
        return release.render(copy, fmt), release.file_name(copy, fmt), copy

    def verify_release(self, path: Path, document_id: str, audience: str | None = None) -> dict[str, Any]:
        """Prove that no text withheld from the copy's audience survives in the file.

        The audience is read from the copy's own header line unless given.
        """
        ctx = self.ctx
        ctx.owner_only("verify releases")
        if ctx.store.document_label(document_id) is None:
            raise NotFound(E.E020, ref=document_id)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in release.FORMATS:
            raise InvalidInput(E.E045, format=fmt)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(E.E001, path=path, reason=exc.strerror or str(exc)) from exc
        text = release.extract_text(data, fmt)
        if audience is None:
            m = re.search(r"Release copy of [\w-]+ for ([\w:,.\-]+)", text)
            if m is None:
                raise InvalidInput(E.E041, reason=f"{path}: no release header; give the audience with --for")
            audience = m.group(1)
        clearance, who = self.audience(audience)
        withheld: list[str] = []
        for (_, _, kind, body, mark, _), label in ctx.labelled_rows(document_id):
            if kind != "text" or clearance.can_see(label):
                continue
            passage = body.strip()
            if mark and passage.startswith(mark):
                passage = passage[len(mark) :].strip()
            withheld.append(passage)
        found = release.leaks(text, withheld)
        return {
            "file": str(path),
            "document_id": document_id,
            "audience": who,
            "withheld": len(withheld),
            "leaks": found,
        }
