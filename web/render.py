"""What every page handler shares: the app's engine and settings, rendering a template with
the signed-in user and the CSRF token, and the path and paging parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from nianbao.web import auth
from nianbao.web.filters import Page, parse_page


def engine(request: Request) -> Engine:
    return request.app.state.engine


def render(request: Request, template: str, context: dict[str, Any],
           status: int = 200) -> Response:
    context = {"user": auth.current_user(request), "csrf": auth.csrf_token(request),
               "path": request.url.path, **context}
    return request.app.state.templates.TemplateResponse(request, template, context,
                                                        status_code=status)


def conf(request: Request) -> dict[str, Any]:
    return request.app.state.conf


def page_of(request: Request) -> Page:
    settings = conf(request)
    return parse_page(request.query_params, int(settings.get("page_size", 100)),
                      int(settings.get("max_page_size", 1000)))


def int_path(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except ValueError:
        raise HTTPException(404) from None


def wants_csv(request: Request) -> bool:
    return request.query_params.get("download") == "csv"
