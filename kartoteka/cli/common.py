"""What every command shares: the app, the global options, and opening the archive.

Errors are domain exceptions with a code; they are printed in one place
(`_fail`) as a single line on stderr, or as one JSON object
(`{"error": "E020", "message": ...}`) when the command line has `--json`.
The root command (`_Root`) sees to it that nothing else escapes: usage
errors, a database that fails mid-command, a domain error a command did not
catch.
"""

from __future__ import annotations

import errno
import json
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import typer.core
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# Typer ships its own copy of Click; these have no public name in typer.
from typer._click.core import Context
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.globals import get_current_context

from kartoteka import render
from kartoteka.access import serving
from kartoteka.archive import Archive
from kartoteka.errors import E, KartotekaError
from kartoteka.store import Location, archive_path
from kartoteka.store import location as locations
from kartoteka.store.integrity import database_error

T = TypeVar("T")

# Commands that may make a new archive file; any other on a missing file is an
# error (E110), so a mistyped --archive never answers "nothing on file".
CREATES = frozenset({"init", "ingest", "import", "user add"})
_CODE = re.compile(r"^\[(E\d{3})\] ")


class State:
    archive_path: Location  # a file, or a postgresql:// URL (a string)
    user: str | None = None
    json: bool = False


state = State()


def _error(message: str) -> tuple[str, str]:
    """(code, text) of a one-line error; a message without a code is a usage error."""
    m = _CODE.match(message)
    return (m.group(1), message[m.end() :]) if m else ("E113", message)


def _report(message: str) -> None:
    """One error on stderr: a line, or a JSON object under --json."""
    code, text = _error(message)
    sys.stdout.flush()  # what was printed before the error stays before it
    if state.json:
        print(json.dumps({"error": code, "message": text}, ensure_ascii=False), file=sys.stderr)
    else:
        print(f"Error: [{code}] {text}", file=sys.stderr)


def _notice(message: str, kind: str = "error") -> None:
    """A problem that a batch goes on after (a file, a row, a page), on stderr: the line as it
    is, or under --json an object `{"error": CODE, "message": TEXT}` (`"warning"` for a warning)."""
    sys.stdout.flush()
    if state.json:
        code, text = _error(message)
        print(json.dumps({kind: code, "message": text}, ensure_ascii=False), file=sys.stderr)
    else:
        print(message, file=sys.stderr)


def _fail(message: str, code: int = 1) -> NoReturn:
    _report(message)
    raise typer.Exit(code)


def _wants_json(args: Sequence[str]) -> bool:
    return "--json" in (args[: list(args).index("--")] if "--" in args else args)


class _Root(typer.core.TyperGroup):
    """The root command: every error one line (or one JSON object), never a traceback or a box."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        state.json = _wants_json(argv)
        try:
            # Not standalone: click hands usage errors back here instead of
            # printing its multi-line usage text (or typer its Rich box).
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:
            if not standalone_mode:
                raise
            exc.show()  # `kartoteka` or `kartoteka user` alone: the help, as always
            sys.exit(exc.exit_code)
        except typer.TyperException as exc:  # Click's usage and parameter errors
            if not standalone_mode:
                raise
            ctx = getattr(exc, "ctx", None)
            text = " ".join(exc.format_message().split()).rstrip(".")
            where = f". See '{ctx.command_path} --help'." if ctx is not None else "."
            _report(KartotekaError(E.E113, reason=f"{text}{where}").message)
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            _report(KartotekaError(E.E113, reason="aborted").message)
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except sqlite3.DatabaseError as exc:
            _fail(database_error(str(state.archive_path), exc).message)
        except KartotekaError as exc:
            _fail(exc.message)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # a closed pipe (`| head`): Click quiets it
            path = exc.filename if exc.filename is not None else state.archive_path
            err = E.E118 if exc.errno in (errno.ENOSPC, errno.EDQUOT) else E.E117
            _fail(KartotekaError(err, path=path, reason=exc.strerror or type(exc).__name__).message)
        except Exception as exc:  # last: it re-raises what is not PostgreSQL's
            # psycopg is imported only by an archive on PostgreSQL: a SQLite
            # archive's command does not pay for loading it.
            pg = sys.modules.get("psycopg")
            if pg is None or not isinstance(exc, pg.Error):
                raise
            from kartoteka.store.postgres import failed

            _fail(failed(str(state.archive_path), exc).message)


app = typer.Typer(
    cls=_Root,
    name="kartoteka",
    help="Kartoteka: an archive for intelligence-style records. Ingest documents, name-check people, open dossiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (see README, 'JSON output').")]


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


def _command() -> str:
    """The command being run, as typed after the global options: 'stats', 'user add'."""
    ctx = get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def _archive(create: bool | None = None) -> Archive:
    """The archive, opened for this command. Only the commands in CREATES (or
    `create=True`) may make a new file."""
    if not (_command() in CREATES if create is None else create) and not _exists():
        _fail(KartotekaError(E.E110, path=_shown()).message)
    _refuse_if_served()
    try:
        return Archive(state.archive_path, user=state.user)
    except KartotekaError as exc:
        _fail(exc.message)


def _exists() -> bool:
    try:
        return locations.exists(state.archive_path)
    except KartotekaError as exc:
        _fail(exc.message)


def _shown() -> str:
    """The archive as messages name it (a URL without its password)."""
    where = state.archive_path
    return locations.display(where) if isinstance(where, str) else str(where)


def _refuse_if_served() -> None:
    """The command line acts as the owner, or `--as USER` as that user, with no
    password: the file owner's prerogative. While a server serves the archive its
    users log in there, so nobody else gets that authority here (access/serving.py)."""
    path = state.archive_path
    if isinstance(path, str):
        # A PostgreSQL archive: whoever holds credentials for its database reads it whole
        # anyway; there is no file whose owner the command line could stand for.
        return
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
