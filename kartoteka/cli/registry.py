"""Registry commands: reading documents in, showing, counting and searching them, importing persons, the demo."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TaskID

from kartoteka import render
from kartoteka.cli.common import JsonOpt, _archive, _call, _fail, _notice, _progress, _report, _shown, app
from kartoteka.errors import E, KartotekaError
from kartoteka.registry.ingest import IngestRun
from kartoteka.registry.readers import (
    JSONL,
    RawDocument,
    ReadError,
    discover,
    read_path,
    read_stdin,
)


def _sigterm_as_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


@app.command()
def ingest(
    paths: Annotated[
        list[str], typer.Argument(help="Files or folders (recursive); JSON Lines corpora; '-' for stdin.")
    ],
    json_out: JsonOpt = False,
    workers: Annotated[int, typer.Option(min=1, help="spaCy worker processes. 2 pays off on large corpora.")] = 1,
    label: Annotated[
        str | None,
        typer.Option(help="Label of these documents: LEVEL[:EXPRESSION], e.g. 'S:HUM&NOFORN'. Default U."),
    ] = None,
    markings: Annotated[
        str,
        typer.Option(
            help="enforce: banners and portion marks become labels (an unmarked portion takes its banner's level); "
            "record: keep them as history only, for already released collections."
        ),
    ] = "enforce",
    ocr: Annotated[
        str,
        typer.Option(help="auto: OCR scanned pages and images; always: OCR every page; never: text layers only."),
    ] = "auto",
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Read files and run the model on a Ray cluster: ADDRESS, or auto (the running one, else a local"
            " one of --workers CPUs).",
        ),
    ] = None,
) -> None:
    """Read documents into the archive. Re-running is safe: stored content is skipped.

    Portion marks such as (S//HUM) label their portions; unmarked portions take the document's label.
    Scanned PDFs and images (TIFF, PNG, JPEG) are read by OCR (Tesseract, English and Russian).
    """
    if ocr not in ("auto", "always", "never"):
        _fail(KartotekaError(E.E060, mode=ocr).message)
    arch = _archive()
    files: list[Path | ReadError] = [] if paths == ["-"] else list(discover([p for p in paths if p != "-"]))
    total = (
        None
        if "-" in paths or any(isinstance(f, Path) and f.name.lower().endswith(JSONL) for f in files)
        else len(files)
    )

    progress = _progress()
    pages_task: list[TaskID] = []

    def on_page(source: str, done: int, total_pages: int) -> None:
        # One bar for the pages of the document being OCRed, beside the bar of documents.
        if not pages_task:
            pages_task.append(progress.add_task("OCR", total=total_pages, detail=""))
        progress.update(pages_task[0], completed=done, total=total_pages, detail=Path(source).name)

    ner = None
    if ray is not None:
        from kartoteka import cluster

        try:
            actors = cluster.connect(ray, num_cpus=workers)
        except KartotekaError as exc:
            arch.close()
            _fail(exc.message)
        ner = cluster.RayNerRunner(actors)

    def read_files() -> Iterator[RawDocument | ReadError]:
        if ray is not None:
            from kartoteka import cluster

            yield from cluster.read_files(files, ocr=ocr)
            return
        for f in files:
            yield from (
                [f] if isinstance(f, ReadError) else read_path(f, ocr=ocr, workers=max(1, workers), on_page=on_page)
            )

    def items() -> Iterator[RawDocument | ReadError]:
        if "-" in paths:
            yield from read_stdin(sys.stdin.buffer)
        for item in read_files():
            if isinstance(item, RawDocument):
                for warning in item.warnings:
                    _notice(warning, "warning")
            yield item

    try:
        results = arch.ingest(items(), workers=workers, label=label, markings=markings, ner=ner)
    except KartotekaError as exc:
        arch.close()
        _fail(exc.message)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    counts = {"added": 0, "unchanged": 0, "error": 0}
    chars = 0

    def stored() -> int:
        # What the archive holds from this run, not what was printed or tried.
        return results.stored if isinstance(results, IngestRun) else counts["added"]

    try:
        with progress:
            task = progress.add_task("Ingesting", total=total, detail="")
            for result in results:
                counts[result.status] += 1
                chars += result.chars
                if result.status == "error":
                    _notice(result.error or "")
                if json_out:
                    render.emit_json(result.as_json())
                progress.update(
                    task,
                    advance=1,
                    detail=f"{counts['added']} new, {counts['unchanged']} known, {counts['error']} failed, {chars / 1e6:.1f} MB",
                )
    except KeyboardInterrupt:
        print(
            f"Interrupted: {stored()} new document(s) were stored; the batch being written was rolled back. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None
    except KartotekaError as exc:  # the archive stayed locked past the busy timeout, say
        _report(f"{exc.message} ({stored()} new document(s) were stored)")
        raise typer.Exit(1) from None
    finally:
        arch.close()
    if not json_out:
        render.out.print(
            f"{counts['added']} added, {counts['unchanged']} unchanged, {counts['error']} failed → {_shown()}"
        )
    if counts["error"]:
        raise typer.Exit(1)


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (id,name,aliases with ';') or FollowTheMoney JSON lines; or a folder made by 'kartoteka export'."
        ),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Load known persons into the card index, keeping their ids.

    Given a folder holding a Kartoteka manifest.json (made by 'kartoteka export'), load that whole
    archive into --archive instead, which must be new or empty (owner only).
    """
    if not file.exists():
        _fail(KartotekaError(E.E004, path=file).message)
    if file.is_dir():
        from kartoteka.cli.transfer import import_export

        return import_export(file, json_out)
    arch = _archive()
    counts = {"added": 0, "unchanged": 0, "error": 0}
    try:
        for r in arch.import_persons(file):
            counts[str(r["status"])] += 1
            if r["status"] == "error":
                _notice(str(r["error"]))
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
def search(
    query: Annotated[str, typer.Argument(help='Words, or SQLite FTS5 syntax ("exact phrase", AND, OR, NOT, prefix*).')],
    limit: Annotated[int, typer.Option(min=1, help="Hits per page.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Hits to skip (for the next page).")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Full-text search over every passage, with snippets."""
    r = _call(lambda a: a.search(query, limit, offset))
    render.emit_json(r) if json_out else render.search(r)


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
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the demo archive in a browser (web application and API).")
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: the interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: the TCP port.")] = 8000,
) -> None:
    """Build a demo archive from the shipped fictional corpus and take a guided tour; --serve opens it in a browser."""
    from kartoteka.demo import run_demo, web_logins

    try:
        run_demo(archive)
        if not serve:
            return
        logins = web_logins(archive)
    except KartotekaError as exc:
        _fail(exc.message)
    from kartoteka.access.serving import ServingLock
    from kartoteka.service.run import serve as run_server

    render.out.rule("The demo in a browser", align="left")
    render.out.print(f"Open [bold]http://{host}:{port}/[/bold] and log in as:")
    for user, clearance, password in logins:
        render.out.print(f"  [bold]{user}[/bold] (cleared {clearance}), password [bold]{password}[/bold]")
    render.out.print("Ctrl-C stops the server.")
    with ServingLock(archive):
        run_server(archive, host, port)
