"""The Starlette application: routes, templates, sessions, error pages.

``create_app(engine, archive_dir, conf)`` wires the page handlers (``web.pages``), the JSON
API (``web.api``) and the static files. Handlers are plain functions run in Starlette's thread
pool (SQLAlchemy here is synchronous); each opens one short session.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from nianbao.web import api, pages, writes
from nianbao.web.filters import BadParameter
from nianbao.web.labels import EVENT_KIND, EVIDENCE, KIND, STATUS, VERSION_KIND

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(("html", "xml"), default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["href"] = external_href
    env.globals.update(STATUS=STATUS, KIND=KIND, EVIDENCE=EVIDENCE, EVENT_KIND=EVENT_KIND,
                       VERSION_KIND=VERSION_KIND)
    return Jinja2Templates(env=env)


PAGE_CSP = ("default-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
            "frame-ancestors 'self'; base-uri 'none'; object-src 'none'")


class SecurityHeaders:
    """Every response of ours refuses scripts of anyone (the app has none), framing by others
    and MIME sniffing; a response that set its own policy (the archived bytes) keeps it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in ((b"content-security-policy", PAGE_CSP.encode()),
                                    (b"x-content-type-options", b"nosniff"),
                                    (b"referrer-policy", b"same-origin")):
                    if name not in names:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def external_href(url: object) -> str:
    """A link to the outside only when it is http(s): a stored URL is untrusted, and
    autoescaping does not stop a ``javascript:`` link."""
    text = str(url or "")
    return text if text.lower().startswith(("http://", "https://")) else "#"


def _error_page(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"status": status,
                                                              "message": message},
                                      status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "找不到该页面或记录", 405: "不支持该请求方法"}
    return _error_page(request, exc.status_code,
                       str(exc.detail) if exc.status_code not in messages else
                       messages[exc.status_code])


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    return _error_page(request, 400, str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("error serving %s", request.url.path)  # in the server log, never the page
    return _error_page(request, 500, "服务器内部错误，已记录")


def create_app(engine: Engine, archive_dir: Path, conf: dict[str, Any]) -> Starlette:
    """The app over ``engine`` and the WARC archive in ``archive_dir``; ``conf`` is the
    ``web`` section of the settings."""
    secret = os.environ.get(conf.get("secret_env") or "", "") or secrets.token_urlsafe(32)
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="nianbao",
                   same_site="strict", https_only=bool(conf.get("secure_cookies")),
                   max_age=int(conf.get("session_hours", 12)) * 3600),
    ]
    routes = [
        *pages.routes(),
        *writes.routes(),
        *api.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={
        HTTPException: _http_error, BadParameter: _bad_parameter, Exception: _server_error})
    app.state.engine = engine
    app.state.archive_dir = Path(archive_dir)
    app.state.conf = conf
    app.state.templates = _templates()
    return app
