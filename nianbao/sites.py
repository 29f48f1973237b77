"""Site entries from ``config/sites.yaml``, validated on load with the line and field at fault.

Adding a portal must never need code, so everything the spider varies per site is a field
here. Errors name the file, the line and the field, because the people who add sites are
journalists and auditors editing YAML, not programmers reading tracebacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # PyYAML is imported when a sites file is read, not by every command
    import yaml

from nianbao.vocabulary.issuers import ISSUER_KINDS

RENDER_MODES = ("never", "auto", "always")
# The list families the crawler reads (one module each in crawler/families/): a site's ``cms``
# names one for all its columns, a column's ``pagination`` one for itself (or ``none``).
LIST_FAMILIES = ("trs", "page-param", "hanweb", "gkmlpt", "js-list")
PAGINATIONS = (*LIST_FAMILIES, "none")
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class SitesError(ValueError):
    """A sites file that cannot be used; the message names the line and field."""


@dataclass(frozen=True)
class Column:
    url: str
    pagination: str | None = None


@dataclass(frozen=True)
class IssuerEntry:
    name: str
    aliases: tuple[str, ...] = ()
    kind: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "aliases": list(self.aliases), "kind": self.kind}


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    domains: tuple[str, ...]
    columns: tuple[Column, ...] = ()
    homepage: str | None = None
    region: str | None = None
    cms: str | None = None
    render: str = "auto"
    encoding: str | None = None
    selectors: dict = field(default_factory=dict)
    politeness: dict = field(default_factory=dict)
    issuers: tuple[IssuerEntry, ...] = ()
    allow_private: tuple[str, ...] = ()
    deadline_rules: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def in_scope(self, url: str) -> bool:
        """True when ``url``'s host is one of the site's domains or a subdomain of one."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)

    @property
    def start_urls(self) -> list[str]:
        return [c.url for c in self.columns] or [self.homepage or ""]


_FIELDS = {
    "id", "name", "region", "homepage", "domains", "columns", "cms", "render", "encoding",
    "selectors", "politeness", "issuers", "allow_private", "seen_at", "verified", "note",
    "deadline_rules",
}
_POLITENESS = {"obey_robots_txt", "autothrottle", "concurrency", "delay_seconds",
               "timeout_seconds"}
_SELECTORS = {"list_links", "wait_for"}


def _mark(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}"


def _construct(node: yaml.Node) -> object:
    """The plain data of one node (safe types only), without re-parsing any text."""
    from yaml.constructor import SafeConstructor

    return SafeConstructor().construct_document(node)


def _mapping(node: yaml.Node) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value}


