"""The drop's web service: a few plain pages, its own process and port, nothing of the archive.

`kartoteka drop serve` runs this module as a fresh Python process
(`python -m kartoteka.channels.drop_app`), so the drop's memory never holds
the archive's code, database or keys: only the drop folder and the
newsroom's public key (drop_store.py).

What it does not keep or send, by design:

- no client address, user agent or time: uvicorn's access log is off, its
  `Server` and `Date` headers too, proxy headers are not read, and no
  handler looks at the client; files carry the day only (drop_store.py);
- no cookies or sessions: every form posts the codename, which is hashed,
  used and dropped; no page echoes it except the one that issues it;
- no third-party resource: one stylesheet from the drop itself, no script,
  and a Content-Security-Policy of `default-src 'none'` with only the
  drop's own stylesheet and forms allowed; `Referrer-Policy: no-referrer`,
  `Cache-Control: no-store`, framing refused;
- no difference between a wrong codename and a right one without replies:
  both hash the codename once and answer with the same bytes.

Bodies are read whole into memory, never spooled to disk (a temp file of
an upload would be plaintext on the drop's disk): at most the upload limit
plus `FORM_OVERHEAD`, refused with 413 past it, and at most `HASHES_AT_ONCE`
Argon2 hashes (64 MiB each) run at once.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response
from python_multipart.multipart import MultipartParser, parse_options_header

from kartoteka.channels import codename as cn
from kartoteka.channels.drop_store import MAX_FILES, Drop
from kartoteka.channels.sealing import human_size
from kartoteka.errors import KartotekaError

FORM_OVERHEAD = 256 * 1024
HASHES_AT_ONCE = 2

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

CSS = b"""body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5;color:#111}
h1{font-size:1.4em}form{margin:1.5em 0;padding:1em;border:1px solid #999}
label{display:block;margin:.5em 0 .2em}input[type=password],textarea{width:100%;box-sizing:border-box}
textarea{height:10em}.codename{font-family:monospace;font-size:1.3em;padding:.5em;border:2px solid #111}
.reply{border-left:3px solid #555;padding-left:1em;white-space:pre-wrap}.note{color:#444;font-size:.9em}
"""


class TooLarge(Exception):
    pass


def _page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/drop.css"></head>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


def _submit_form(limit: str) -> str:
    return (
        '<form method="post" action="/submit" enctype="multipart/form-data">'
        '<label for="s-codename">Your codename</label>'
        '<input type="password" id="s-codename" name="codename" autocomplete="off" required>'
        '<label for="message">Message</label><textarea id="message" name="message"></textarea>'
        f'<label for="files">Files (up to {MAX_FILES}; {limit} in all, message included)</label>'
        '<input type="file" id="files" name="files" multiple>'
        '<p><button type="submit">Send</button></p></form>'
    )


def _replies_form() -> str:
    return (
        '<form method="post" action="/replies"><label for="r-codename">Your codename</label>'
        '<input type="password" id="r-codename" name="codename" autocomplete="off" required>'
        '<p><button type="submit">Read replies</button></p></form>'
    )


def _index(limit: str) -> bytes:
    bits = cn.entropy_bits()
    return _page(
        "Send us material",
        "<p>First time here? Get a codename: it is the only way back to your replies. "
        "Write it down and keep it safe; we cannot recover it.</p>"
        '<form method="post" action="/codename"><button type="submit">Get a codename</button></form>'
        f"{_submit_form(limit)}{_replies_form()}"
        f'<p class="note">Codenames are {cn.CODENAME_WORDS} random words ({bits:.1f} bits). This service '
        "keeps no address, browser or time of day of your visit, sets no cookies and loads nothing from "
        "elsewhere. What you send is encrypted at once to the newsroom's key.</p>",
    )


def create_app(drop_path: Path) -> FastAPI:
    drop = Drop(drop_path)
    limit = drop.max_upload + FORM_OVERHEAD
    shown = human_size(drop.max_upload)
    hashes = anyio.CapacityLimiter(HASHES_AT_ONCE)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # A page of another site posting here (in the visitor's browser) is refused.
        if request.headers.get("sec-fetch-site") == "cross-site":
            response: Response = _error(403, "Forms may be sent from this site only.")
        else:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    def _html(content: bytes, status: int = 200) -> Response:
        return Response(content, status_code=status, media_type="text/html; charset=utf-8")

    def _error(status: int, message: str) -> Response:
        return _html(_page("Not sent", f"<p>{html.escape(message)}</p><p><a href='/'>Back</a></p>"), status)

    async def _body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise TooLarge
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _form(request: Request) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
        body = await _body(request)
        ctype, options = parse_options_header(request.headers.get("content-type", ""))
        if ctype == b"application/x-www-form-urlencoded":
            fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            return fields, []
        if ctype != b"multipart/form-data" or b"boundary" not in options:
            raise ValueError("not a form")
        return _multipart(body, options[b"boundary"])

    @app.get("/")
    async def index() -> Response:
        return _html(_index(shown))

    @app.get("/static/drop.css")
    async def css() -> Response:
        return Response(CSS, media_type="text/css")

    @app.post("/codename")
    async def new_codename() -> Response:
        async with hashes:
            codename = await anyio.to_thread.run_sync(drop.new_source)
        return _html(
            _page(
                "Your codename",
                f'<p class="codename">{html.escape(codename)}</p><p>Write it down now. It will not be shown '
                "again, and without it no one can give you our replies.</p>" + _submit_form(shown),
            )
        )

    @app.post("/submit")
    async def submit(request: Request) -> Response:
        try:
            fields, files = await _form(request)
        except TooLarge:
            return _error(413, f"That is more than this drop takes: {shown} in all.")
        except ValueError:
            return _error(400, "That was not a form from this page.")
        try:
            async with hashes:
                await anyio.to_thread.run_sync(
                    drop.submit, fields.get("codename", ""), fields.get("message", ""), files
                )
        except KartotekaError as exc:
            return _error(exc.status, exc.message.split("] ", 1)[-1])
        return _html(_page("Received", "<p>Thank you. What you sent is sealed for the newsroom.</p>"))

    @app.post("/replies")
    async def replies(request: Request) -> Response:
        try:
            fields, _ = await _form(request)
        except (TooLarge, ValueError):
            return _error(400, "That was not a form from this page.")
        try:
            async with hashes:
                found = await anyio.to_thread.run_sync(drop.replies, fields.get("codename", ""))
        except KartotekaError as exc:
            return _error(exc.status, exc.message.split("] ", 1)[-1])
        if found:
            items = "".join(f'<div class="reply"><p>{r.day}</p>{html.escape(r.text)}</div>' for r in found)
        else:
            items = "<p>There are no replies for you yet.</p>"
        return _html(_page("Replies", items + _submit_form(shown)))

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, "There is no such page.")

    @app.exception_handler(405)
    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, "There is no such page.")

    return app


def _multipart(body: bytes, boundary: bytes) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """Fields and files of a multipart body, all in memory (python-multipart's streaming parser)."""
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    header_name: list[bytes] = []
    header_value: list[bytes] = []
    headers: dict[bytes, bytes] = {}
    data: list[bytes] = []

    def on_part_begin() -> None:
        headers.clear()
        data.clear()

    def on_header_field(b: bytes, start: int, end: int) -> None:
        header_name.append(b[start:end])

    def on_header_value(b: bytes, start: int, end: int) -> None:
        header_value.append(b[start:end])

    def on_header_end() -> None:
        headers[b"".join(header_name).lower()] = b"".join(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(b: bytes, start: int, end: int) -> None:
        data.append(b[start:end])

    def on_part_end() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        content = b"".join(data)
        if b"filename" in options:
            if len(files) > MAX_FILES:
                raise ValueError("too many files")
            files.append((options[b"filename"].decode("utf-8", "replace"), content))
        elif name and name not in fields:
            fields[name] = content.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own errors on a broken body
        raise ValueError(str(exc)) from exc
    return fields, files


def serve(drop_path: Path, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        create_app(drop_path),
        host=host,
        port=port,
        access_log=False,  # never a client address in a log
        server_header=False,
        date_header=False,
        proxy_headers=False,
        log_level="warning",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kartoteka drop serve", description="Run the drop's web service.")
    parser.add_argument("--drop", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    args = parser.parse_args(argv)
    try:
        Drop(args.drop)
    except KartotekaError as exc:
        raise SystemExit(f"Error: {exc.message}") from None
    serve(args.drop, args.host, args.port)


if __name__ == "__main__":
    main()
