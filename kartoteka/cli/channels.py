"""Secure channels: the drop (`drop ...`), stations (`station ...`) and cables (`cable ...`).

`drop serve` runs the drop as a fresh process that loads nothing of the
archive (kartoteka/channels/drop_app.py); the other drop commands are the
handler's, on the handler's machine, with the newsroom's private key file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kartoteka import render
from kartoteka.archive.sources import DEFAULT_SOURCE_LABEL
from kartoteka.channels import codename as cn
from kartoteka.channels.drop_store import MAX_UPLOAD_BYTES, NEWSROOM_KEY, Drop, init_drop, write_key_pair
from kartoteka.cli.common import JsonOpt, _archive, _call, _fail, _notice, _progress, state
from kartoteka.errors import E, KartotekaError

drop_app = typer.Typer(help="The drop: where sources leave material and read replies.", no_args_is_help=True)
station_app = typer.Typer(help="This station's keys and its peers' public keys.", no_args_is_help=True)
cable_app = typer.Typer(help="Cables between stations: enciphered, signed, numbered per link.", no_args_is_help=True)

PUBLIC_KIND = "kartoteka newsroom public key"

DropOpt = Annotated[
    Path, typer.Option("--drop", envvar="KARTOTEKA_DROP", help="The drop folder (default ./drop).", metavar="DIR")
]
KeyOpt = Annotated[
    Path,
    typer.Option("--key", help="The newsroom's private key file (kept offline; never stored in the archive)."),
]
StationOpt = Annotated[
    Path,
    typer.Option(
        "--station", envvar="KARTOTEKA_STATION", help="This station's folder (default ./station).", metavar="DIR"
    ),
]


def _emit(obj: dict[str, Any], json_out: bool, line: str) -> None:
    if json_out:
        render.emit_json(obj)
    else:
        render.out.print(line, markup=False, highlight=False)


# the drop ---------------------------------------------------------------------
@drop_app.command("keygen")
def drop_keygen(
    key: Annotated[Path, typer.Argument(help="Where to write the private key (mode 0600; never overwritten).")],
    json_out: JsonOpt = False,
) -> None:
    """Make the newsroom's key pair: the private key for the handler's offline machine, KEY.pub for the drop."""
    public = write_key_pair(key, NEWSROOM_KEY)
    pub_path = key.with_name(key.name + ".pub")
    pub_path.write_text(json.dumps({"kind": PUBLIC_KIND, "x25519": bytes(public).hex()}) + "\n", encoding="utf-8")
    _emit(
        {"key": str(key), "public_key_file": str(pub_path), "public_key": bytes(public).hex()},
        json_out,
        f"private key {key} (keep it offline), public key {pub_path}",
    )


def _read_public(path: Path) -> bytes:
    try:
        data = json.loads(path.read_bytes())
        if data.get("kind") != PUBLIC_KIND:
            raise ValueError("not a newsroom public key")
        raw = bytes.fromhex(data["x25519"])
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return raw
    except FileNotFoundError:
        _fail(KartotekaError(E.E132, path=path, reason="missing").message)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        _fail(KartotekaError(E.E132, path=path, reason=str(exc)).message)


@drop_app.command("init")
def drop_init(
    newsroom_key: Annotated[Path, typer.Option("--newsroom-key", help="The public key file from 'drop keygen'.")],
    drop: DropOpt = Path("drop"),
    max_upload_mib: Annotated[int, typer.Option(min=1, max=1024, help="Largest submission, MiB.")] = MAX_UPLOAD_BYTES
    // 2**20,
    json_out: JsonOpt = False,
) -> None:
    """Make an empty drop folder for the newsroom's public key."""
    from nacl.public import PublicKey

    config = init_drop(drop, PublicKey(_read_public(newsroom_key)), max_upload=max_upload_mib * 2**20)
    _emit(
        {
            "drop": str(drop),
            "max_upload_bytes": config["max_upload_bytes"],
            "codename_bits": round(cn.entropy_bits(), 2),
        },
        json_out,
        f"drop {drop}: submissions up to {max_upload_mib} MiB, codenames of {cn.entropy_bits():.1f} bits",
    )


