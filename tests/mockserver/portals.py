"""Read ``portals.yaml`` into portals and the entries of their 年报 columns.

The portals are data so that a portal's host can be changed in one line (when a colleague
confirms a real host) and so that tests and the manifest see the same description the server
serves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from tests.mockserver import content, render

PORTALS_FILE = Path(__file__).with_name("portals.yaml")
FAMILIES = ("trs", "page-param", "js-list", "hanweb", "gkmlpt")
CHALLENGES = ("ruishu", "jiasule", "wzws", "edgeone", "http468")
HOLDERS = ("html", "docx", "pdf", "doc")


@dataclass(frozen=True)
class Item:
    """One entry of a 年报 column: a report, a look-alike or a bad link.

    ``kind`` is ``report``, ``lookalike`` or the bad-link kind (``dead``, ``soft404``,
    ``offsite``, ``loopback``, ``metadata``); ``key`` is unique within the portal.
    """

    key: str
    kind: str
    title: str
    published: datetime
    number: int
    source: str  # the publishing body (ContentSource, 发布机构)
    seed_id: str | None = None
    holder: str = "html"
    style: str = "trs"
    href: str | None = None  # absolute target of off-site and forbidden links


@dataclass(frozen=True)
class Portal:
    """One replica portal (see the field list at the top of ``portals.yaml``)."""

    id: str
    name: str
    site_code: str
    host: str
    family: str
    gateway: str
    column: str
    aliases: tuple[str, ...] = ()
    front_host: str | None = None
    schemes: tuple[str, ...] = ("http",)
    column_id: int = 0
    per_page: int = 10
    encoding: str = "utf-8"
    declare_charset: bool = True
    challenge: str | None = None
    challenge_passable: bool = True
    robots: str | None = None  # the robots.txt served (None: the replicas' default)
    redirects: dict = field(default_factory=dict)  # path -> Location of a 302
    delay_seconds: float = 0.0
    traps: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    options: dict = field(default_factory=dict)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host serving this portal's pages (the front host serves only its homepage)."""
        return (self.host, *self.aliases)

    @property
    def origin(self) -> str:
        """Canonical scheme and host, as the manifest names URLs."""
        return f"{self.schemes[0]}://{self.host}"


def full_seed_id(prefix: str) -> str:
    """``"000"`` -> ``"000_7215e79b01c75868"``: portals.yaml names seeds by their number."""
    matches = [s for s in render.seed_ids() if s.startswith(prefix)]
    if len(matches) != 1:
        raise ValueError(f"seed {prefix!r} matches {matches or 'nothing'} in "
                         f"{render.fixtures_dir()}")
    return matches[0]


def stable_number(*parts: str) -> int:
    """A 7-digit article id that never changes for the same portal and entry."""
    return 1_000_000 + int(hashlib.sha1("|".join(parts).encode()).hexdigest()[:10], 16) % 10**6


def report_item(spec: dict) -> Item:
    seed_id = full_seed_id(str(spec["seed"]))
    holder = spec.get("holder", "html")
    if holder not in HOLDERS:
        raise ValueError(f"seed {seed_id}: holder must be one of {HOLDERS}, not {holder!r}")
    report = render.load_report(seed_id)
    # ``published`` posts the document later than it was signed, as late portals do.
    published = spec.get("published")
    return Item(
        key=f"report:{seed_id}",
        kind="report",
        title=report.title,
        published=datetime.fromisoformat(str(published)) if published else report.published,
        number=1_000_000 + render.seed_number(seed_id, 6),
        source=report.issuer,
        seed_id=seed_id,
        holder=holder,
        style=spec.get("style", "trs"),
    )


def column_items(raw: dict) -> tuple[Item, ...]:
    """The column's entries, newest first as a CMS lists them."""
    name = raw["name"]
    items = [report_item(spec) for spec in raw.get("reports", ())]
    for kind in raw.get("lookalikes", ()):
        look = content.LOOKALIKES[kind]
        items.append(
            Item(f"lookalike:{kind}", "lookalike", look.title.format(name=name), look.published,
                 stable_number(raw["id"], kind), name)
        )
    for kind in raw.get("bad_links", ()):
        bad = content.BAD_LINKS[kind]
        items.append(
            Item(f"bad:{kind}", kind, bad.title.format(name=name), bad.published,
                 stable_number(raw["id"], kind), name, href=bad.url)
        )
    return tuple(sorted(items, key=lambda i: i.published, reverse=True))


def parse_portal(raw: dict) -> Portal:
    if raw["family"] not in FAMILIES:
        raise ValueError(f"portal {raw['id']}: family must be one of {FAMILIES}")
    if raw.get("challenge") not in (None, *CHALLENGES):
        raise ValueError(f"portal {raw['id']}: challenge must be one of {CHALLENGES}")
    simple = {k: v for k, v in raw.items() if k not in ("reports", "lookalikes", "bad_links")}
    for key in ("aliases", "schemes", "traps"):
        if key in simple:
            simple[key] = tuple(simple[key])
    return Portal(**simple, items=column_items(raw))


def load_portals(path: Path = PORTALS_FILE) -> list[Portal]:
    """Every portal in ``path``; hosts must not repeat across portals."""
    portals = [parse_portal(raw) for raw in yaml.safe_load(path.read_text("utf-8"))["portals"]]
    seen: set[str] = set()
    for portal in portals:
        for host in (*portal.hosts, *filter(None, [portal.front_host])):
            if host in seen:
                raise ValueError(f"{path}: host {host} is served twice")
            seen.add(host)
    return portals
