"""The filters and pagination shared by the pages, the API and the CSV of a page.

One parser of the query string, so that the compliance page, its CSV and ``/api/verdicts``
given the same parameters list the same rows. Bad values are a clear 400, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams


class BadParameter(ValueError):
    """A query parameter the app cannot use; its message is shown to the user."""


@dataclass(frozen=True)
class Filters:
    region: str | None = None
    site: str | None = None
    kind: str | None = None  # issuer kind
    year: int | None = None
    status: str | None = None
    issuer: str | None = None  # substring of the issuer name
    report_format: str | None = None
    event_kind: str | None = None
    level: str | None = None  # province, prefecture or county (of the site's region code)

    def query(self, **extra: Any) -> str:
        """The query string of these filters (and ``extra``), for links."""
        pairs = {PARAM_NAMES.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}
        pairs.update(extra)
        return urlencode({k: v for k, v in pairs.items() if v not in (None, "")})


PARAM_NAMES = {"report_format": "format", "event_kind": "event"}


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def _int(params: QueryParams, name: str, low: int, high: int) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} 应为整数：{raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadParameter(f"{name} 应在 {low} 与 {high} 之间")
    return value


def _text(params: QueryParams, name: str, limit: int = 200) -> str | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > limit:
        raise BadParameter(f"{name} 过长")
    return raw.strip()


def parse_filters(params: QueryParams) -> Filters:
    return Filters(region=_text(params, "region", 12), site=_text(params, "site", 100),
                   kind=_text(params, "kind", 40), year=_int(params, "year", 1990, 2200),
                   status=_text(params, "status", 40), issuer=_text(params, "issuer"),
                   report_format=_text(params, "format", 10),
                   event_kind=_text(params, "event", 40), level=_level(params))


LEVELS = ("province", "prefecture", "county")


def _level(params: QueryParams) -> str | None:
    level = _text(params, "level", 20)
    if level is not None and level not in LEVELS:
        raise BadParameter(f"level 应为 {'、'.join(LEVELS)} 之一")
    return level


def parse_page(params: QueryParams, default: int, maximum: int) -> Page:
    number = _int(params, "page", 1, 10**7) or 1
    size = _int(params, "per_page", 1, maximum) or default
    return Page(number, size)


def without(filters: Filters, **changes: Any) -> Filters:
    return replace(filters, **changes)
