"""Export, import and backup time of a whole archive (issue 15).

    python3 -m uv run python bench/transfer.py [--records 2000] [--repeat 3] [--workers 1]
                                               [--cache /tmp/kartoteka-bench-transfer]

Measures the demo archive, and, if ../shared/corpus/jfk-records-dev.jsonl.gz
exists, an archive of its first N records. That archive is built once by
ingest (the slow part, not measured) and kept in --cache, so a second run
measures only the transfer. Each figure is the median of --repeat runs in
this process: `Archive.export` to a new folder, `Archive.import_export` of
it into a new path (the verification passes, the one transaction and the
FTS rebuild included), and `Archive.backup`. Prints a Markdown table for
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"


def records(n: int) -> Iterator[tuple[str, str]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, n):
            obj = json.loads(line)
            yield str(obj["id"]), str(obj["text"])


def jfk_archive(cache: Path, n: int, workers: int) -> Path:
    from kartoteka.archive import Archive
    from kartoteka.registry.readers import RawDocument

    path = cache / f"jfk-{n}.db"
    done = cache / f"jfk-{n}.done"
    if done.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    arch = Archive(path)
    try:
        docs = (RawDocument(i, "jsonl", "kartoteka.reader.jsonl.v1", t) for i, t in records(n))
        start = time.perf_counter()
        added = sum(r.status == "added" for r in arch.ingest(docs, workers=workers))
        print(f"built {path}: {added} documents in {time.perf_counter() - start:.0f} s (not measured)", flush=True)
    finally:
        arch.close()
    done.write_text("ok\n")
    return path


def measure(path: Path, repeat: int) -> dict[str, float]:
    from kartoteka.archive import Archive

    times: dict[str, list[float]] = {"export": [], "import": [], "backup": []}
    rows = size = 0
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        for i in range(repeat):
            dest, target, backup = Path(tmp) / f"exp{i}", Path(tmp) / f"imp{i}" / "copy.db", Path(tmp) / f"bak{i}"
            target.parent.mkdir()
            arch = Archive(path)
            try:
                start = time.perf_counter()
                result = arch.export(dest)
                times["export"].append(time.perf_counter() - start)
                start = time.perf_counter()
                arch.backup(backup)
                times["backup"].append(time.perf_counter() - start)
            finally:
                arch.close()
            rows = int(result["rows"])
            size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
            start = time.perf_counter()
            Archive.import_export(dest, target)
            times["import"].append(time.perf_counter() - start)
            if i == 0:  # not timed: the copy must verify, or the figures mean nothing
                copy = Archive(target)
                try:
                    verified = copy.audit_verify()
                    print(f"  audit verify of the copy: ok={verified['ok']}, {verified['entries']} entries", flush=True)
                finally:
                    copy.close()
            for folder in (dest, backup, target.parent):
                shutil.rmtree(folder)
    out = {k: statistics.median(v) for k, v in times.items()}
    out.update(rows=rows, export_mb=size / 1e6, archive_mb=path.stat().st_size / 1e6)
    for k, v in times.items():
        print(f"  {k} runs: {', '.join(f'{x:.2f}' for x in v)} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1, help="ingest workers for building the JFK archive")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kartoteka-bench-transfer")
    args = ap.parse_args()

    from kartoteka.demo import build

    subjects: list[tuple[str, Path]] = []
    demo_dir = Path(tempfile.mkdtemp(prefix="kartoteka-demo-"))
    build(demo_dir / "demo.db").close()
    subjects.append(("demo archive (4 documents)", demo_dir / "demo.db"))
    if CORPUS.exists():
        subjects.append((f"JFK, first {args.records:,} records", jfk_archive(args.cache, args.records, args.workers)))
    else:
        print(f"{CORPUS} not found: the JFK archive is skipped")
    results = []
    for name, path in subjects:
        print(f"{name}: {path}", flush=True)
        results.append((name, measure(path, args.repeat)))
    shutil.rmtree(demo_dir)

    print(f"\nMachine: {platform.machine()}, Python {platform.python_version()}; medians of {args.repeat} runs\n")
    print("| archive | archive MB | rows | export MB | export s | import s | backup s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results:
        print(
            f"| {name} | {r['archive_mb']:.1f} | {int(r['rows']):,} | {r['export_mb']:.1f} | "
            f"{r['export']:.2f} | {r['import']:.2f} | {r['backup']:.2f} |"
        )


if __name__ == "__main__":
    main()
