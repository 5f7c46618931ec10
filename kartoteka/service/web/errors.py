"""Error pages for the browser: the same numbered errors as the API, as pages.

A hidden item and a missing one must be indistinguishable, so the 404 page
is one constant body: it names nothing asked for and no viewer.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
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
    from kartoteka.errors import E
    from kartoteka.service.api import NOT_FOUND_BODY, _error_of, _is_api, _json_error
    from kartoteka.service.web.pages.auth import login_redirect

    @app.exception_handler(LoginRequired)
    def _login(request: Request, _: LoginRequired) -> Response:
        if _is_api(request):
            return _json_error("E046", "Not logged in.", 401)
        return login_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            # The API's one error shape: an unknown address is the same 404 as a missing
            # record, a wrong method a usage error (E113), with the headers (Allow) kept.
            if exc.status_code == 404:
                return JSONResponse(NOT_FOUND_BODY, status_code=404)
            code, message = _error_of(E.E113, reason=str(exc.detail))
            return JSONResponse(
                {"error": code, "message": message}, status_code=exc.status_code, headers=dict(exc.headers or {})
            )
        if exc.status_code == 404:
            return not_found_page()
        return error_page(request, "", str(exc.detail), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        reason = _validation_reason(exc)
        if _is_api(request):
            # The CLI's usage error (E113) in the API's error shape; FastAPI's list of what
            # failed stays under "detail" for programs that read it.
            code, message = _error_of(E.E113, reason=reason)
            body = {"error": code, "message": message, "detail": jsonable_encoder(exc.errors())}
            return JSONResponse(body, status_code=422)
        return error_page(request, "E113", reason, 422)


def _validation_reason(exc: RequestValidationError) -> str:
    """The first thing wrong with a request, as one line: "Bad query parameter 'limit': ..."."""
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(x) for x in first.get("loc", ())]
    where = {"query": "query parameter", "path": "address part", "body": "form field", "header": "header"}
    kind = where.get(loc[0], "value") if loc else "value"
    name = ".".join(loc[1:]) if len(loc) > 1 else ""
    what = f"{kind} '{name}'" if name else "request"
    return f"Bad {what}: {first.get('msg', 'invalid')}"
