"""Turn a labeller's answers into gold offsets, checking every answer.

    python3 -m uv run python bench/cards/gold.py /tmp/answers-A.jsonl > bench/cards/gold-A.jsonl

An answer quotes the span text (see GUIDELINES.md); the gold file keeps
only offsets into the record, kinds, person keys and relations, never the
text. A span that is not in its window, a kind that is not one of ours, a
relation naming a person not labelled in the window: each is one line on
stderr naming the window, and that answer is left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from packet import CORPUS, windows  # type: ignore[import-not-found]

KINDS = {"PERSON", "ORG", "PLACE", "CRYPTONYM"}
TYPES = {
    "met",
    "communicated_with",
    "warned",
    "recruited",
    "handled",
    "superior_of",
    "succeeded",
    "married_to",
    "lived_with",
}
MODALITIES = {"asserted", "question", "hypothetical", "speculative", "negated", "reported"}


def occurrences(text: str, needle: str) -> list[int]:
    out, i = [], text.find(needle)
    while i != -1 and needle:
        out.append(i)
        i = text.find(needle, i + 1)
    return out


def convert(answer: dict[str, Any], row: dict[str, Any], text: str) -> dict[str, Any]:
    """Gold offsets for one answer; ValueError names what is wrong."""
    spans = []
    people: set[str] = set()
    for s in answer.get("spans", []):
        label, quoted = s.get("label"), s.get("text", "")
        if label not in KINDS:
            raise ValueError(f"kind {label!r} is not one of {sorted(KINDS)}")
        found = occurrences(text, quoted)
        if not found:
            raise ValueError(f"span {quoted!r} is not in the window")
        if "n" in s:
            k = int(s["n"])
            if not 1 <= k <= len(found):
                raise ValueError(f"span {quoted!r}: occurrence {k} of {len(found)}")
            found = [found[k - 1]]
        person = s.get("person")
        if label == "PERSON":
            if not person:
                raise ValueError(f"person span {quoted!r} has no person key")
            people.add(person)
        for at in found:
            start = int(row["start"]) + at
            entry: dict[str, Any] = {"start": start, "end": start + len(quoted), "label": label}
            if label == "PERSON":
                entry["person"] = person
            spans.append(entry)
    relations = []
    for r in answer.get("relations", []):
        if r.get("type") not in TYPES:
            raise ValueError(f"relation type {r.get('type')!r} is not one of {sorted(TYPES)}")
        if r.get("modality", "asserted") not in MODALITIES:
            raise ValueError(f"modality {r.get('modality')!r} is not one of {sorted(MODALITIES)}")
        for side in ("subject", "object"):
            if r.get(side) not in people:
                raise ValueError(f"relation {side} {r.get(side)!r} is not a person labelled in the window")
        relations.append(
            {
                "subject": r["subject"],
                "type": r["type"],
                "object": r["object"],
                "modality": r.get("modality", "asserted"),
            }
        )
    spans.sort(key=lambda e: (e["start"], e["end"]))
    return {
        "window": row["window"],
        "record": row["record"],
        "line": row["line"],
        "split": row["split"],
        "start": row["start"],
        "end": row["end"],
        "spans": spans,
        "relations": relations,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("answers", type=Path)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    by_window = {int(r["window"]): (r, text) for r, text in windows(args.corpus)}
    bad = kept = 0
    seen: set[int] = set()
    for line_no, line in enumerate(args.answers.open(encoding="utf-8"), start=1):
        if not line.strip():
            continue
        try:
            answer = json.loads(line)
            n = int(answer["window"])
            if n not in by_window:
                raise ValueError(f"no window {n} in the sample")
            if n in seen:
                raise ValueError(f"window {n} answered twice")
            seen.add(n)
            print(json.dumps(convert(answer, *by_window[n]), ensure_ascii=False))
            kept += 1
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            bad += 1
            print(f"{args.answers}:{line_no}: {exc}", file=sys.stderr)
    print(f"{kept} answers kept, {bad} refused", file=sys.stderr)


if __name__ == "__main__":
    main()
