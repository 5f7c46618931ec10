"""Rendering of archive data for the terminal. JSON output is the data itself."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

__all__ = ["check_table", "document", "dossier", "emit_json", "err", "escape", "out", "search", "stats"]
from rich.table import Table

out = Console(soft_wrap=False)
err = Console(stderr=True)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def check_table(result: dict[str, Any]) -> None:
    matches = result["matches"]
    if not matches:
        out.print(f"No record of [bold]{escape(result['query'])}[/bold] in the card index.")
        return
    table = Table(title=f"Name check: {escape(result['query'])}", title_justify="left")
    table.add_column("score", justify="right")
    table.add_column("entity")
    table.add_column("name")
    table.add_column("why")
    for m in matches:
        style = "bold green" if m["score"] >= 0.9 else "green" if m["score"] >= 0.7 else "yellow"
        table.add_row(
            f"[{style}]{m['score']:.2f}[/{style}]", m["entity_id"], escape(m["name"]), escape(m["explanation"])
        )
    out.print(table)


def dossier(d: dict[str, Any], max_snippets: int = 3) -> None:
    out.rule(f"[bold]Dossier: {escape(d['name'])}[/bold]  ({d['entity_id']}, {d['kind'].lower()})", align="left")
    if d["aliases"]:
        out.print("[bold]Also known as:[/bold] " + ", ".join(escape(a) for a in d["aliases"]))
    out.print(f"[bold]Mentions:[/bold] {d['mention_count']} in {len(d['documents'])} document(s)")
    for doc in d["documents"]:
        out.print(f"\n[bold cyan]{escape(doc['source'])}[/bold cyan]  [dim]{doc['document_id']}[/dim]")
        for s in doc["snippets"][:max_snippets]:
            text = escape(s["text"]).replace(escape(s["mention"]), f"[reverse]{escape(s['mention'])}[/reverse]", 1)
            out.print(f"  ¶{s['portion']}: {text}")
        if len(doc["snippets"]) > max_snippets:
            out.print(f"  [dim]… {len(doc['snippets']) - max_snippets} more passage(s); --json for all[/dim]")
    dated = [x for x in d["dates"] if x["value"]]
    if dated:
        out.print(
            "\n[bold]Dates near the mentions:[/bold] "
            + ", ".join(f"{escape(x['text'])} ({x['value']})" for x in dated[:12])
        )
    if d.get("marked"):
        out.print(
            "\n[bold]Read but not asserted[/bold] [dim](questions, hypotheticals, speculation, reported claims)[/dim]"
        )
        for m in d["marked"]:
            out.print(f"  {escape(m['relation'])} [dim]({m['modality']}; {escape(m['source'])} ¶{m['portion']})[/dim]")
    if d["associates"]:
        out.print(
            "[bold]Mentioned with:[/bold] "
            + ", ".join(
                f"{escape(a['name'])} [dim]({a['kind'].lower()}, {a['portions']})[/dim]" for a in d["associates"]
            )
        )


def search(r: dict[str, Any]) -> None:
    out.print(f"[bold]{r['total']}[/bold] passage(s) match [bold]{escape(r['query'])}[/bold]")
    for h in r["hits"]:
        snippet = escape(h["snippet"]).replace("«", "[bold yellow]").replace("»", "[/bold yellow]")
        out.print(f"[cyan]{escape(h['source'])}[/cyan] ¶{h['portion']}: {snippet}")


def document(d: dict[str, Any]) -> None:
    out.print(f"[bold]{escape(d['source'])}[/bold] ({d['document_id']}) {escape(d['banner'])}")
    ocr = [p for p in d["pages"] if p["ocr_confidence"] is not None]
    if ocr:
        out.print("[dim]OCR pages: " + ", ".join(f"p.{p['page']} {p['ocr_confidence']:.0%}" for p in ocr) + "[/dim]")
    page = None
    for p in d["portions"]:
        if p["page"] != page and p["page"] is not None and len(d["pages"]) > 1:
            page = p["page"]
            out.print(f"[dim]--- page {page} ---[/dim]")
        tag = {"banner": "BANNER", "page_marker": "PAGE", "marking": "MARK"}.get(p["kind"], p["mark"] or "")
        if p["boilerplate"]:
            tag = "STAMP"
        conf = f" [dim]({p['ocr_confidence']:.0%} OCR)[/dim]" if p["ocr_confidence"] is not None else ""
        style = "dim" if p["boilerplate"] else ""
        text = escape(p["text"])
        out.print(
            f"[dim]{p['n']:>3} {escape(tag):>8}[/dim] " + (f"[{style}]{text}[/{style}]" if style else text) + conf
        )


def stats(s: dict[str, Any]) -> None:
    for k, v in s.items():
        out.print(f"{k:>16}: {v}")
