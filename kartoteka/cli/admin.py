"""Administration commands: users, protected sources, the audit log, and the HTTP server."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer

from kartoteka import render
from kartoteka.access.serving import ServingLock
from kartoteka.cli.common import JsonOpt, _archive, _call, _fail, app, state
from kartoteka.errors import E, KartotekaError


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    request_timeout: Annotated[
        float, typer.Option(help="Seconds a request may run before it is stopped and answered 503.")
    ] = 30.0,
    anchor_every: Annotated[float, typer.Option(help="Seconds between signed anchors of the audit head.")] = 30.0,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes; they share sessions and tokens (ARCHIVE.sessions.sqlite; on PostgreSQL the schema NAME_sessions)."
        ),
    ] = 1,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs) over this archive. Users log in with their password.

    SIGTERM or Ctrl-C stops it: requests in flight end at their next SQL step,
    the audit head is anchored, and the process exits within a few seconds."""
    from kartoteka.service.run import serve as run_server

    if not 1 <= workers <= 64:
        _fail(KartotekaError(E.E070, field="--workers", reason="between 1 and 64").message)
    for option, value in (("request-timeout", request_timeout), ("anchor-every", anchor_every)):
        if not value > 0:
            _fail(KartotekaError(E.E086, option=option, value=value).message)
    _archive().close()  # fail now, in one line, if the archive cannot be opened
    # While the lock is held the archive is "being served": the command line is
    # then refused to anyone but the file's owner (access/serving.py).
    with ServingLock(state.archive_path):
        run_server(
            state.archive_path,
            host,
            port,
            request_seconds=request_timeout,
            anchor_seconds=anchor_every,
            workers=workers,
        )


user_app = typer.Typer(help="Users and their clearances (the archive owner only).", no_args_is_help=True)
source_app = typer.Typer(help="Protected sources: cryptonyms, sealed true names, handlers.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts, with scopes (the archive owner only).", no_args_is_help=True)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="The user the token acts as (a user with a password).")],
    scope: Annotated[str, typer.Option(help="Comma-separated: check, search, read, release.")] = "check",
    name: Annotated[str, typer.Option(help="What the token is for, shown in 'token list'.")] = "",
    days: Annotated[float, typer.Option(help="Days until it expires.")] = 90,
    json_out: JsonOpt = False,
) -> None:
    """Make an API token (printed once; only its hash is kept): kartoteka token create ANNA --scope check,search"""
    made = _call(lambda a: a.create_token(user, name, scope, days))
    if json_out:
        render.emit_json(made)
    else:
        render.out.print(made["token"], soft_wrap=True)
        render.err.print(
            f"token {made['id']} for {made['user']}: {', '.join(made['scopes'])}; expires {made['expires']}"
        )


@token_app.command("list")
def token_list(json_out: JsonOpt = False) -> None:
    """API tokens: id, user, name, scopes, expiry (never the secret)."""
    tokens = _call(lambda a: a.tokens())
    if json_out:
        render.emit_json({"tokens": tokens})
    else:
        for t in tokens:
            render.out.print(f"{t['id']}  {t['user']}  {','.join(t['scopes'])}  expires {t['expires']}  {t['name']}")


@token_app.command("revoke")
def token_revoke(
    ident: Annotated[str, typer.Argument(help="The token's id ('token list').")], json_out: JsonOpt = False
) -> None:
    """End an API token at once (every server process sees it on the token's next request)."""
    result = _call(lambda a: a.revoke_token(ident))
    render.emit_json(result) if json_out else render.out.print(f"token {ident} revoked")


def _user_line(u: dict[str, Any]) -> str:
    return f"{u['user']}: {u['clearance']} {', '.join(u['tokens']) or '(no tokens)'}"


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    clearance: Annotated[
        str,
        typer.Option(
            help="U, C, S or TS; a clearance implies the lower levels. OWNER: an owner who logs in (web, API)."
        ),
    ],
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


