"""Log-in and log-out pages: the API's password sessions, carried in an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kartoteka.service.auth import RateLimited, Unauthorised
from kartoteka.service.web.render import HEADERS, page
from kartoteka.service.web.session import COOKIE, LOGIN_COOKIE, CsrfChecked, same_origin, session_token

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: "//evil.example" and "https:" are open redirects.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_form(request: Request, error: str | None = None, status: int = 200, user: str = "") -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        None,
        title="Log in",
        status=status,
        error=error,
        login_token=nonce,
        user_name=user,
        next=_safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/login"
    )
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
def login(
    request: Request,
    user: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=4096)],
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not same_origin(request) or not cookie or not secrets.compare_digest(cookie, login_token):
        return _login_form(request, "The form expired. Please log in again.", 403, user)
    address = request.client.host if request.client else "-"
    try:
        token = request.app.state.authenticate(user, password, address)
    except Unauthorised:
        return _login_form(request, "Wrong user name or password.", 401, user)
    except RateLimited as exc:
        response = _login_form(request, exc.message, 429, user)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = RedirectResponse(_safe_next(next), status_code=303, headers=HEADERS)
    response.set_cookie(
        COOKIE,
        token,
        max_age=request.app.state.session_seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    token = session_token(request)
    if token:
        request.app.state.sessions.close(token)
    response = RedirectResponse("/login", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path="/")
    return response


def login_redirect(request: Request) -> Response:
    """Where a page without a live session sends the browser (with the page to come back to)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path="/")
    return response
