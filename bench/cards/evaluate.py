"""The card index end to end, against the hand-labelled gold windows.

    python3 -m uv run python bench/cards/evaluate.py --split test [--json]

Every sampled record is ingested whole into a fresh archive by Kartoteka's
own pipeline (`--markings record`, as for any released collection), then
relations are extracted. Only what falls inside a labelled window is
scored, against the labels of that window (labeller A for windows 0-549,
B for 550-999, C for 1000-1506; A and B both read 400-549, see
`agreement.py`). Nothing is given to the system: entities, cards and
relations are its own, so these are end-to-end figures.

Also scored, as a peer: bare spaCy (the same pinned model, its own NER on
each window's text, GPE/LOC/FAC counted as places).

Measures:
* mentions: precision, recall, F1 per kind, exact offsets; PERSON also with
  overlap; cryptonyms taken for people.
* person cards (cards with a mention in a scored window): a card counts as a
  person when most of its in-window mentions overlap a gold PERSON span;
  merges: cards whose mentions fall on two or more gold people (named
  keys); splits: gold people whose spans fall on two or more cards.
* relations: a system relation whose sentence lies in a window, with both
  ends on gold people, matches a gold `asserted` relation of the same type
  and the same people (either order for symmetric types).
* dossier: for each gold person with a full name, the dossier the name check
  finds for that name cites which of the records the gold has them in.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))

from kartoteka.archive import Archive  # noqa: E402
from kartoteka.errors import KartotekaError  # noqa: E402
from kartoteka.registry.readers import RawDocument  # noqa: E402

CORPUS = HERE.parents[2] / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"
KINDS = ("PERSON", "ORG", "PLACE", "CRYPTONYM")
SYMMETRIC = {"met", "communicated_with", "married_to", "lived_with"}
OWNER = {"A": range(0, 550), "B": range(550, 1000), "C": range(1000, 1507)}

Span = tuple[int, int, str]


def load_gold(split: str) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for who, windows in OWNER.items():
        path = HERE / f"gold-{who}.jsonl"
        if not path.exists():
            continue
        for line in path.open(encoding="utf-8"):
            r = json.loads(line)
            if int(r["window"]) in windows and r["split"] == split:
                rows[int(r["window"])] = r
    return [rows[k] for k in sorted(rows)]


def records(lines: set[int], corpus: Path) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n in lines:
                out[n] = json.loads(line)
    return out


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_gold if n_gold else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_mentions(gold: list[dict[str, Any]], pred: dict[int, list[Span]]) -> dict[str, Any]:
    """Mention scores over windows; `pred` holds predicted spans per window (record offsets)."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        g = {(w["window"], s["start"], s["end"]) for w in gold for s in w["spans"] if s["label"] == kind}
        p = {(w["window"], s, e) for w in gold for s, e, k in pred.get(w["window"], []) if k == kind}
        out[kind] = {**prf(len(g & p), len(p), len(g)), "gold": len(g), "predicted": len(p)}
    # PERSON with overlap: a predicted span is right if it overlaps a gold person span.
    tp_p = tp_r = n_p = n_g = 0
    crypt_as_person = crypt = 0
    for w in gold:
        g = [(s["start"], s["end"]) for s in w["spans"] if s["label"] == "PERSON"]
        c = [(s["start"], s["end"]) for s in w["spans"] if s["label"] == "CRYPTONYM"]
        p = [(s, e) for s, e, k in pred.get(w["window"], []) if k == "PERSON"]
        n_p, n_g = n_p + len(p), n_g + len(g)
        tp_p += sum(any(overlaps(x, y) for y in g) for x in p)
        tp_r += sum(any(overlaps(y, x) for x in p) for y in g)
        crypt += len(c)
        crypt_as_person += sum(any(overlaps(y, x) for x in p) for y in c)
    pp = tp_p / n_p if n_p else 1.0
    rr = tp_r / n_g if n_g else 1.0
    out["PERSON_overlap"] = {"precision": round(pp, 3), "recall": round(rr, 3)}
    out["cryptonyms_taken_for_people"] = f"{crypt_as_person}/{crypt}"
    return out


def without_title(text: str, start: int, end: int) -> tuple[int, int]:
    """The span with the titles and qualifiers `extract.with_titles` added cut off again."""
    from kartoteka.vocab import name_tables

    tables = name_tables()
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", text[start:end])]
    for n in range(min(3, len(words) - 1), 0, -1):
        if tuple(w.lower().rstrip(".") for _, _, w in words[:n]) in tables.title_prefixes_set:
            words = words[n:]
            break
    while len(words) > 1 and words[-1][2].strip("(),.").lower() in tables.title_suffixes:
        words.pop()
    return start + words[0][0], start + words[-1][1]


