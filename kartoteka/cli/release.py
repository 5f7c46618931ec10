"""Release commands: write the copy an audience may receive, and prove a copy withholds what it must."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kartoteka import render
from kartoteka.cli.common import JsonOpt, _call, _fail, app
from kartoteka.errors import E, KartotekaError
from kartoteka.store.private import write_private


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
    write_private(target, data)
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
        # Under --json too: the report on stdout, the error object on stderr.
        _fail(KartotekaError(E.E044, path=file, found="; ".join(result["leaks"][:3])).message)