@drop_app.command("serve")
def drop_serve(
    drop: DropOpt = Path("drop"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8010,
) -> None:
    """Run the drop's web pages: a process of its own that loads nothing of the archive."""
    Drop(drop)  # a missing or damaged drop is one line here, not a traceback there
    argv = [
        sys.executable,
        "-m",
        "kartoteka.channels.drop_app",
        "--drop",
        str(drop),
        "--host",
        host,
        "--port",
        str(port),
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # the archive's modules, loaded by this CLI, are gone with this image


def _handler(given: str | None) -> str:
    """Whom collected sources are registered to: the user running it, or for the owner --handler."""
    if state.user is not None:
        if given is not None and given != state.user:
            _fail(KartotekaError(E.E102, name=given, cryptonym="the drop's sources").message)
        return state.user
    if given is None:
        _fail(KartotekaError(E.E152).message)
    return given


@drop_app.command("collect")
def drop_collect(
    key: KeyOpt,
    drop: DropOpt = Path("drop"),
    label: Annotated[str, typer.Option(help="Label of what is collected.")] = DEFAULT_SOURCE_LABEL,
    handler: Annotated[str | None, typer.Option(help="Handler of new sources (the owner must name one).")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove each submission from the drop once stored.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Open the drop's submissions with the newsroom key and ingest them under new cryptonyms (HANDLER)."""
    from kartoteka.channels.collect import Collector

    arch = _archive()
    failed = 0
    problems: list[str] = []
    try:
        collector = Collector(arch, drop, key, _handler(handler), label=label, delete=delete)
        pending = collector.pending()
        problems = collector.problems
        for line in problems:
            _notice(line)
        progress = _progress()
        with progress:
            task = progress.add_task("Collecting", total=len(pending), detail="")
            for result in collector.run(pending, tick=lambda: progress.advance(task)):
                if result["status"] == "error":
                    failed += 1
                    _notice(str(result["error"]))
                if json_out:
                    render.emit_json(result)
        s = collector.summary
        if json_out:
            render.emit_json({"summary": s.as_json()})
        else:
            render.out.print(
                f"{s.submissions} submission(s) from {len(s.sources)} source(s) ({len(s.new_sources)} new): "
                f"{s.added} added, {s.unchanged} unchanged, {s.errors} failed"
                + (f", {s.deleted} removed from the drop" if delete else ""),
                markup=False,
            )
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()
    if failed or problems:
        raise typer.Exit(1)


@drop_app.command("reply")
def drop_reply(
    cryptonym: Annotated[str, typer.Argument(help="The source's cryptonym (never its codename).")],
    file: Annotated[str, typer.Argument(help="The reply's text file, or '-' for stdin.")],
    key: KeyOpt,
    drop: DropOpt = Path("drop"),
    label: Annotated[
        str | None, typer.Option(help="Label of the archive's copy of the reply (default: the source's label).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Seal a reply that only the source's codename opens, and keep a copy in the archive (HANDLER)."""
    from kartoteka.channels.collect import reply

    if cn.looks_like_codename(cryptonym):  # before the archive is opened, or the text read
        _fail(KartotekaError(E.E131).message)
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    result = _call(lambda a: reply(a, drop, key, cryptonym, text, label))
    _emit(
        result,
        json_out,
        f"reply {result['reply']} to {cryptonym} sealed in {drop}; archived as {result['document_id']}",
    )


@drop_app.command("list")
def drop_list(json_out: JsonOpt = False) -> None:
    """Your drop sources with their collected submissions and replies (HANDLER)."""
    from kartoteka.channels.collect import desk

    result = _call(desk)
    if json_out:
        render.emit_json(result)
        return
    for s in result["sources"]:
        render.out.print(
            f"{s['cryptonym']} ({s['handler']}): {len(s['submissions'])} document(s) sent, {len(s['replies'])} reply(ies)",
            markup=False,
        )
        for item in s["submissions"]:
            render.out.print(f"  {item['day']}  {item['document_id']}  {item['source']}", markup=False)
        for item in s["replies"]:
            render.out.print(f"  {item['day']}  {item['document_id']}  {item['source']} (reply)", markup=False)


# stations ---------------------------------------------------------------------
@station_app.command("create")
def station_create(
    name: Annotated[str, typer.Argument(help="This station's name: capital letters, digits, '-'.")],
    station: StationOpt = Path("station"),
    json_out: JsonOpt = False,
) -> None:
    """Make this station's keys (X25519 to be enciphered to, Ed25519 to sign)."""
    from kartoteka.channels.station import Station

    me = Station.create(station, name).public()
    _emit(me.as_json(), json_out, f"station {me.name} in {station}, fingerprint {me.fingerprint}")


@station_app.command("export")
def station_export(
    station: StationOpt = Path("station"),
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Write the public keys here.")] = None,
) -> None:
    """Print (or write) this station's public keys, for its peers to import."""
    from kartoteka.channels.station import Station

    text = json.dumps(Station(station).public().as_json(), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@station_app.command("import")
def station_import(
    file: Annotated[Path, typer.Argument(help="A peer's exported public keys.")],
    station: StationOpt = Path("station"),
    replace: Annotated[bool, typer.Option("--replace", help="Accept new keys for a known peer.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a peer station's public keys. Compare the fingerprint with the peer over another channel."""
    from kartoteka.channels.station import Station

    try:
        data = json.loads(file.read_bytes())
    except ValueError:
        _fail(KartotekaError(E.E136, reason=f"{file} is not a station's public keys").message)
    peer = Station(station).import_peer(data, replace=replace)
    _emit(peer.as_json(), json_out, f"peer {peer.name}, fingerprint {peer.fingerprint}")


@station_app.command("peers")
def station_peers(station: StationOpt = Path("station"), json_out: JsonOpt = False) -> None:
    """The peers this station knows, with their fingerprints."""
    from kartoteka.channels.station import Station

    peers = [p.as_json() for p in Station(station).peers()]
    if json_out:
        render.emit_json({"peers": peers})
    for p in peers if not json_out else []:
        render.out.print(f"{p['name']}  {p['fingerprint']}", markup=False)


# cables -----------------------------------------------------------------------
@cable_app.command("send")
def cable_send(
    file: Annotated[Path, typer.Argument(help="The cable's text (UTF-8).")],
    to: Annotated[str, typer.Option("--to", help="The addressee station.")],
    precedence: Annotated[str, typer.Option(help="ROUTINE, PRIORITY, IMMEDIATE or FLASH.")] = "ROUTINE",
    label: Annotated[str, typer.Option(help="The cable's label, e.g. S or S:HUM.")] = "S",
    title: Annotated[str, typer.Option(help="Subject line (enciphered with the body).")] = "",
    station: StationOpt = Path("station"),
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also write the cable here, for transport.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Encipher a cable to a peer station, sign it, number it on the link, file it in the outbox."""
    from kartoteka.channels.cable import send
    from kartoteka.channels.station import Station

    try:
        body = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        _fail(KartotekaError(E.E001, path=file, reason="not UTF-8 text").message)
    header, path = send(Station(station), to, precedence, label, body, title)
    if out is not None:
        out.write_bytes(path.read_bytes())
    result = {**header, "file": str(out or path)}
    _emit(result, json_out, f"{precedence} cable {header['serial']} to {to} ({header['label']}) → {result['file']}")


@cable_app.command("receive")
def cable_receive(
    files: Annotated[list[Path], typer.Argument(help="Cable files, in the order they arrived.")],
    station: StationOpt = Path("station"),
    json_out: JsonOpt = False,
) -> None:
    """Verify (signature, serial), decipher and ingest cables with their label and precedence (REGISTRY)."""
    from kartoteka.channels.cable import Receiver
    from kartoteka.channels.station import Station

    here = Station(station)
    arch = _archive()
    failed = 0
    try:
        for result in Receiver(arch, here).run(files):
            for warning in result.get("warnings", []):
                _notice(warning, "warning")
            if result["status"] == "error":
                failed += 1
                _notice(str(result["error"]))
            if json_out:
                render.emit_json(result)
            elif result["status"] != "error":
                render.out.print(
                    f"{result['status']}  {result['document_id']}  {result['precedence']} {result['from']} "
                    f"{result['serial']} ({result['label']})",
                    markup=False,
                )
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()
    if failed:
        raise typer.Exit(1)
