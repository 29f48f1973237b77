"""What the replicas hold, as plain data: the answer key crawler tests compare a crawl with.

Every URL is absolute, in the portal's canonical scheme and host (aliases serve the same
pages). ``reports[].url`` is the document that holds the report: the detail page itself for
``kind`` ``html``, else the attachment (``docx``, ``pdf``, ``doc``) linked from ``page_url``.
Times (``published``) are the portals' local time (Beijing), without a zone.
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.mockserver import traps
from tests.mockserver.challenges import CHALLENGES
from tests.mockserver.content import BAD_LINKS
from tests.mockserver.site import Site


def disallowed(site: Site) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in site.robots.decode().splitlines()
            if line.startswith("Disallow:")]


def portal_entry(site: Site) -> dict:
    portal, family = site.portal, site.family
    front = f"{portal.schemes[0]}://{portal.front_host}/" if portal.front_host else None
    return {
        "id": portal.id,
        "name": portal.name,
        "family": portal.family,
        "hosts": list(portal.hosts),
        "front_host": portal.front_host,
        "schemes": list(portal.schemes),
        "homepage": front or site.url("/"),
        "gateway": site.url(portal.gateway),
        "column": site.url(family.column_href(portal)),
        "list_urls": [site.url(path) for path in family.list_urls(portal)],
        "encoding": portal.encoding,
        "declares_charset": portal.declare_charset,
        "challenge": portal.challenge,
        "challenge_passable": portal.challenge_passable,
        "delay_seconds": site.delay,
        "traps": list(portal.traps),
        "robots_disallow": disallowed(site),
    }


def challenge_entry(site: Site) -> dict:
    portal = site.portal
    challenge = CHALLENGES[portal.challenge]()
    cookies = {scheme: list(challenge.cookie_names(scheme)) for scheme in portal.schemes}
    return {
        "portal": portal.id,
        "hosts": list(site.hosts),
        "kind": portal.challenge,
        "status": challenge.status,
        "cookies": cookies,
    }


def build(sites: Iterable[Site]) -> dict:
    out: dict[str, list] = {
        key: [] for key in ("portals", "reports", "attachments", "lookalikes", "bad_links",
                            "challenges", "traps")
    }
    for site in sites:
        portal = site.portal
        out["portals"].append(portal_entry(site))
        column = site.url(site.family.column_href(portal))
        for item in portal.items:
            page_url = site.item_url(item)
            if item.kind == "report":
                assert item.seed_id is not None
                holder_url = page_url if item.holder == "html" else site.attachment_url(item)
                out["reports"].append({
                    "portal": portal.id,
                    "seed_id": item.seed_id,
                    "issuer": item.source,
                    "year": site.documents.gold(item.seed_id)["report_year"],
                    "title": item.title,
                    "published": item.published.isoformat(),
                    "url": holder_url,
                    "kind": item.holder,
                    "page_url": page_url,
                })
                if item.holder != "html":
                    out["attachments"].append({"portal": portal.id, "seed_id": item.seed_id,
                                               "url": holder_url, "kind": item.holder,
                                               "page_url": page_url})
            elif item.kind == "lookalike":
                out["lookalikes"].append({"portal": portal.id, "kind": item.key.split(":")[1],
                                          "title": item.title, "url": page_url})
            else:
                out["bad_links"].append({"portal": portal.id, "kind": item.kind,
                                         "title": item.title, "url": page_url,
                                         "linked_from": column,
                                         "expected": BAD_LINKS[item.kind].expected})
        if portal.challenge:
            out["challenges"].append(challenge_entry(site))
        if "calendar" in portal.traps:
            out["traps"].append({"portal": portal.id, "kind": "calendar",
                                 "example": site.url(traps.calendar_link(traps.CALENDAR_START))})
        if "jsessionid" in portal.traps:
            out["traps"].append({"portal": portal.id, "kind": "jsessionid",
                                 "example": site.url(traps.session_link(traps.INTERACT))})
    return out
