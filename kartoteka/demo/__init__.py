"""The demo: a fictional corpus shipped with Kartoteka and a guided tour.

Every person, organisation and event in `corpus/` is invented for the demo;
the documents imitate the forms of real records (a CREST-style report with
portion marks and exemption codes, a cable, an interview transcript, an HTML
article) so that every part of the archive has something to show.
"""

from __future__ import annotations

import secrets
import shutil
from importlib import resources
from pathlib import Path

from rich.markup import escape

from kartoteka import render
from kartoteka.archive import Archive
from kartoteka.registry.readers import discover, read_path

TOUR_CHECKS = [
    ("Зорин", "Cyrillic query, Latin records"),
    ("Sorin", "German transliteration"),
    ("ZORIN, Arkadiy P.", "card form with initial"),
    ("Wetrowa", "German transliteration of Ветрова"),
    ("Grigory Ilyich", "given name and patronymic, as a colleague addresses him"),
    ("Vladimir Kalmykov", "a different Kalmykov: kept apart"),
]


def corpus_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("corpus")))


def build(path: Path) -> Archive:
    # The audit trail, and the credentials of old runs' log-ins.
    trail = tuple(f".{name}.sqlite{end}" for name in ("audit", "sessions") for end in ("", "-wal", "-shm"))
    for suffix in ("", "-wal", "-shm", ".audit-key", ".audit-anchors", ".sources-key", ".names-index", *trail):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{path}.audit-segments", ignore_errors=True)
    arch = Archive(path)
    items = (doc for f in discover([str(corpus_path())]) if isinstance(f, Path) for doc in read_path(f))
    for result in arch.ingest(items):
        if result.status == "error":
            render.err.print(result.error)
    return arch


def web_logins(path: Path) -> list[tuple[str, str, str]]:
    """Users to log in to the demo in a browser, with fresh passwords: (user, clearance, password).

    The demo archive is rebuilt on every run, so its passwords are made anew
    each time and printed once; they guard nothing but fictional records."""
    logins = [("admin", "OWNER", secrets.token_urlsafe(12)), ("clerk", "U", secrets.token_urlsafe(12))]
    arch = Archive(path)
    try:
        for user, clearance, password in logins:
            arch.add_user(user, clearance, [], password)
    finally:
        arch.close()
    return logins


def run_demo(path: Path) -> None:
    out = render.out
    out.rule("[bold]Kartoteka demo[/bold]", align="left")
    out.print(f"Building a demo archive at [bold]{path}[/bold] from the fictional corpus in {corpus_path()} …")
    arch = build(path)
    try:
        stats = arch.stats()
        out.print(
            f"Ingested [bold]{stats['documents']}[/bold] documents: {stats['portions']} portions, "
            f"{stats['people']} people, {stats['organisations']} organisations, {stats['places']} places, "
            f"{stats['dates']} dates, {stats['markings']} markings.\n"
        )
        out.rule("1. Registry: markings kept as structure", align="left")
        for doc in arch.documents():
            d = arch.document(str(doc["id"]))
            kinds: dict[str, list[str]] = {}
            for m in d["markings"]:
                kinds.setdefault(str(m["kind"]), []).append(str(m["value"]))
            summary = "; ".join(f"{k}: {', '.join(sorted(set(v)))}" for k, v in sorted(kinds.items())) or "none"
            out.print(
                f"[cyan]{Path(str(doc['source'])).name}[/cyan] [{doc['classification'] or 'unmarked'}] {escape(summary)}"
            )
        out.print()
        out.rule("2. Name check: any script, any spelling", align="left")
        for query, why in TOUR_CHECKS:
            r = arch.check(query, limit=2)
            matches = r["matches"]
            assert isinstance(matches, list)
            if matches:
                m = matches[0]
                out.print(
                    f"[bold]{escape(query)}[/bold] [dim]({why})[/dim] → {escape(m['name'])} [green]{m['score']:.2f}[/green]: {escape(m['explanation'])}"
                )
            else:
                out.print(f"[bold]{escape(query)}[/bold] [dim]({why})[/dim] → no record")
        out.print()
        out.rule("3. Dossier", align="left")
        render.dossier(arch.dossier("Arkady Zorin"), max_snippets=1)
        out.print()
        out.rule("4. Full-text search", align="left")
        render.search(arch.search("Mendes", limit=3))
        out.print()
        out.rule("5. Compartments: what a clerk cleared for UNCLASSIFIED sees", align="left")
        arch.add_user("clerk", "U", [])
        report = next(str(d["id"]) for d in arch.documents() if "report" in str(d["source"]))
        clerk = Archive(path, user="clerk")
        try:
            for who, view in (("owner", arch), ("clerk", clerk)):
                st = view.stats()
                found = view.check("Irina Zorina", limit=1)["matches"]
                out.print(
                    f"[bold]{who}[/bold]: {st['portions']} portions, {st['people']} people; "
                    f"name check 'Irina Zorina' → {escape(found[0]['name']) if found else 'no record'}"
                )
        finally:
            clerk.close()
        data, name, copy = arch.release(report, "U", "txt")
        out.print(f"Release copy for U ({name}), {copy.withheld} portions withheld:")
        for line in data.decode().splitlines()[:14]:
            out.print(f"  [dim]{escape(line)}[/dim]")
        out.print()
        out.rule("6. Links: relations from the text, and was it chance?", align="left")
        built = arch.build_relations()
        out.print(f"{built['relations']} relations extracted from {built['documents']} documents.")
        for path_ in arch.links("Arkady Zorin", "Yelena Vetrova")["paths"][:1]:
            for hop in path_:
                ev = hop["evidence"][0]
                out.print(f"  {hop['type']}: {escape(ev['snippet'])} [dim]({Path(ev['source']).name})[/dim]")
        co = arch.cooccur("Arkady Zorin", "Duarte Mendes")
        out.print(
            f"Zorin and Mendes together in {co['k']} of {co['n']} documents (Zorin in {co['n_a']}, Mendes in {co['n_b']}): "
            f"one-sided Fisher p = {co['p_value']:.3g}, PMI = {co['pmi'] if co['pmi'] is None else round(co['pmi'], 2)} bits."
        )
        out.print()
        out.print(
            f"Explore further:  [bold]kartoteka --archive {path} dossier Vetrova[/bold]   "
            f"[bold]kartoteka --archive {path} check 'Arkadij Sorin'[/bold]   "
            f"[bold]kartoteka --archive {path} search Lisbon --json[/bold]"
        )
    finally:
        arch.close()
