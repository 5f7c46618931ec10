"""The `kartoteka` command line. Commands parse, call `Archive`, and render.

Errors are domain exceptions with a code; they are printed in one place
(`_fail`) as a single line on stderr.
"""

from __future__ import annotations

import csv
import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from kartoteka import render
from kartoteka.archive import Archive
from kartoteka.errors import E, KartotekaError
from kartoteka.names.compare import LIKELY
from kartoteka.registry.readers import (
    JSONL,
    RawDocument,
    ReadError,
    discover,
    read_path,
    read_stdin,
)
from kartoteka.store import archive_path

T = TypeVar("T")

app = typer.Typer(
    name="kartoteka",
    help="Kartoteka: an archive for intelligence-style records. Ingest documents, name-check people, open dossiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (see README, 'JSON output').")]


class State:
    archive_path: Path
    user: str | None = None


state = State()


@app.callback()
def _main(
    archive: Annotated[
        str | None,
        typer.Option(
            "--archive", help="Archive file. Default: $KARTOTEKA_ARCHIVE, else ./kartoteka.db.", metavar="PATH"
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Run the command as this user (default: the archive owner).", metavar="USER"),
    ] = None,
) -> None:
    state.archive_path = archive_path(archive)
    state.user = as_user


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _archive() -> Archive:
    try:
        return Archive(state.archive_path, user=state.user)
    except KartotekaError as exc:
        _fail(exc.message)


def _call(fn: Callable[[Archive], T]) -> T:
    """Open the archive, ask it one thing, turn a domain error into one line on stderr."""
    arch = _archive()
    try:
        return fn(arch)
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=render.err,
        transient=False,
        disable=not render.err.is_terminal,
    )


def _sigterm_as_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


