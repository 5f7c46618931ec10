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
from kartoteka.access import serving
from kartoteka.archive import Archive
from kartoteka.errors import E, KartotekaError
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
        typer.Option(
            "--as",
            help="Run the command as this user, without a password (default: the archive owner). Only the owner of"
            " the file may use the command line on an archive a server is serving.",
            metavar="USER",
        ),
    ] = None,
) -> None:
    state.archive_path = archive_path(archive)
    state.user = as_user


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _archive() -> Archive:
    _refuse_if_served()
    try:
        return Archive(state.archive_path, user=state.user)
    except KartotekaError as exc:
        _fail(exc.message)


def _refuse_if_served() -> None:
    """The command line acts as the owner, or `--as USER` as that user, with no
    password: the file owner's prerogative. While a server serves the archive its
    users log in there, so nobody else gets that authority here (access/serving.py)."""
    path = state.archive_path
    if not path.exists() or serving.owns(path):
        return
    pid = serving.serving_pid(path)
    if pid is not None:
        _fail(KartotekaError(E.E104, path=path, pid=pid or "unknown").message)


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
