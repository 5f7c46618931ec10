"""Card-index commands: the name check (one name or a batch), the dossier, and corrections."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from kartoteka import render
from kartoteka.archive import Archive
from kartoteka.cli.common import JsonOpt, _archive, _call, _fail, _notice, _progress, app
from kartoteka.errors import E, KartotekaError
from kartoteka.names.compare import LIKELY
from kartoteka.store.private import open_private


@app.command()
def check(
    name: Annotated[str | None, typer.Argument(help="A name in any script or spelling.")] = None,
    batch: Annotated[Path | None, typer.Option("--batch", help="CSV with columns query_id,name.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write batch results here (.csv or .jsonl).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Candidates per query.")] = 5,
    workers: Annotated[int, typer.Option(min=1, help="Processes for --batch screening.")] = 1,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray", help="Screen --batch on a Ray cluster: ADDRESS, or auto (else a local one of --workers CPUs)."
        ),
    ] = None,
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
        actors = 0
        if ray is not None:
            from kartoteka import cluster

            actors = cluster.connect(ray, num_cpus=workers)
        _check_batch(arch, batch, output, limit, json_out, workers, actors)
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
                _notice(KartotekaError(E.E030, path=path, row=row_no, reason="empty 'name'").message)
                continue
            yield qid, qname


def _check_batch(
    arch: Archive, batch: Path, output: Path | None, limit: int, json_out: bool, workers: int = 1, actors: int = 0
) -> None:
    rows = list(_batch_rows(batch))
    as_csv = (output is not None and output.suffix.lower() == ".csv") or (output is None and not json_out)
    sink = open_private(output) if output else sys.stdout
    writer = csv.writer(sink) if as_csv else None
    if writer:
        writer.writerow(["query_id", "query", "rank", "entity_id", "name", "score", "explanation"])
    hits = 0
    with _progress() as progress:
        task = progress.add_task("Screening", total=len(rows), detail="")
        for result in arch.check_batch(rows, limit, workers=workers, ray_actors=actors):
            matches: list[dict[str, Any]] = result["matches"]
            if "error" in result:
                _notice(str(result["error"]))
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


@app.command("cards")
def cards_(
    kind: Annotated[str | None, typer.Option(help="person, org, place or cryptonym (default: all).")] = None,
    sort: Annotated[str, typer.Option(help="mentions, records or name.")] = "mentions",
    limit: Annotated[int, typer.Option(min=1, help="Cards to list.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Cards to skip.")] = 0,
    unconfirmed: Annotated[
        bool, typer.Option("--unconfirmed", help="List the person names without evidence of being a person's.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Browse the card index like a card drawer: cards with their mention and record counts.

    A person card is listed with the evidence that it names a person (a known
    given or family name, a title, a CIA ((SURNAME)), a card form, a Slavic
    family name, recurrence in records, an import or an analyst's alias).
    Names without any are unconfirmed mentions, listed apart with
    --unconfirmed; an alias or a merge confirms one."""
    r = _call(lambda a: a.cards(kind, sort, limit, offset, unconfirmed))
    if json_out:
        render.emit_json(r)
        return
    for c in r["cards"]:
        why = f" · {c['evidence']}" if c["evidence"] else ""
        render.out.print(
            f"{c['name']}  [dim]{c['kind'].lower()} · {c['mentions']} mention(s) in {c['records']} record(s)"
            f"{why} · {c['entity_id']}[/dim]"
        )
    tail = "" if unconfirmed else f"; {r['unconfirmed']} unconfirmed person name(s), see --unconfirmed"
    render.err.print(f"{len(r['cards'])} of {r['total']} card(s){tail}")


@app.command()
def dossier(
    ref: Annotated[
        str, typer.Argument(help="An entity id, or a name the name check resolves.", metavar="NAME|ENTITY_ID")
    ],
    json_out: JsonOpt = False,
    passages: Annotated[int, typer.Option(min=0, help="Passages shown per document (all are in --json).")] = 3,
) -> None:
    """Everything on one person: names, every citing passage, dates, associates."""
    d = _call(lambda a: a.dossier(ref))
    render.emit_json(d) if json_out else render.dossier(d, passages)


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
    label: Annotated[
        str | None, typer.Option(help="Who may see the alias, e.g. S:HUM (default: your clearance).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Correct the index: add a name this person is also known by."""
    _correct(lambda a: a.alias(entity, name, label), json_out, "{entity_id} is also known as {alias}.")


def _correct(fn: Callable[[Archive], dict[str, Any]], json_out: bool, message: str) -> None:
    r = _call(fn)
    render.emit_json(r) if json_out else render.out.print(message.format(**r))
