"""Atom 1.0 feeds of events, per site or per subscription, for readers that poll.

A feed is the pull-side twin of the alerts: the same events and the same Chinese text, with the
original URL and the archived copy as links, so nothing needs a push channel to be followed.
Written with lxml (already a dependency); ids are stable ``tag:`` URIs, so a reader never sees
an entry twice. Characters XML cannot carry (a hostile issuer's control bytes) are dropped
(``nianbao/escaping.py``), so one report cannot make the whole feed unwritable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nianbao.escaping import xml_text
from nianbao.notify.events import event_dict
from nianbao.notify.messages import archive_link, event_body, event_title
from nianbao.notify.subscriptions import SubscriptionView, matches, site_regions
from nianbao.storage.models import Event, Site
from nianbao.storage.types import utcnow

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:nianbao,2026"
MAX_ENTRIES = 200


def _sub(parent: etree._Element, name: str, text: str | None = None,
         **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}",
                               {key: xml_text(value) for key, value in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _entry(feed: etree._Element, event: dict[str, Any]) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", f"{TAG}:event:{event['id']}")
    _sub(entry, "title", event_title(event))
    _sub(entry, "updated", event["occurred_at"].isoformat())
    url = event["payload"].get("url")
    if url:
        _sub(entry, "link", rel="alternate", href=url)
    archived = archive_link(event["payload"])
    if archived and archived.startswith(("http://", "https://")):
        _sub(entry, "link", rel="related", href=archived, title="存档")
    _sub(entry, "content", event_body(event), type="text")


def render_feed(feed_id: str, title: str, events: list[dict[str, Any]]) -> bytes:
    """An Atom document with one entry per event, newest first."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(feed, "id", f"{TAG}:{feed_id}")
    _sub(feed, "title", title)
    newest: datetime = max((e["occurred_at"] for e in events), default=utcnow())
    _sub(feed, "updated", newest.isoformat())
    _sub(_sub(feed, "author"), "name", "nianbao")
    _sub(feed, "generator", "nianbao")
    for event in sorted(events, key=lambda e: e["id"], reverse=True):
        _entry(feed, event)
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def site_feed(engine: Engine, site_id: str) -> bytes:
    """The latest events of one site."""
    with Session(engine) as session:
        rows = session.scalars(select(Event).where(Event.site_id == site_id)
                               .order_by(Event.id.desc()).limit(MAX_ENTRIES))
        events = [event_dict(e) for e in rows]
        site = session.get(Site, site_id)
    return render_feed(f"site:{site_id}", f"nianbao：{site.name if site else site_id}", events)


def subscription_feed(engine: Engine, sub: SubscriptionView) -> bytes:
    """The latest events a subscription matches, whatever its mode and creation date.

    Its site and kind filters are applied by the database (indexed); the others (region,
    issuer, keyword) on the events streamed newest first, until the feed is full."""
    query = select(Event).order_by(Event.id.desc())
    if sub.sites:
        query = query.where(Event.site_id.in_(sub.sites))
    if sub.kinds:
        query = query.where(Event.kind.in_(sub.kinds))
    with Session(engine) as session:
        regions = site_regions(session)
        events = []
        rows = session.scalars(query.execution_options(yield_per=MAX_ENTRIES))
        for event in map(event_dict, rows):
            text = f"{event_title(event)}\n{event_body(event)}"
            if matches(sub, event, regions.get(event["site_id"]), text):
                events.append(event)
                if len(events) == MAX_ENTRIES:
                    break
    return render_feed(f"subscription:{sub.id}", f"nianbao 订阅：{sub.name}", events)