class _SiteNode:
    """Validates one site node; errors carry the file, line and field."""

    def __init__(self, path: Path, node: yaml.MappingNode):
        self.path = path
        self.node = node
        self.nodes = _mapping(node)
        self.data = _construct(node)

    def fail(self, key: str | None, message: str) -> SitesError:
        where = self.nodes.get(key, self.node) if key else self.node
        site = self.data.get("id", "?") if isinstance(self.data, dict) else "?"
        field_name = key or "entry"
        return SitesError(f"{self.path}: {_mark(where)}: site {site!r}: {field_name}: {message}")

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(None, f"missing required field {key!r}")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise self.fail(key, "must be a non-empty string")
        return str(value).strip()

    def url(self, key: str, value: object) -> str:
        if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
            raise self.fail(key, f"{value!r} is not an http(s) URL")
        if not urlsplit(value).hostname:
            raise self.fail(key, f"{value!r} has no host")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def keyed(self, key: str, allowed: set[str]) -> dict:
        value = self.data.get(key) or {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        unknown = set(value) - allowed
        if unknown:
            raise self.fail(key, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        return value

    def politeness(self) -> dict:
        """The site's own politeness, each value of the type the crawler needs."""
        value = self.keyed("politeness", _POLITENESS)
        for name, given in value.items():
            if name in ("obey_robots_txt", "autothrottle"):
                ok, want = isinstance(given, bool), "true or false"
            elif name == "concurrency":
                ok = isinstance(given, int) and not isinstance(given, bool) and given >= 1
                want = "a whole number of requests, at least 1"
            else:
                ok = isinstance(given, int | float) and not isinstance(given, bool) and (
                    given > 0 if name == "timeout_seconds" else given >= 0)
                want = "a number of seconds" + (" above 0" if name == "timeout_seconds" else "")
            if not ok:
                raise self.fail("politeness", f"{name}: {given!r} is not {want}")
        return value

    def columns(self) -> tuple[Column, ...]:
        value = self.data.get("columns") or []
        if not isinstance(value, list):
            raise self.fail("columns", "must be a list")
        out = []
        for item in value:
            if isinstance(item, str):
                item = {"url": item}
            if not isinstance(item, dict) or "url" not in item:
                raise self.fail("columns", "each column is a URL or a mapping with 'url'")
            pagination = item.get("pagination")
            if pagination is not None and pagination not in PAGINATIONS:
                raise self.fail("columns", f"pagination {pagination!r} is not one of "
                                f"{', '.join(PAGINATIONS)}")
            out.append(Column(self.url("columns", item["url"]), pagination))
        return tuple(out)

    def issuers(self) -> tuple[IssuerEntry, ...]:
        value = self.data.get("issuers") or []
        if not isinstance(value, list):
            raise self.fail("issuers", "must be a list")
        out = []
        for item in value:
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise self.fail("issuers", "each issuer needs a 'name'")
            kind = item.get("kind")
            if kind is not None and kind not in ISSUER_KINDS:
                raise self.fail("issuers", f"kind {kind!r} is not one of {', '.join(ISSUER_KINDS)}")
            aliases = item.get("aliases") or []
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise self.fail("issuers", f"aliases of {item['name']!r} must be a list of strings")
            out.append(IssuerEntry(item["name"], tuple(aliases), kind))
        return tuple(out)

    def site(self) -> Site:
        unknown = set(self.data) - _FIELDS
        if unknown:
            key = sorted(unknown)[0]
            raise self.fail(key, f"unknown field; allowed: {', '.join(sorted(_FIELDS))}")
        site_id = self.text("id", required=True)
        if not SITE_ID.match(site_id):
            raise self.fail("id", f"{site_id!r}: use lowercase letters, digits, '-' and '_'")
        region = self.text("region")
        if region is not None and not re.fullmatch(r"\d{6}", region):
            raise self.fail("region", f"{region!r} is not a 6-digit 行政区划代码")
        homepage = self.data.get("homepage")
        if homepage is not None:
            homepage = self.url("homepage", homepage)
        columns = self.columns()
        if not columns and not homepage:
            raise self.fail(None, "needs 'columns' or a 'homepage' (for discovery)")
        domains = tuple(d.lower().lstrip(".") for d in self.string_list("domains"))
        if not domains:
            raise self.fail(None, "missing required field 'domains'")
        site = Site(
            id=site_id,
            name=self.text("name", required=True),
            domains=domains,
            columns=columns,
            homepage=homepage,
            region=region,
            cms=self.choice("cms", LIST_FAMILIES, None),
            render=self.choice("render", RENDER_MODES, "auto"),
            encoding=self.text("encoding"),
            selectors=self.keyed("selectors", _SELECTORS),
            politeness=self.politeness(),
            issuers=self.issuers(),
            allow_private=self.string_list("allow_private"),
            deadline_rules=self.keyed("deadline_rules", {"departments", "government", "office",
                                                         "township", "other", "grace_days"}),
            raw=self.data,
        )
        for url in site.start_urls:
            if not site.in_scope(url):
                raise self.fail("domains", f"{url} is outside the site's domains")
        return site


def load_sites(path: Path) -> list[Site]:
    """Read and validate a sites file; raise SitesError naming the line and field at fault."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SitesError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        # libyaml's parser when PyYAML has it (thousands of entries load in a fraction of a
        # second).
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise SitesError(f"{path}: not valid YAML: {exc}") from None
    if root is None or not isinstance(root, yaml.MappingNode) or "sites" not in _mapping(root):
        raise SitesError(f"{path}: line 1: expected a top-level 'sites:' list")
    sites_node = _mapping(root)["sites"]
    if not isinstance(sites_node, yaml.SequenceNode):
        raise SitesError(f"{path}: {_mark(sites_node)}: 'sites' must be a list")
    sites: list[Site] = []
    seen: dict[str, int] = {}
    for node in sites_node.value:
        if not isinstance(node, yaml.MappingNode):
            raise SitesError(f"{path}: {_mark(node)}: each site must be a mapping")
        site = _SiteNode(path, node).site()
        if site.id in seen:
            raise SitesError(f"{path}: {_mark(node)}: site {site.id!r}: id: duplicate "
                             f"(first at line {seen[site.id]})")
        seen[site.id] = node.start_mark.line + 1
        sites.append(site)
    return sites


def select_sites(sites: list[Site], ids: list[str] | None) -> list[Site]:
    """The sites named by ``--site`` (all when none); an unknown id is an error."""
    if not ids:
        return sites
    known = {s.id: s for s in sites}
    missing = [i for i in ids if i not in known]
    if missing:
        raise SitesError(f"unknown site id(s): {', '.join(missing)}")
    return [known[i] for i in ids]
