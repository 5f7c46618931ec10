"""Error pages for the browser: the same numbered errors as the API, as pages.

A hidden item and a missing one must be indistinguishable, so the 404 page
is one constant body: it names nothing asked for and no viewer.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kartoteka.service.web.render import HEADERS, fragment
from kartoteka.service.web.session import LoginRequired

_NOT_FOUND: bytes | None = None


def not_found_page() -> Response:
    global _NOT_FOUND
    if _NOT_FOUND is None:
        _NOT_FOUND = fragment(
            "error.html",
            request=None,
            title="Not found",
            viewer=None,
            banner="UNCLASSIFIED",
            csrf="",
            navigation=[],
            heading="Not found",
            message="There is nothing here that you may see.",
        ).encode()
    return Response(_NOT_FOUND, status_code=404, media_type="text/html; charset=utf-8", headers=HEADERS)


def error_page(request: Request, code: str, message: str, status: int, retry_after: int | None = None) -> Response:
    html = fragment(
        "error.html",
        request=request,
        title=f"Error {code}",
        viewer=None,
        banner="UNCLASSIFIED",
        csrf="",
        navigation=[],
        heading=f"Error {code}" if code else "Error",
        message=message,
    )
    headers = dict(HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return HTMLResponse(html, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    from kartoteka.service.api import _is_api, _json_error
    from kartoteka.service.web.pages.auth import login_redirect

    @app.exception_handler(LoginRequired)
    def _login(request: Request, _: LoginRequired) -> Response:
        if _is_api(request):
            return _json_error("E046", "Not logged in.", 401)
        return login_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await http_exception_handler(request, exc)  # the API's answers as before
        if exc.status_code == 404:
            return not_found_page()
        return error_page(request, "", str(exc.detail), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await request_validation_exception_handler(request, exc)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path"))
        return error_page(request, "E113", f"Bad {where or 'request'}: {first.get('msg', 'invalid')}", 422)