@app.command()
def ingest(
    paths: Annotated[
        list[str], typer.Argument(help="Files or folders (recursive); JSON Lines corpora; '-' for stdin.")
    ],
    json_out: JsonOpt = False,
    workers: Annotated[int, typer.Option(help="spaCy worker processes. 2 pays off on large corpora.")] = 1,
    label: Annotated[
        str | None,
        typer.Option(help="Label of these documents: LEVEL[:EXPRESSION], e.g. 'S:HUM&NOFORN'. Default U."),
    ] = None,
) -> None:
    """Read documents into the archive. Re-running is safe: stored content is skipped.

    Portion marks such as (S//HUM) label their portions; unmarked portions take the document's label.
    """
    arch = _archive()
    files: list[Path | ReadError] = [] if paths == ["-"] else list(discover([p for p in paths if p != "-"]))
    total = (
        None
        if "-" in paths or any(isinstance(f, Path) and f.name.lower().endswith(JSONL) for f in files)
        else len(files)
    )

    def items() -> Iterator[RawDocument | ReadError]:
        if "-" in paths:
            yield from read_stdin(sys.stdin.buffer)
        for f in files:
            if isinstance(f, ReadError):
                yield f
            else:
                yield from read_path(f)

    try:
        results = arch.ingest(items(), workers=workers, label=label)
    except KartotekaError as exc:
        arch.close()
        _fail(exc.message)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    counts = {"added": 0, "unchanged": 0, "error": 0}
    chars = 0
    try:
        with _progress() as progress:
            task = progress.add_task("Ingesting", total=total, detail="")
            for result in results:
                counts[result.status] += 1
                chars += result.chars
                if result.status == "error":
                    print(result.error, file=sys.stderr)
                if json_out:
                    render.emit_json(result.as_json())
                progress.update(
                    task,
                    advance=1,
                    detail=f"{counts['added']} new, {counts['unchanged']} known, {counts['error']} failed, {chars / 1e6:.1f} MB",
                )
    except KeyboardInterrupt:
        print(
            f"Interrupted: {counts['added']} new document(s) were stored; the open batch was rolled back. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None
    finally:
        arch.close()
    if not json_out:
        render.out.print(
            f"{counts['added']} added, {counts['unchanged']} unchanged, {counts['error']} failed → {state.archive_path}"
        )
    if counts["error"]:
        raise typer.Exit(1)


@app.command()
def check(
    name: Annotated[str | None, typer.Argument(help="A name in any script or spelling.")] = None,
    batch: Annotated[Path | None, typer.Option("--batch", help="CSV with columns query_id,name.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write batch results here (.csv or .jsonl).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Candidates per query.")] = 5,
    workers: Annotated[int, typer.Option(help="Processes for --batch screening.")] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Do we hold anything on this person? Ranked candidates, each scored and explained.

    Score: 0.9+ the same name written another way; 0.7+ likely the same person;
    below 0.5 a different person or too little evidence.
    """
    if (name is None) == (batch is None):
        _fail("give either a NAME or --batch FILE.csv")
    arch = _archive()
    try:
        if name is not None:
            result = arch.check(name, limit)
            render.emit_json(result) if json_out else render.check_table(result)
            return
        assert batch is not None
        _check_batch(arch, batch, output, limit, json_out, workers)
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()


def _batch_rows(path: Path) -> Iterator[tuple[str, str]]:
    try:
        yield from _read_batch(path)
    except OSError as exc:
        raise KartotekaError(E.E001, path=path, reason=exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise KartotekaError(E.E001, path=path, reason=f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _read_batch(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if "query_id" not in fields or "name" not in fields:
            raise KartotekaError(E.E031, path=path, expected="query_id,name", found=",".join(fields) or "(none)")
        for row_no, row in enumerate(reader, start=2):
            qid, qname = (row.get("query_id") or "").strip(), (row.get("name") or "").strip()
            if not qname:
                print(KartotekaError(E.E030, path=path, row=row_no, reason="empty 'name'").message, file=sys.stderr)
                continue
            yield qid, qname


def _check_batch(arch: Archive, batch: Path, output: Path | None, limit: int, json_out: bool, workers: int = 1) -> None:
    rows = list(_batch_rows(batch))
    as_csv = (output is not None and output.suffix.lower() == ".csv") or (output is None and not json_out)
    sink = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    writer = csv.writer(sink) if as_csv else None
    if writer:
        writer.writerow(["query_id", "query", "rank", "entity_id", "name", "score", "explanation"])
    hits = 0
    with _progress() as progress:
        task = progress.add_task("Screening", total=len(rows), detail="")
        for result in arch.check_batch(rows, limit, workers=workers):
            matches: list[dict[str, Any]] = result["matches"]
            if "error" in result:
                print(result["error"], file=sys.stderr)
            if any(m["score"] >= LIKELY for m in matches):
                hits += 1
            if writer:
                if not matches:
                    writer.writerow([result["query_id"], result["query"], "", "", "", "", ""])
                for rank, m in enumerate(matches, start=1):
                    writer.writerow(
                        [
                            result["query_id"],
                            result["query"],
                            rank,
                            m["entity_id"],
                            m["name"],
                            m["score"],
                            m["explanation"],
                        ]
                    )
            else:
                sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            progress.update(task, advance=1, detail=f"{hits} likely hit(s)")
    if output:
        sink.close()
        print(
            f"{len(rows)} queries screened, {hits} with a likely match (score ≥ {LIKELY}) → {output}", file=sys.stderr
        )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV (id,name,aliases with ';') or FollowTheMoney JSON lines.")],
    json_out: JsonOpt = False,
) -> None:
    """Load known persons into the card index, keeping their ids."""
    if not file.exists():
        _fail(KartotekaError(E.E004, path=file).message)
    arch = _archive()
    counts = {"added": 0, "unchanged": 0, "error": 0}
    try:
        for r in arch.import_persons(file):
            counts[str(r["status"])] += 1
            if r["status"] == "error":
                print(r["error"], file=sys.stderr)
            if json_out:
                render.emit_json(r)
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()
    if not json_out:
        render.out.print(f"{counts['added']} added, {counts['unchanged']} unchanged, {counts['error']} failed")
    if counts["error"]:
        raise typer.Exit(1)


@app.command()
def dossier(
    ref: Annotated[
        str, typer.Argument(help="An entity id, or a name the name check resolves.", metavar="NAME|ENTITY_ID")
    ],
    json_out: JsonOpt = False,
    passages: Annotated[int, typer.Option(help="Passages shown per document (all are in --json).")] = 3,
) -> None:
    """Everything on one person: names, every citing passage, dates, associates."""
    d = _call(lambda a: a.dossier(ref))
    render.emit_json(d) if json_out else render.dossier(d, passages)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, or SQLite FTS5 syntax ("exact phrase", AND, OR, NOT, prefix*).')],
    limit: int = 20,
    offset: int = 0,
    json_out: JsonOpt = False,
) -> None:
    """Full-text search over every passage, with snippets."""
    r = _call(lambda a: a.search(query, limit, offset))
    render.emit_json(r) if json_out else render.search(r)


@app.command()
def merge(
    keep: Annotated[str, typer.Argument(help="Entity id that stays.")],
    other: Annotated[str, typer.Argument(help="Entity id merged into it.")],
    json_out: JsonOpt = False,
) -> None:
    """Correct the index: OTHER is the same person as KEEP, and is merged into it."""
    _correct(lambda a: a.merge(keep, other), json_out, "Merged {merged} into {entity_id}.")


@app.command()
def split(
    entity: Annotated[str, typer.Argument(help="Entity id.")],
    mentions: Annotated[list[str], typer.Argument(help="Mention ids (from `dossier --json`) that are someone else.")],
    json_out: JsonOpt = False,
) -> None:
    """Correct the index: these mentions are a different person."""
    _correct(
        lambda a: a.split(entity, mentions),
        json_out,
        "Moved {moved} mention(s) from {entity_id} to new entity {new_entity_id}.",
    )


@app.command()
def alias(
    entity: Annotated[str, typer.Argument(help="Entity id.")],
    name: Annotated[str, typer.Argument(help="Another name for the same person.")],
    json_out: JsonOpt = False,
) -> None:
    """Correct the index: add a name this person is also known by."""
    _correct(lambda a: a.alias(entity, name), json_out, "{entity_id} is also known as {alias}.")


def _correct(fn: Callable[[Archive], dict[str, Any]], json_out: bool, message: str) -> None:
    r = _call(fn)
    render.emit_json(r) if json_out else render.out.print(message.format(**r))


@app.command()
def show(
    document_id: Annotated[str, typer.Argument(help="Document id.")],
    json_out: JsonOpt = False,
) -> None:
    """A document with its portions, marks and recognised structure."""
    d = _call(lambda a: a.document(document_id))
    render.emit_json(d) if json_out else render.document(d)


@app.command()
def stats(json_out: JsonOpt = False) -> None:
    """What the archive holds."""
    s = _call(lambda a: a.stats())
    render.emit_json(s) if json_out else render.stats(s)


@app.command()
def demo(
    archive: Annotated[Path, typer.Option("--into", help="Where to build the demo archive (rebuilt each run).")] = Path(
        "kartoteka-demo.db"
    ),
) -> None:
    """Build a demo archive from the shipped fictional corpus and take a guided tour."""
    from kartoteka.demo import run_demo

    try:
        run_demo(archive)
    except KartotekaError as exc:
        _fail(exc.message)


@app.command("release")
def release_(
    document_id: Annotated[str, typer.Argument(help="Document id (see 'kartoteka show').")],
    audience: Annotated[str, typer.Option("--for", help="A user name, or a level with tokens: U, S:HUM,NOFORN.")],
    fmt: Annotated[str, typer.Option("--format", help="txt, html or pdf.")] = "txt",
    exempt: Annotated[
        str | None, typer.Option(help="Exemption code for every withheld portion (default: 50X1-HUM or 25X1).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: a neutral name).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the copy of a document that AUDIENCE may receive: withheld portions become [ ] with an exemption code."""
    data, name, copy = _call(lambda a: a.release(document_id, audience, fmt, exempt))
    target = output or Path(name)
    target.write_bytes(data)
    result = {"file": str(target), "document_id": document_id, "audience": copy.audience, "withheld": copy.withheld}
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(f"{target}: {copy.withheld} portion(s) withheld for {copy.audience}")


@app.command("verify-release")
def verify_release(
    file: Annotated[Path, typer.Argument(help="A release copy (.txt, .html or .pdf).")],
    against: Annotated[str, typer.Option("--against", help="The document it was made from.")],
    audience: Annotated[str | None, typer.Option("--for", help="Audience, if the copy's header was removed.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Extract all text from a release copy and prove that nothing withheld survived."""
    result = _call(lambda a: a.verify_release(file, against, audience))
    if json_out:
        render.emit_json(result)
    elif not result["leaks"]:
        render.out.print(f"{file}: clean; none of {result['withheld']} withheld portion(s) appears in it.")
    if result["leaks"]:
        if not json_out:
            _fail(KartotekaError(E.E044, path=file, found="; ".join(result["leaks"][:3])).message)
        raise typer.Exit(1)


@app.command("relations")
def relations_(json_out: JsonOpt = False) -> None:
    """Extract typed relations (met, warned, recruited, superior_of, ...) from documents not yet read."""

    def run(arch: Archive) -> dict[str, Any]:
        with _progress() as progress:
            task = progress.add_task("Relations", total=None, detail="")
            return arch.build_relations(lambda done, total: progress.update(task, completed=done, total=total))

    result = _call(run)
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(f"{result['relations']} relation(s) from {result['documents']} document(s)")


@app.command()
def links(
    a: Annotated[str, typer.Argument(help="An entity id or a name.")],
    b: Annotated[str, typer.Argument(help="Another.")],
    since: Annotated[str | None, typer.Option(help="Only relations dated on or after (1977, 1977-03).")] = None,
    until: Annotated[str | None, typer.Option(help="Only relations dated on or before.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The shortest evidence paths between two entities; each hop cites its passage."""
    result = _call(lambda arch: arch.links(a, b, since, until))
    if json_out:
        render.emit_json(result)
        return
    if not result["paths"]:
        render.out.print("No path of extracted relations joins them (run 'kartoteka relations' after ingest).")
    for i, path in enumerate(result["paths"], start=1):
        render.out.print(f"Path {i}:")
        for hop in path:
            when = (
                f" [{hop['start']}{'–' + hop['end'] if hop['end'] and hop['end'] != hop['start'] else ''}]"
                if hop["start"]
                else ""
            )
            ev = hop["evidence"][0]
            render.out.print(
                f"  {hop['from']} —{hop['type']}→ {hop['to']}{when}  ({ev['source']} ¶{ev['portion']}: {ev['snippet']})"
            )


@app.command()
def network(
    ref: Annotated[str, typer.Argument(help="An entity id or a name.")],
    depth: Annotated[int, typer.Option(help="Hops from the entity.")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="json, graphml, gexf (with time), stix (2.1) or ftm.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """The neighbourhood of an entity in the relation graph, with degree, betweenness, PageRank and communities."""
    from kartoteka.analysis import export

    if fmt not in export.FORMATS:
        _fail(f"unknown format '{fmt}'; expected one of {', '.join(export.FORMATS)}")
    net = _call(lambda arch: arch.network(ref, depth))
    data = export.render(net, fmt)
    if output:
        output.write_bytes(data)
        render.err.print(f"{len(net['nodes'])} entities, {len(net['relations'])} relations → {output}")
    else:
        sys.stdout.write(data.decode())


@app.command()
def cooccur(
    a: Annotated[str, typer.Argument(help="An entity id or a name.")],
    b: Annotated[str | None, typer.Argument(help="Another; without it, A's associates ranked by significance.")] = None,
    limit: Annotated[int, typer.Option(help="Associates to list.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Do A and B appear together more than chance? Fisher's one-sided test, PMI and G², with the counts."""
    if b is None:
        result = _call(lambda arch: arch.associates(a, limit))
        if json_out:
            render.emit_json(result)
            return
        render.out.print(f"{result['tested']} associates tested over {result['n']} documents (q: Benjamini–Hochberg)")
        for r in result["associates"]:
            render.out.print(
                f"  {r['name']} ({r['b']}): together in {r['k']} of {r['n_a']}/{r['n_b']} documents,"
                f" p={r['p_value']:.3g}, q={r['q_value']:.3g}"
            )
        return
    result = _call(lambda arch: arch.cooccur(a, b))
    if json_out:
        render.emit_json(result)
        return
    n, n_a, n_b, k = result["n"], result["n_a"], result["n_b"], result["k"]
    expected = n_a * n_b / n if n else 0.0
    pmi = "undefined (never together)" if result["pmi"] is None else f"{result['pmi']:.3f} bits"
    render.out.print(
        f"N={n} documents; A in n_a={n_a}, B in n_b={n_b}, both in k={k} (chance expects {expected:.2f}).\n"
        f"p = P(X ≥ {k}), X ~ Hypergeometric(N={n}, n_a={n_a}, n_b={n_b}) = {result['p_value']:.4g}\n"
        f"PMI = log2(k·N / (n_a·n_b)) = {pmi}\n"
        f"G² = 2 Σ O·ln(O/E) over the 2×2 table = {result['g2']:.3f}"
    )
    kx = result.get("knox")
    if kx:
        render.out.print(
            f"Knox space–time test: {kx['close_pairs']} A–B event pairs at the same place within"
            f" {kx['window_days']} days (chance expects {kx['expected']:.2f});"
            f" p = {kx['p_value']:.4g} over {kx['permutations']} permutations of the dates"
            f" ({kx['events_a']} and {kx['events_b']} dated, placed events)."
        )
    else:
        render.out.print("Knox space–time test: not enough passages with both a place and a date.")


@app.command()
def timeline(
    ref: Annotated[str, typer.Argument(help="An entity id or a name.")],
    json_out: JsonOpt = False,
) -> None:
    """Dated passages about an entity, in order; each date says whether it is a year, a month or a day."""
    result = _call(lambda arch: arch.timeline(ref))
    if json_out:
        render.emit_json(result)
        return
    render.out.print(f"{result['name']} ({result['entity_id']})")
    for e in result["events"]:
        render.out.print(
            f"  {e['date'] or e['text']:<10} [{e['precision']}] {e['source']} ¶{e['portion']}: {e['snippet']}"
        )
    if result["undated"]:
        render.out.print(f"  … and {len(result['undated'])} undated passage(s)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs) over this archive. Users log in with their password."""
    import uvicorn

    from kartoteka.service.api import create_app

    _archive().close()  # fail now, in one line, if the archive cannot be opened
    uvicorn.run(create_app(state.archive_path), host=host, port=port, log_level="info")


user_app = typer.Typer(help="Users and their clearances (the archive owner only).", no_args_is_help=True)
app.add_typer(user_app, name="user")
claim_app = typer.Typer(help="Assessment: Admiralty-graded claims, confirmation, contradictions.", no_args_is_help=True)
app.add_typer(claim_app, name="claim")
source_app = typer.Typer(help="Protected sources: cryptonyms, sealed true names, handlers.", no_args_is_help=True)
app.add_typer(source_app, name="source")
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _user_line(u: dict[str, Any]) -> str:
    return f"{u['user']}: {u['clearance']} {', '.join(u['tokens']) or '(no tokens)'}"


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    clearance: Annotated[str, typer.Option(help="U, C, S or TS; a clearance implies the lower levels.")],
    tokens: Annotated[str, typer.Option(help="Compartment and caveat tokens held, comma-separated.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password for server mode from stdin (Argon2-hashed).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a user, or change one's clearance: kartoteka user add NAME --clearance S --tokens HUM,NOFORN"""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    token_list = [t.strip() for t in tokens.split(",") if t.strip()]
    result = _call(lambda a: a.add_user(name, clearance, token_list, password))
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(_user_line(result))


@user_app.command("list")
def user_list(json_out: JsonOpt = False) -> None:
    """Users and their clearances."""
    users = _call(lambda a: a.users())
    if json_out:
        render.emit_json({"users": users})
    else:
        for u in users:
            render.out.print(_user_line(u))


@app.command()
def grade(
    document_id: Annotated[str, typer.Argument(help="Document id.")],
    reliability: Annotated[
        str, typer.Option(help="Source reliability A (completely reliable) to F (cannot be judged).")
    ],
    credibility: Annotated[int, typer.Option(help="Information credibility 1 (confirmed) to 6 (cannot be judged).")],
    reported_by: Annotated[
        str | None, typer.Option(help="Who reported it (a cryptonym, an author): what 'independent' counts.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Give a document its NATO Admiralty grade."""
    result = _call(lambda a: a.grade(document_id, reliability, credibility, reported_by))
    render.emit_json(result) if json_out else render.out.print(f"{document_id}: {result['grade']}")


@claim_app.command("add")
def claim_add(
    entity: Annotated[str, typer.Argument(help="An entity id or a name.")],
    statement: Annotated[str, typer.Argument(help="What the source says, e.g. 'was in Lisbon in March 1977'.")],
    source: Annotated[str, typer.Option(help="Who says it.")],
    reliability: Annotated[str, typer.Option(help="A–F.")],
    credibility: Annotated[int, typer.Option(help="1–6.")],
    document: Annotated[str | None, typer.Option(help="The document it comes from, if any.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a claim by hand."""
    result = _call(lambda a: a.claim(entity, statement, source, reliability, credibility, document))
    render.emit_json(result) if json_out else render.out.print(f"claim recorded on {result['entity_id']}")


@claim_app.command("derive")
def claim_derive(json_out: JsonOpt = False) -> None:
    """Turn every extracted relation into a claim, graded as its document (owner only)."""
    result = _call(lambda a: a.derive_claims())
    render.emit_json(result) if json_out else render.out.print(f"{result['claims']} claim(s) derived")


@claim_app.command("list")
def claim_list(
    entity: Annotated[str, typer.Argument(help="An entity id or a name.")],
    json_out: JsonOpt = False,
) -> None:
    """Each fact about an entity with its grade, its sources, and whether it is confirmed or contradicted."""
    result = _call(lambda a: a.assess(entity))
    if json_out:
        render.emit_json(result)
        return
    for f in result["facts"]:
        flags = (" CONFIRMED" if f["confirmed"] else "") + (" CONTRADICTED" if f["contradicted"] else "")
        render.out.print(
            f"{f['reliability']}{f['credibility']}{flags}  {f['fact']}  (sources: {', '.join(f['sources'])})"
        )


@source_app.command("add")
def source_add(
    cryptonym: Annotated[str, typer.Argument(help="The name reports cite, e.g. GRANITE.")],
    true_name: Annotated[str, typer.Option("--true-name", help="Sealed at once; never indexed or logged.")],
    handler: Annotated[str, typer.Option(help="The one user who runs the source.")],
    json_out: JsonOpt = False,
) -> None:
    """Register a source (archive owner or a user holding the REGISTRY token)."""
    result = _call(lambda a: a.source_add(cryptonym, true_name, handler))
    render.emit_json(result) if json_out else render.out.print(f"{result['cryptonym']}: handled by {result['handler']}")


@source_app.command("show")
def source_show(cryptonym: str, json_out: JsonOpt = False) -> None:
    """The true name behind a cryptonym: for its handler and the registry chief only."""
    result = _call(lambda a: a.source_show(cryptonym))
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(f"{result['cryptonym']}: {result['true_name']} (handler {result['handler']})")


@source_app.command("list")
def source_list(json_out: JsonOpt = False) -> None:
    """Sources you handle (all of them for the registry chief)."""
    result = _call(lambda a: a.sources())
    if json_out:
        render.emit_json({"sources": result})
    else:
        for s in result:
            render.out.print(f"{s['cryptonym']}: handled by {s['handler']}")


@source_app.command("handover")
def source_handover(
    cryptonym: str,
    to: Annotated[str, typer.Option("--to", help="The new handler.")],
    json_out: JsonOpt = False,
) -> None:
    """Pass a source to a new handler (audited)."""
    result = _call(lambda a: a.source_handover(cryptonym, to))
    render.emit_json(result) if json_out else render.out.print(f"{cryptonym}: {result['from']} → {result['to']}")


@audit_app.command("verify")
def audit_verify(json_out: JsonOpt = False) -> None:
    """Recompute the audit chain and check it against the signed anchors."""
    result = _call(lambda a: a.audit_verify())
    if json_out:
        render.emit_json(result)
    elif result["ok"]:
        render.out.print(f"Audit log intact: {result['entries']} entries, {result['anchors']} signed anchors.")
    if not result["ok"]:
        if not json_out:
            _fail(KartotekaError(E.E043, problems="; ".join(result["problems"])).message)
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
