"""Analysis commands: relations and their graph, co-occurrence, timelines, grades and claims."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kartoteka import render
from kartoteka.archive import Archive
from kartoteka.cli.common import JsonOpt, _call, _fail, _progress, app
from kartoteka.store.private import write_private


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
    depth: Annotated[int, typer.Option(min=1, max=4, help="Hops from the entity (1 to 4).")] = 1,
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
        write_private(output, data)
        render.err.print(f"{len(net['nodes'])} entities, {len(net['relations'])} relations → {output}")
    else:
        sys.stdout.write(data.decode())


@app.command()
def cooccur(
    a: Annotated[str, typer.Argument(help="An entity id or a name.")],
    b: Annotated[str | None, typer.Argument(help="Another; without it, A's associates ranked by significance.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Associates to list.")] = 20,
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


claim_app = typer.Typer(help="Assessment: Admiralty-graded claims, confirmation, contradictions.", no_args_is_help=True)


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
    label: Annotated[
        str | None,
        typer.Option(help="Who may see the claim, e.g. S:HUM (default: the document's label, else your clearance)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a claim by hand."""
    result = _call(lambda a: a.claim(entity, statement, source, reliability, credibility, document, label))
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
