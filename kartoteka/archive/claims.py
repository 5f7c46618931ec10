"""Graded claims: Admiralty grades on documents, claims by hand or derived from relations, and the
facts they add up to, each shown with everything it rests on only to a viewer who may see all of it.
"""

from __future__ import annotations

from typing import Any

from kartoteka.access.labels import LabelError
from kartoteka.access.policy import stored_label
from kartoteka.analysis import assessment
from kartoteka.archive.cards import Cards
from kartoteka.archive.common import UNCLASSIFIED_LABEL, Context
from kartoteka.errors import E, InvalidInput, NotFound
from kartoteka.store.records import support_ids, support_text


class Claims:
    """Grades, claims and the facts assessed from them."""

    def __init__(self, ctx: Context, cards: Cards) -> None:
        self.ctx = ctx
        self.cards = cards

    @staticmethod
    def _checked_grade(reliability: str, credibility: int) -> tuple[str, int]:
        try:
            return assessment.check_grade(reliability, credibility)
        except ValueError as exc:
            raise InvalidInput(E.E050, reason=str(exc)) from exc

    def grade(
        self, document_id: str, reliability: str, credibility: int, reported_by: str | None = None
    ) -> dict[str, Any]:
        """Give a document its Admiralty grade and, optionally, who reported it."""
        self.ctx.require("grade")
        ctx = self.ctx
        if not ctx.policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        r, c = self._checked_grade(reliability, credibility)
        with ctx.write():
            ctx.store.grade_document(document_id, r, c, reported_by)
        ctx.audit.record(ctx.actor, "grade", [document_id])
        return {"document_id": document_id, "reliability": r, "credibility": c, "grade": assessment.describe(r, c)}

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
        """Record by hand what a source says about an entity.

        The claim carries `label` (default: the cited document's label, else
        the author's clearance); only viewers who may see that see the claim.
        """
        self.ctx.require("claim")
        ctx = self.ctx
        eid = self.cards.resolve_ref(subject_ref)
        if document_id is not None and not ctx.policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        r, c = self._checked_grade(reliability, credibility)
        if not statement.strip() or not source.strip():
            raise InvalidInput(E.E050, reason="a claim needs a statement and a source")
        cited = ctx.store.document_label(document_id) if document_id is not None else None
        try:
            claim_label = ctx.policy.authored_label(label, cited)
        except LabelError as exc:
            raise InvalidInput(E.E070, field="--label", reason=str(exc)) from exc
        with ctx.write():
            ctx.store.add_claim(
                (eid, statement.strip(), None, None, source.strip(), r, c, document_id, None, "analyst", "",
                 claim_label)
            )  # fmt: skip
        ctx.audit.record(ctx.actor, "claim", [eid], detail=statement)
        return {
            "entity_id": eid,
            "statement": statement.strip(),
            "source": source.strip(),
            "reliability": r,
            "credibility": c,
            "label": claim_label,
        }

    def derive_claims(self) -> dict[str, Any]:
        """One claim per extracted relation, graded as its document, sourced to who reported it."""
        ctx = self.ctx
        ctx.owner_only("derive claims")
        added = 0
        grades: dict[str, tuple[str | None, int | None, str | None]] = {}
        with ctx.write():
            for _, rtype, a, b, doc_id, pid, _, _, _, _, _, _, support in ctx.store.relations():
                if doc_id not in grades:
                    grades[doc_id] = ctx.store.document_grade(doc_id)
                rel, cred, reported_by = grades[doc_id]
                statement = f"{rtype.replace('_', ' ')}"
                added += ctx.store.add_claim(
                    (a, statement, rtype, b, reported_by or doc_id, rel or "F", cred or 6, doc_id, pid, "derived",
                     support_text(support), None)
                )  # fmt: skip
        ctx.audit.record(ctx.actor, "derive claims", [])
        return {"claims": added}

    def _visible_claims(self, eid: str) -> list[tuple[assessment.Claim, str]]:
        """The claims the viewer may see, each with the label a page citing it shows:
        its own (by hand), else its passage's, else its document's."""
        out = []
        policy = self.ctx.policy
        labels: dict[str, dict[int, str]] = {}
        for row in self.ctx.store.claims_about(eid, self.ctx.visible_partitions()):
            claim = assessment.Claim(*row[:11])
            support, label = support_ids(row[11]), row[12]
            # A derived claim is visible only with everything it rests on; a
            # claim by hand carries its author's label.
            if claim.portion_id is not None and not policy.portions_visible((claim.portion_id, *support)):
                continue
            if claim.document_id is not None and not policy.document_visible(claim.document_id):
                continue
            if label is not None and not policy.can_see(label):
                continue
            if not (
                policy.entity_visible(claim.subject) and (claim.object is None or policy.entity_visible(claim.object))
            ):
                continue
            if label is None and claim.document_id is not None:
                doc = claim.document_id
                if claim.portion_id is not None:
                    label = self.ctx.portion_label(labels, doc, claim.portion_id)
                label = label or self.ctx.store.document_label(doc)
            out.append((claim, str(stored_label(label or UNCLASSIFIED_LABEL))))
        return out

    def assess(self, ref: str) -> dict[str, Any]:
        """What the archive holds about an entity, claim by claim: grade, sources, confirmation, contradictions."""
        eid = self.cards.resolve_ref(ref)
        facts = self.facts(eid)
        self.ctx.audit.record(self.ctx.actor, "assess", [eid])
        return {"entity_id": eid, "facts": facts}

    def facts(self, eid: str) -> list[dict[str, Any]]:
        """The assessed facts about an entity, without an audit record (the dossier shows them too)."""
        facts = []
        names: dict[str, str] = {}

        def name(e: str | None) -> str | None:
            if e is None:
                return None
            if e not in names:
                names[e] = self.cards.shown(e)
            return names[e]

        visible = self._visible_claims(eid)
        label_of = {c.id: label for c, label in visible}
        for a in assessment.assess([c for c, _ in visible], order=lambda e: (name(e) or "", e)):
            first = a.claims[0]
            text = (
                f"{name(first.subject)} {first.relation.replace('_', ' ')} {name(first.object)}"
                if first.relation
                else f"{name(first.subject)}: {first.statement}"
            )
            facts.append(
                {
                    "fact": text,
                    "reliability": a.reliability,
                    "credibility": a.credibility,
                    "grade": assessment.describe(a.reliability, a.credibility),
                    "confirmed": a.confirmed,
                    "sources": a.sources,
                    "contradicted": bool(a.contradicted_by),
                    "evidence": [
                        {
                            "source": c.source,
                            "document_id": c.document_id,
                            "stated": f"{c.reliability}{c.credibility}",
                            "label": label_of[c.id],
                        }
                        for c in a.claims
                    ],
                }
            )
        return facts
