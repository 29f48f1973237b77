"""Subscriptions: who wants which events, and whether an event is one of them.

A subscription is an Apprise URL plus filters. Every filter left empty matches everything, so
``subscribe add newsroom json://…`` alone receives every event; each filter given narrows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apprise
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from nianbao.notify.event_kinds import EVENT_KINDS
from nianbao.notify.secrets import masked_url, scrubbed_logs
from nianbao.storage.models import Delivery, Site, Subscription

MODES = ("immediate", "daily")
BASELINE_MODES = ("digest", "each", "none")


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as read from the database, detached from any session."""

    id: int
    name: str
    url: str
    sites: list[str]
    regions: list[str]
    issuers: list[str]
    kinds: list[str]
    keyword: str | None
    mode: str
    created_at: datetime
    active: bool
    starts_at: datetime | None = None
    baseline: str | None = None
    event_cursor: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The subscription as shown to people: its URL masked (``notify/secrets.py``)."""
        return {**self.__dict__, "url": masked_url(self.url),
                "created_at": self.created_at.isoformat(),
                "starts_at": self.starts_at.isoformat() if self.starts_at else None}


def view_of(row: Subscription) -> SubscriptionView:
    return SubscriptionView(
        id=row.id, name=row.name, url=row.url, sites=list(row.sites), regions=list(row.regions),
        issuers=list(row.issuers), kinds=list(row.kinds), keyword=row.keyword, mode=row.mode,
        created_at=row.created_at, active=row.active, starts_at=row.starts_at,
        baseline=row.baseline, event_cursor=row.event_cursor,
    )


def add_subscription(
    engine: Engine, name: str, url: str, *, sites: list[str] | None = None,
    regions: list[str] | None = None, issuers: list[str] | None = None,
    kinds: list[str] | None = None, keyword: str | None = None, mode: str = "immediate",
    starts_at: datetime | None = None, baseline: str | None = None,
) -> SubscriptionView:
    """Create a subscription; ValueError for an unknown kind, mode or baseline mode, a URL
    Apprise cannot use, a name that is taken or that looks like an id (ids and names share one
    argument). ``starts_at`` and ``baseline``: see ``nianbao.notify.alerts``."""
    if baseline is not None and baseline not in BASELINE_MODES:
        raise ValueError(f"baseline {baseline!r} is not one of {BASELINE_MODES}")
    unknown = sorted(set(kinds or []) - set(EVENT_KINDS))
    if unknown:
        raise ValueError(f"unknown event kind(s) {unknown}; known: {', '.join(EVENT_KINDS)}")
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}")
    if name.isdigit():
        raise ValueError(f"name {name!r} is all digits: it would be taken for an id")
    with scrubbed_logs(url):
        understood = apprise.Apprise.instantiate(url) is not None
    if not understood:
        raise ValueError(f"Apprise does not understand the URL {masked_url(url)}")
    with Session(engine) as session, session.begin():
        if session.scalar(select(Subscription.id).where(Subscription.name == name)) is not None:
            raise ValueError(f"a subscription named {name!r} exists already")
        row = Subscription(
            name=name, url=url, sites=list(sites or []), regions=list(regions or []),
            issuers=list(issuers or []), kinds=list(kinds or []), keyword=keyword or None,
            mode=mode, active=True, starts_at=starts_at, baseline=baseline,
        )
        session.add(row)
        session.flush()
        return view_of(row)


def _find(session: Session, id_or_name: str) -> Subscription | None:
    if id_or_name.isdigit():
        return session.get(Subscription, int(id_or_name))
    return session.scalar(select(Subscription).where(Subscription.name == id_or_name))


def get_subscription(engine: Engine, id_or_name: str) -> SubscriptionView | None:
    with Session(engine) as session:
        row = _find(session, id_or_name)
        return None if row is None else view_of(row)


def list_subscriptions(engine: Engine, *, active_only: bool = False,
                       mode: str | None = None) -> list[SubscriptionView]:
    query = select(Subscription).order_by(Subscription.id)
    if active_only:
        query = query.where(Subscription.active.is_(True))
    if mode is not None:
        query = query.where(Subscription.mode == mode)
    with Session(engine) as session:
        return [view_of(row) for row in session.scalars(query)]


def remove_subscription(engine: Engine, id_or_name: str) -> bool:
    """Delete a subscription and its delivery history; False when there is none.

    Nothing old is sent if the same name is added again: a subscription only ever receives
    events recorded after it was created.
    """
    with Session(engine) as session, session.begin():
        row = _find(session, id_or_name)
        if row is None:
            return False
        session.execute(delete(Delivery).where(Delivery.subscription_id == row.id))
        session.delete(row)
        return True


def site_regions(session: Session) -> dict[str, str | None]:
    """Each site's region code, for the ``--region`` filter."""
    return {site_id: region for site_id, region in session.execute(select(Site.id, Site.region))}


def matches(sub: SubscriptionView, event: dict[str, Any], region: str | None, text: str) -> bool:
    """Whether ``event`` (with its site's region and its message text) is one ``sub`` wants."""
    issuer = (event.get("payload") or {}).get("issuer") or ""
    return (
        (not sub.sites or event["site_id"] in sub.sites)
        and (not sub.regions or any((region or "").startswith(code) for code in sub.regions))
        and (not sub.issuers or any(name in issuer for name in sub.issuers))
        and (not sub.kinds or event["kind"] in sub.kinds)
        and (not sub.keyword or sub.keyword in text)
    )
