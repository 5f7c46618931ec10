"""What every command shares: the app, the global options, and opening the archive.

Errors are domain exceptions with a code; they are printed in one place
(`_fail`) as a single line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

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
from kartoteka.errors import KartotekaError
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
