"""Send each alert exactly once: one delivery row per event × subscription (or subscription ×
digest day), marked sent only after Apprise reported success.

Apprise returns False rather than raising when a target is down, so the result is checked and
a failure is retried with exponential back-off (``alerts`` in settings). Before sending, a
sender *claims* the row by pushing ``next_attempt_at`` past the claim period in its own
committed transaction: a second sender running at the same time, or a restarted one, finds the
row not due and leaves it alone. A sent row is never due again, so a restart never resends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import apprise
from sqlalchemy import Engine, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nianbao.notify.events import event_dict
from nianbao.notify.messages import event_body, event_title, limit_for, render_digest, render_event
from nianbao.notify.subscriptions import SubscriptionView, list_subscriptions, matches, site_regions
from nianbao.settings import settings
from nianbao.storage.models import Delivery, Event, Subscription

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def notify(url: str, title: str, body: str) -> str | None:
    """Send one message; None on success, else why not (from Apprise's own log)."""
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"Apprise does not understand the URL {url!r}"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        ok = sender.notify(title=title, body=body)
        messages = log.getvalue().strip()
    if ok:
        return None
    return messages.splitlines()[-1] if messages else "Apprise reported a failure"


def _wanted(sub: SubscriptionView, event: dict[str, Any], regions: dict[str, str | None]) -> bool:
    text = f"{event_title(event)}\n{event_body(event)}"
    return matches(sub, event, regions.get(event["site_id"]), text)


def _due(now: datetime, max_attempts: int) -> Any:
    return (
        (Delivery.status != "sent")
        & (Delivery.attempts < max_attempts)
        & or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)
    )


def _claim(engine: Engine, delivery_id: int, now: datetime, conf: dict[str, Any]) -> bool:
    """Take a due delivery for this sender for ``claim_seconds``; False if another has it."""
    until = now + timedelta(seconds=int(conf["claim_seconds"]))
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, _due(now, int(conf["max_attempts"])))
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1


def _record_result(engine: Engine, delivery_id: int, error: str | None, now: datetime,
                   conf: dict[str, Any]) -> None:
    """Mark a delivery sent, or failed with the next attempt backed off exponentially."""
    with Session(engine) as session, session.begin():
        delivery = session.get_one(Delivery, delivery_id)
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.sent_at, delivery.next_attempt_at = "sent", now, None
            return
        backoff = int(conf["retry_base_seconds"]) * 2 ** (delivery.attempts - 1)
        delivery.status, delivery.last_error = "failed", error[:2000]
        delivery.next_attempt_at = now + timedelta(
            seconds=min(backoff, int(conf["retry_max_seconds"]))
        )


def _send_due(engine: Engine, ids: list[int], now: datetime, conf: dict[str, Any],
              compose: Callable[[int], tuple[str, str, str]]) -> dict[str, int]:
    """Claim, send and record each delivery; ``compose`` gives its (url, title, body)."""
    counts = {"sent": 0, "failed": 0}
    for delivery_id in ids:
        if not _claim(engine, delivery_id, now, conf):
            continue
        url, title, body = compose(delivery_id)
        error = notify(url, title, body)
        _record_result(engine, delivery_id, error, now, conf)
        counts["sent" if error is None else "failed"] += 1
    return counts


def _insert_deliveries(session: Session, rows: list[dict[str, Any]], keys: list[str]) -> int:
    insert = _INSERT[session.bind.dialect.name](Delivery)
    created = 0
    for row in rows:
        statement = insert.values(status="pending", attempts=0, **row)
        statement = statement.on_conflict_do_nothing(index_elements=keys).returning(Delivery.id)
        created += len(session.execute(statement).all())  # psycopg's rowcount is -1 here
    return created


def _create_event_deliveries(engine: Engine) -> int:
    """A pending row for every immediate subscription × matching event recorded after the
    subscription was created (a new subscription does not replay history)."""
    subs = list_subscriptions(engine, active_only=True, mode="immediate")
    created = 0
    with Session(engine) as session, session.begin():
        regions = site_regions(session)
        for sub in subs:
            delivered = exists().where(
                Delivery.event_id == Event.id, Delivery.subscription_id == sub.id
            )
            events = session.scalars(
                select(Event).where(Event.occurred_at >= sub.created_at, ~delivered)
                .order_by(Event.id)
            )
            rows = [{"event_id": e.id, "subscription_id": sub.id}
                    for e in events if _wanted(sub, event_dict(e), regions)]
            created += _insert_deliveries(session, rows, ["event_id", "subscription_id"])
    return created


def deliver_pending(engine: Engine, now: datetime) -> dict[str, int]:
    """Create the deliveries owed to immediate subscriptions and send those due.

    Returns ``{"created", "sent", "failed"}`` counts for this call.
    """
    conf = settings()["alerts"]
    created = _create_event_deliveries(engine)
    with Session(engine) as session:
        ids = list(session.scalars(
            select(Delivery.id).join(Subscription)
            .where(Delivery.event_id.is_not(None), Subscription.active.is_(True),
                   _due(now, int(conf["max_attempts"])))
            .order_by(Delivery.id)
        ))

    def compose(delivery_id: int) -> tuple[str, str, str]:
        with Session(engine) as session:
            delivery = session.get_one(Delivery, delivery_id)
            sub = session.get_one(Subscription, delivery.subscription_id)
            event = session.get_one(Event, delivery.event_id)
            title, body = render_event(event_dict(event), limit_for(sub.url))
            return sub.url, title, body

    return {"created": created, **_send_due(engine, ids, now, conf, compose)}


def _day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), ZoneInfo(zone))
    return start, start + timedelta(days=1)


def _day_events(session: Session, sub: SubscriptionView, day: date, zone: str,
                regions: dict[str, str | None]) -> list[dict[str, Any]]:
    """The events of ``day`` (local time) that ``sub`` wants, oldest first."""
    start, end = _day_bounds(day, zone)
    rows = session.scalars(
        select(Event).where(Event.occurred_at >= max(start, sub.created_at),
                            Event.occurred_at < end).order_by(Event.id)
    )
    return [e for e in map(event_dict, rows) if _wanted(sub, e, regions)]


def send_digests(engine: Engine, day: date, now: datetime) -> dict[str, int]:
    """One digest per daily subscription with matching events on ``day`` (in the settings'
    time zone, Asia/Shanghai), sent once; earlier digests still due are retried too.

    Returns ``{"created", "sent", "failed"}`` counts for this call.
    """
    conf = settings()["alerts"]
    zone = conf["timezone"]
    subs = {s.id: s for s in list_subscriptions(engine, active_only=True, mode="daily")}
    with Session(engine) as session, session.begin():
        regions = site_regions(session)
        rows = [{"subscription_id": sub.id, "digest_day": day} for sub in subs.values()
                if _day_events(session, sub, day, zone, regions)]
        created = _insert_deliveries(session, rows, ["subscription_id", "digest_day"])
        ids = list(session.scalars(
            select(Delivery.id)
            .where(Delivery.digest_day.is_not(None), Delivery.subscription_id.in_(subs),
                   _due(now, int(conf["max_attempts"])))
            .order_by(Delivery.id)
        ))

    def compose(delivery_id: int) -> tuple[str, str, str]:
        with Session(engine) as session:
            delivery = session.get_one(Delivery, delivery_id)
            sub = subs[delivery.subscription_id]
            events = _day_events(session, sub, delivery.digest_day, zone, site_regions(session))
            title, body = render_digest(delivery.digest_day.isoformat(), events,
                                        limit_for(sub.url))
            return sub.url, title, body

    return {"created": created, **_send_due(engine, ids, now, conf, compose)}
