"""Who may write (triage marks, subscriptions), and proof that a form was sent by our page.

Users are configured in ``web.users`` of the settings as ``name: sha256:<hex of the token>``
(``nianbao serve --hash-token`` prints one), so the settings file never holds a usable secret.
Signing in with the token puts the user name and a random CSRF token into the signed session
cookie (``SameSite=Strict``, ``HttpOnly``); every write must carry that CSRF token in its form
and come from our own origin. Reading pages needs no sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from starlette.requests import Request

CSRF_FIELD = "csrf"


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_login(users: dict[str, str], name: str, token: str) -> bool:
    """Whether ``token`` is ``name``'s (constant-time; an unknown name costs the same)."""
    expected = users.get(name) or "sha256:" + "0" * 64
    ok = hmac.compare_digest(hash_token(token), expected)
    return ok and name in users


def current_user(request: Request) -> str | None:
    return request.session.get("user")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def sign_in(request: Request, user: str) -> None:
    request.session.clear()
    request.session["user"] = user
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """A browser's write names its origin; it must be ours (absent: a non-browser client,
    which has no ambient cookie to abuse unless it sends one, and then the token decides)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    ours = f"{request.url.scheme}://{request.url.netloc}"
    return origin == ours or origin.startswith(ours + "/")


def write_allowed(request: Request, form: Any) -> str | None:
    """Why this write is refused, or None: signed in, same origin, CSRF token matches."""
    if current_user(request) is None:
        return "请先登录"
    if not same_origin(request):
        return "来源不符（跨站请求）"
    sent = form.get(CSRF_FIELD) or ""
    stored = request.session.get(CSRF_FIELD) or ""
    if not stored or not hmac.compare_digest(str(sent), stored):
        return "表单已过期或 CSRF 令牌不符，请刷新页面后重试"
    return None