def bare_spacy(gold: list[dict[str, Any]], texts: dict[int, dict[str, str]]) -> dict[int, list[Span]]:
    from kartoteka.index.extract import load_stock

    nlp = load_stock()
    mapping = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE"}
    out: dict[int, list[Span]] = {}
    for w in gold:
        text = texts[int(w["line"])]["text"][w["start"] : w["end"]]
        doc = nlp(text)
        out[w["window"]] = [
            (w["start"] + e.start_char, w["start"] + e.end_char, mapping[e.label_])
            for e in doc.ents
            if e.label_ in mapping
        ]
    return out


def write_errors(
    path: Path,
    gold: list[dict[str, Any]],
    texts: dict[int, dict[str, str]],
    pred: dict[int, list[Span]],
    names: dict[tuple[int, int, int], str],
    extracted: dict[int, list[Span]],
) -> None:
    """Each window's gold and predicted spans with their text, for reading (outside the repository)."""
    with path.open("w", encoding="utf-8") as fh:
        for w in gold:
            text = texts[int(w["line"])]["text"]
            g = {(s["start"], s["end"], s["label"]) for s in w["spans"]}
            p = set(pred.get(w["window"], []))
            row = {
                "window": w["window"],
                "text": text[w["start"] : w["end"]],
                "missed": [(text[s:e], k) for s, e, k in sorted(g - p)],
                "wrong": [(text[s:e], k, names.get((w["window"], s, e))) for s, e, k in sorted(p - g)],
                "right": [(text[s:e], k) for s, e, k in sorted(g & p)],
                "unconfirmed": [text[s:e] for s, e, _k in sorted(set(extracted.get(w["window"], [])) - p)],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def evaluate(
    split: str, corpus: Path = CORPUS, workers: int = 2, peer: bool = True, errors: Path | None = None
) -> dict[str, Any]:
    """Every measure of the module docstring on one split; `peer` adds bare spaCy;
    `errors` writes each window's misses and slips there (not for the test split)."""
    if errors is not None and split == "test":
        raise SystemExit("the test split is not read window by window: use dev")
    gold = load_gold(split)
    texts = records({int(w["line"]) for w in gold}, corpus)
    result: dict[str, Any] = {
        "split": split,
        "windows": len(gold),
        "records": len(texts),
        "gold_spans": dict(Counter(s["label"] for w in gold for s in w["spans"])),
    }
    with tempfile.TemporaryDirectory() as tmp:
        arch = Archive(Path(tmp) / "eval.db")
        t0 = time.perf_counter()
        raws = [RawDocument(f"{r['id']}#{n}", "jsonl", "bench.v1", r["text"]) for n, r in sorted(texts.items())]
        doc_of: dict[int, str] = {}
        for n, res in zip(sorted(texts), arch.ingest(raws, workers=workers, markings="record"), strict=True):
            assert res.document_id, res
            doc_of[n] = res.document_id
        result["ingest_seconds"] = round(time.perf_counter() - t0, 1)
        arch.build_relations()
        store = arch._store  # the evaluation reads the store as its owner, below the policy on purpose
        # A person card counts only when the index lists it (with evidence,
        # see kartoteka/index/evidence.py); unconfirmed mentions are scored apart.
        confirmed = {c["entity_id"] for c in arch.cards("person", limit=10**9)["cards"]}
        by_window: dict[int, list[Span]] = defaultdict(list)
        extracted: dict[int, list[Span]] = defaultdict(list)
        untitled: dict[int, list[Span]] = defaultdict(list)
        card_of: dict[tuple[int, int, int], str] = {}
        for w in gold:
            text = texts[int(w["line"])]["text"]
            for _pid, _ps, _pt, s, e, kind, eid in store.portion_mentions(doc_of[int(w["line"])]):
                if w["start"] <= s and e <= w["end"]:
                    extracted[w["window"]].append((s, e, kind))
                    if kind == "PERSON" and eid not in confirmed:
                        continue
                    by_window[w["window"]].append((s, e, kind))
                    untitled[w["window"]].append(
                        (*without_title(text, s, e), kind) if kind == "PERSON" else (s, e, kind)
                    )
                    card_of[(w["window"], s, e)] = eid
        result["kartoteka"] = score_mentions(gold, by_window)
        # The stored span keeps a title written with the name ("Mr. Foley"); the
        # gold leaves it out. The same mentions with the title cut by the
        # system's own title table, to tell boundary slips from titles.
        result["kartoteka_titles_cut"] = {k: v for k, v in score_mentions(gold, untitled).items() if k == "PERSON"}
        result["kartoteka_all_extracted"] = score_mentions(gold, extracted)
        if errors is not None:
            card_names = {k: (e.name if (e := store.entity(eid)) else "") for k, eid in card_of.items()}
            write_errors(errors, gold, texts, by_window, card_names, extracted)

        # Person cards, merges and splits, over the scored windows.
        card_hits: dict[str, list[str | None]] = defaultdict(list)
        gold_cards: dict[str, set[str]] = defaultdict(set)
        for w in gold:
            persons = [(s["start"], s["end"], s["person"]) for s in w["spans"] if s["label"] == "PERSON"]
            for s, e, kind in by_window.get(w["window"], []):
                if kind != "PERSON":
                    continue
                eid = card_of[(w["window"], s, e)]
                keys = [k for gs, ge, k in persons if overlaps((s, e), (gs, ge))]
                card_hits[eid].append(keys[0] if keys else None)
                if keys and not keys[0].startswith("?"):
                    gold_cards[keys[0]].add(eid)
        people = sum(1 for hits in card_hits.values() if sum(h is not None for h in hits) * 2 > len(hits))
        merges = sum(1 for hits in card_hits.values() if len({h for h in hits if h and not h.startswith("?")}) > 1)
        result["person_cards"] = {
            "cards": len(card_hits),
            "precision": round(people / len(card_hits), 3) if card_hits else None,
            "merging_two_people": merges,
            "gold_people_on_two_or_more_cards": sum(1 for c in gold_cards.values() if len(c) > 1),
            "gold_people_found": len(gold_cards),
        }

        # Relations end to end.
        gold_rel = set()
        for w in gold:
            for r in w["relations"]:
                if r["modality"] == "asserted":
                    pair = (r["subject"], r["object"])
                    if r["type"] in SYMMETRIC:
                        pair = tuple(sorted(pair))  # type: ignore[assignment]
                    gold_rel.add((w["window"], r["type"], *pair))
        window_of_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for w in gold:
            window_of_doc[doc_of[int(w["line"])]].append(w)
        predicted = matched = 0
        for _id, rtype, a, b, doc_id, _pid, start, end, *_rest in store.relations():
            for w in window_of_doc.get(doc_id, []):
                if not (w["start"] <= start and end <= w["end"]):
                    continue
                predicted += 1
                spans_of: dict[str, set[str]] = defaultdict(set)
                for (win, s, e), eid in card_of.items():
                    if win == w["window"]:
                        for gs in w["spans"]:
                            if gs["label"] == "PERSON" and overlaps((s, e), (gs["start"], gs["end"])):
                                spans_of[eid].add(gs["person"])
                for ka in spans_of.get(a, ()):
                    for kb in spans_of.get(b, ()):
                        pair = tuple(sorted((ka, kb))) if rtype in SYMMETRIC else (ka, kb)
                        if (w["window"], rtype, *pair) in gold_rel:
                            matched += 1
                            break
                    else:
                        continue
                    break
        result["relations"] = {
            **prf(matched, predicted, len(gold_rel)),
            "gold_asserted": len(gold_rel),
            "predicted": predicted,
        }

        # Dossiers: does the card the name check finds for a full name cite the records the gold has that person in?
        records_of: dict[str, set[str]] = defaultdict(set)
        for w in gold:
            for s in w["spans"]:
                if s["label"] == "PERSON" and not s["person"].startswith("?") and len(s["person"].split()) >= 2:
                    records_of[s["person"]].add(doc_of[int(w["line"])])
        cited = total = 0
        for person, docs in records_of.items():
            total += len(docs)
            try:
                d = arch.dossier(person)
            except KartotekaError:
                continue
            found = {x["document_id"] for x in d["documents"]}
            cited += len(docs & found)
        result["dossier_recall"] = {
            "recall": round(cited / total, 3) if total else None,
            "people": len(records_of),
            "person_records": total,
        }
        arch.close()
    if peer:
        t0 = time.perf_counter()
        result["bare_spacy"] = score_mentions(gold, bare_spacy(gold, texts))
        result["bare_spacy_seconds"] = round(time.perf_counter() - t0, 1)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--errors", type=Path, default=None, help="write each window's misses and slips here (dev only)")
    ap.add_argument("--ner", choices=["ocr", "stock"], default="ocr", help="the trained pipeline or the stock model")
    args = ap.parse_args()
    os.environ["KARTOTEKA_NER"] = args.ner
    result = evaluate(args.split, args.corpus, args.workers, errors=args.errors)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
