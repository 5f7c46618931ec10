"""The browser's session: the API's session token in a cookie, and CSRF tokens bound to it.

The cookie is HttpOnly (no script reads it) and SameSite=Strict (no other
site's page sends it), and Secure whenever the page came over HTTPS. Every
form that changes something also carries a CSRF token: an HMAC of the
session token under a key kept in the credentials file (shared by every
worker process, access/credentials.py), so it is worthless
without the cookie and dies with the session. The log-in form, which has no
session yet, is protected by a double-submit token in its own cookie.
A request whose Origin header names another site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from kartoteka.errors import E, KartotekaError
from kartoteka.service.api import Caller
from kartoteka.service.auth import Unauthorised

COOKIE = "kartoteka_session"
LOGIN_COOKIE = "kartoteka_login"


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the log-in form."""


class Forbidden(KartotekaError):
    """A form without a valid CSRF token, or from another origin (HTTP 403)."""

    status = 403


@dataclass(frozen=True)
class Csrf:
    key: bytes

    def token(self, session: str) -> str:
        return hmac.new(self.key, b"csrf\x00" + session.encode(), hashlib.sha256).hexdigest()

    def valid(self, session: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.token(session), given or "")


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def same_origin(request: Request) -> bool:
    """A browser's POST names its page's origin; one from another site is refused."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Old browsers and some privacy settings send none; the CSRF token still guards.
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def web_caller(request: Request) -> Caller:
    """The viewer of a page, or a redirect to the log-in form."""
    state = request.app.state
    token = session_token(request)
    if token is None:
        raise LoginRequired
    try:
        principal = state.sessions.check(token, state.users)
    except Unauthorised:
        raise LoginRequired from None
    if principal.scopes is not None:
        raise LoginRequired  # an API token in a cookie: pages are for people who log in
    return Caller(principal, state.views.deadline(state.request_seconds), state.views)


Viewer = Annotated[Caller, Depends(web_caller)]


async def check_form(request: Request) -> None:
    """Refuse a state-changing request without this session's CSRF token (form field or X-CSRF-Token)."""
    token = session_token(request)
    if token is None:
        raise LoginRequired
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not same_origin(request) or not request.app.state.csrf.valid(token, given):
        raise Forbidden(E.E120)


CsrfChecked = Depends(check_form)