@source_app.command("add")
def source_add(
    cryptonym: Annotated[str, typer.Argument(help="The name reports cite, e.g. GRANITE.")],
    handler: Annotated[str, typer.Option(help="The one user who runs the source; cleared for its label.")],
    true_name: Annotated[
        str | None,
        typer.Option(
            "--true-name",
            help="'-' reads the true name from stdin; left out, you are asked for it (not echoed). Sealed at once;"
            " never indexed or logged. A name given here itself is refused: ps and /proc show it to every user.",
            metavar="-",
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="The source's label; its handlers must be cleared for it.")] = "S:HUM",
    json_out: JsonOpt = False,
) -> None:
    """Register a source (archive owner or a user holding the REGISTRY token)."""
    name = _true_name(true_name)
    result = _call(lambda a: a.source_add(cryptonym, name, handler, label))
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(f"{result['cryptonym']}: handled by {result['handler']} ({result['label']})")


def _true_name(option: str | None) -> str:
    """A true name never travels on the command line, where any local user can read it."""
    if option is None:
        return getpass.getpass("True name (not echoed): ")
    if option != "-":
        _fail(KartotekaError(E.E103).message)
    return sys.stdin.readline().rstrip("\r\n")


# Two sources may share a cryptonym in different compartments; one who may see both names one by its id (E171).
IdOpt = Annotated[str | None, typer.Option("--id", help="Which of the sources you may see called CRYPTONYM.")]


@source_app.command("show")
def source_show(cryptonym: str, source_id: IdOpt = None, json_out: JsonOpt = False) -> None:
    """The true name behind a cryptonym: for its handler and the registry chief only."""
    result = _call(lambda a: a.source_show(cryptonym, source_id))
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
            render.out.print(f"{s['cryptonym']}: handled by {s['handler']} ({s['label']}; id {s['id']})")


@source_app.command("handover")
def source_handover(
    cryptonym: str,
    to: Annotated[str, typer.Option("--to", help="The new handler.")],
    source_id: IdOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Pass a source to a new handler (audited)."""
    result = _call(lambda a: a.source_handover(cryptonym, to, source_id))
    render.emit_json(result) if json_out else render.out.print(f"{cryptonym}: {result['from']} → {result['to']}")


@audit_app.command("verify")
def audit_verify(json_out: JsonOpt = False) -> None:
    """Recompute the audit chain and check it against the signed anchors."""
    result = _call(lambda a: a.audit_verify())
    if json_out:
        render.emit_json(result)
    elif result["ok"]:
        sealed = f", {result['segments']} sealed segment(s)" if result["segments"] else ""
        render.out.print(
            f"Audit log intact: {result['entries']} entries, {result['anchors']} signed anchors{sealed}."
            + (
                f" The last {result['unanchored']} entries are not yet anchored (a process ended before it"
                " signed them): 'kartoteka audit anchor' signs them now."
                if result["unanchored"]
                else ""
            )
        )
    if not result["ok"]:
        # Under --json too: the report on stdout, the error object on stderr (as doctor's E116).
        _fail(KartotekaError(E.E043, problems="; ".join(result["problems"])).message)


@audit_app.command("anchor")
def audit_anchor(json_out: JsonOpt = False) -> None:
    """Sign the current head into the anchor file now (for a cron job); nothing if it is already anchored."""
    result = _call(lambda a: a.audit_anchor())
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(
            "Anchored the current head." if result["anchored"] else "The current head is already anchored."
        )


@audit_app.command("compact")
def audit_compact(
    keep: Annotated[int, typer.Option(min=0, help="Recent entries to leave in the live trail.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Seal old entries into a compressed, signed segment file beside the archive (see README, 'Compartments')."""
    result = _call(lambda a: a.audit_compact(keep))
    if json_out:
        render.emit_json(result)
    elif result["sealed"]:
        render.out.print(
            f"Sealed entries {result['first']} to {result['last']} into {result['file']} ({result['bytes']:,} bytes)."
        )
    else:
        render.out.print("Nothing to seal.")
