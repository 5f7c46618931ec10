"""Person mentions inside boilerplate lines, before and after boilerplate masking.

Ingests the first N records of the JFK development corpus into a fresh
archive with this checkout, and (with --before REV) with an earlier revision
of Kartoteka run from a git worktree on the same environment. Then, for each
archive, counts the person mentions whose line is boilerplate.

What counts as a boilerplate line is decided here, from the raw texts, not
by the archive under test: a line that carries a known stamp
(`vocab/boilerplate.yml`) or whose letters recur in at least five of the N
records. The same reference is applied to both archives. (It shares the
stamp list with the system, so it measures how well ingest applies the rule,
not whether the rule is right; the card-level effect is shown by the most
frequent person cards of each archive, printed for reading.)

    python bench/boilerplate.py --records 300 --before 506779a [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kartoteka.registry.boilerplate import line_key, stamp  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"


def sample(n: int, out: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh, out.open("w", encoding="utf-8") as dst:
        for line in fh:
            o = json.loads(line)
            texts[str(o["id"])] = o["text"]
            dst.write(json.dumps({"id": o["id"], "text": o["text"]}, ensure_ascii=False) + "\n")
            if len(texts) >= n:
                break
    return texts


def reference_lines(texts: dict[str, str]) -> dict[str, list[tuple[int, int]]]:
    """Spans of boilerplate lines in each record, by the rule above."""
    counts: Counter[int] = Counter()
    for text in texts.values():
        counts.update({k for ln in text.splitlines() if (k := line_key(ln)) is not None})
    out: dict[str, list[tuple[int, int]]] = {}
    for rid, text in texts.items():
        spans: list[tuple[int, int]] = []
        pos = 0
        for ln in text.splitlines(keepends=True):
            body = ln.rstrip("\r\n")
            key = line_key(body)
            if body.strip() and (stamp(body) is not None or (key is not None and counts[key] >= 5)):
                spans.append((pos, pos + len(body)))
            pos += len(ln)
        out[rid] = spans
    return out


def ingest(corpus: Path, db: Path, pythonpath: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from kartoteka.cli import main; main()",
            "--archive",
            str(db),
            "ingest",
            str(corpus),
            "--workers",
            "2",
        ],
        check=True,
        env=env,
        # Not this checkout: `python -c` puts the working directory first on sys.path.
        cwd=db.parent,
        stdout=subprocess.DEVNULL,
    )


def measure(db: Path, spans: dict[str, list[tuple[int, int]]]) -> dict[str, object]:
    con = sqlite3.connect(db)
    rows = con.execute(
        'SELECT d.source, m.start, m."end", e.name FROM mentions m JOIN documents d ON d.id=m.document_id'
        " JOIN entities e ON e.id=m.entity_id WHERE m.kind='PERSON'"
    ).fetchall()
    inside = 0
    for source, start, end, _ in rows:
        rid = source.rsplit(":", 1)[-1] if source not in spans else source
        if any(s <= start and end <= e for s, e in spans.get(rid, [])):
            inside += 1
    top = con.execute(
        "SELECT e.name, count(*) AS n FROM mentions m JOIN entities e ON e.id=m.entity_id"
        " WHERE m.kind='PERSON' AND e.merged_into IS NULL GROUP BY e.id ORDER BY n DESC LIMIT 15"
    ).fetchall()
    return {
        "person_mentions": len(rows),
        "inside_boilerplate": inside,
        "share": round(inside / len(rows), 4) if rows else 0.0,
        "top_people": [f"{n} ({c})" for n, c in top],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--before", help="an earlier git revision to compare with (run from a worktree)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kartoteka-bp-"))
    corpus = work / "sample.jsonl"
    texts = sample(args.records, corpus)
    spans = reference_lines(texts)
    report: dict[str, object] = {"records": len(texts)}
    if args.before:
        tree = work / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
            check=True,
            capture_output=True,
        )
        try:
            ingest(corpus, work / "before.db", tree)
            report["before"] = {"revision": args.before, **measure(work / "before.db", spans)}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    ingest(corpus, work / "after.db", ROOT)
    report["after"] = measure(work / "after.db", spans)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
