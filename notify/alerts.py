"""Send each alert exactly once: one delivery row per event × subscription (or subscription ×
digest day, or subscription × site baseline), marked sent only after Apprise reported success.

Which events a subscription is alerted of (the baseline rule, as monitors such as
changedetection.io apply it):

- Only events that occurred from its start: ``starts_at`` (``subscribe add --since``), and
  never before it was created. Older events are in the feeds, not pushed.
- A site's *baseline* — what nianbao's first crawl of it found: the reports already there,
  their failed checks, and the late or missing reports of deadlines that had passed before the
  site was first reached — is not news. Per ``alerts.baseline`` in settings, or the
  subscription's own ``--baseline``: ``digest`` (default) sends one alert listing the whole
  baseline of a site, ``each`` one alert per event, ``none`` nothing (feeds only). So a new
  subscriber to a new site gets one alert from the first run, not one per stored report.

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
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nianbao.escaping import header_line, message_text
from nianbao.notify.events import event_dict
from nianbao.notify.messages import (
    event_body,
    event_title,
    limit_for,
    render_baseline,
    render_digest,
    render_event,
)
from nianbao.notify.secrets import masked_url, scrub, scrubbed_logs
from nianbao.notify.subscriptions import (
    SubscriptionView,
    list_subscriptions,
    matches,
    site_regions,
    view_of,
)
from nianbao.settings import settings
from nianbao.storage.models import Delivery, Event, Subscription

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


# What a send came to: the receiver acknowledged it, refused it or could not be reached
# (retried), or it was sent and no answer came within the timeout (the receiver may well have
# it: never sent again automatically, so nobody gets an alert twice).
SENT, FAILED, UNACKNOWLEDGED = "sent", "failed", "unacknowledged"
_NO_ANSWER = ("Read timed out", "read timeout")


def send(url: str, title: str, body: str,
         timeout: float | None = None) -> tuple[str, str | None]:
    """Send one message: (``SENT``, None), or (``FAILED`` / ``UNACKNOWLEDGED``, why) — why from
    Apprise's own log, without the URL's secrets (it is stored and shown). ``timeout``: how
    long a receiver may take to connect and to answer (``alerts.send_timeout_seconds``)."""
    if timeout is None:
        timeout = float(settings()["alerts"]["send_timeout_seconds"])
    sender = apprise.Apprise()
    with scrubbed_logs(url):
        added = sender.add(url)
    if not added:
        return FAILED, f"Apprise does not understand the URL {masked_url(url)}"
    for plugin in sender:
        plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
    with scrubbed_logs(url), apprise.LogCapture(level=logging.DEBUG,
                                                fmt="%(levelname)s %(message)s") as log:
        # Plain text, said so: Apprise escapes it for an HTML channel (an e-mail's HTML part)
        # instead of passing a page's markup through; the title is one header line.
        ok = sender.notify(title=header_line(title), body=message_text(body),
                           body_format=apprise.NotifyFormat.TEXT)
        lines = log.getvalue().strip().splitlines()
    if ok:
        return SENT, None
    if any(marker in line for line in lines for marker in _NO_ANSWER):
        return UNACKNOWLEDGED, (f"sent, but the receiver gave no answer within {timeout:g} s: "
                                "it may have the message; not sent again")
    problems = [line.split(" ", 1)[1] for line in lines
                if line.startswith(("WARNING ", "ERROR ", "CRITICAL "))]
    return FAILED, scrub(problems[-1], url) if problems else "Apprise reported a failure"


def notify(url: str, title: str, body: str) -> str | None:
    """Send one message; None when the receiver acknowledged it, else why not."""
    status, why = send(url, title, body)
    return None if status == SENT else why


def _wanted(sub: SubscriptionView, event: dict[str, Any], regions: dict[str, str | None]) -> bool:
    text = f"{event_title(event)}\n{event_body(event)}"
    return matches(sub, event, regions.get(event["site_id"]), text)


def _due(now: datetime, max_attempts: int) -> Any:
    return (
        Delivery.status.not_in((SENT, UNACKNOWLEDGED))
        & (Delivery.attempts < max_attempts)
        & or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)
    )


def _claim(engine: Engine, delivery_id: int, now: datetime, conf: dict[str, Any]) -> bool:
    """Take a due delivery for this sender for ``claim_seconds``; False if another has it."""
    # The claim outlasts the longest a send may take (Apprise's connect and read timeouts),
    # so no other sender takes a delivery whose answer is still awaited.
    hold = max(int(conf["claim_seconds"]), 4 * float(conf["send_timeout_seconds"]))
    until = now + timedelta(seconds=hold)
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, _due(now, int(conf["max_attempts"])))
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1


def _record_result(engine: Engine, delivery_id: int, status: str, error: str | None,
                   now: datetime, conf: dict[str, Any]) -> None:
    """Mark a delivery sent, unacknowledged (sent, no answer: kept as it is), or failed with
    the next attempt backed off exponentially."""
    with Session(engine) as session, session.begin():
        delivery = session.get_one(Delivery, delivery_id)
        delivery.attempts += 1
        if status == SENT:
            delivery.status, delivery.sent_at, delivery.next_attempt_at = SENT, now, None
            return
        if status == UNACKNOWLEDGED:
            delivery.status, delivery.sent_at, delivery.next_attempt_at = status, now, None
            delivery.last_error = error
            return
        backoff = int(conf["retry_base_seconds"]) * 2 ** (delivery.attempts - 1)
        delivery.status, delivery.last_error = FAILED, (error or "")[:2000]
        delivery.next_attempt_at = now + timedelta(
            seconds=min(backoff, int(conf["retry_max_seconds"]))
        )


def _send_due(engine: Engine, ids: list[int], now: datetime, conf: dict[str, Any],
              compose: Callable[[int], tuple[str, str, str]]) -> dict[str, int]:
    """Claim, send and record each delivery; ``compose`` gives its (url, title, body)."""
    counts = {SENT: 0, FAILED: 0, UNACKNOWLEDGED: 0}
    timeout = float(conf["send_timeout_seconds"])
    for delivery_id in ids:
        if not _claim(engine, delivery_id, now, conf):
            continue
        url, title, body = compose(delivery_id)
        status, error = send(url, title, body, timeout)
        _record_result(engine, delivery_id, status, error, now, conf)
        counts[status] += 1
    return counts


def _insert_deliveries(session: Session, rows: list[dict[str, Any]], keys: list[str]) -> int:
    insert = _INSERT[session.bind.dialect.name](Delivery)
    created = 0
    for row in rows:
        statement = insert.values(status="pending", attempts=0, **row)
        statement = statement.on_conflict_do_nothing(index_elements=keys).returning(Delivery.id)
        created += len(session.execute(statement).all())  # psycopg's rowcount is -1 here
    return created


# Events newer than this may still be joined by lower ids committing late (PostgreSQL
# sequences): a subscription's cursor stays behind them, so they are matched again next time.
SETTLE = timedelta(seconds=60)


def baseline_mode(sub: SubscriptionView) -> str:
    return sub.baseline or str(settings()["alerts"]["baseline"])


def _start(sub: SubscriptionView) -> datetime:
    return max(sub.created_at, sub.starts_at or sub.created_at)


def _create_event_deliveries(engine: Engine, now: datetime) -> int:
    """Pending rows for every immediate subscription and the matching events recorded since
    its cursor: one per event, or one per site baseline (see the module docstring)."""
    subs = list_subscriptions(engine, active_only=True, mode="immediate")
    created = 0
    with Session(engine) as session, session.begin():
        regions = site_regions(session)
        for sub in subs:
            mode, cursor = baseline_mode(sub), sub.event_cursor
            rows, baselines = [], []
            for event in map(event_dict, session.scalars(
                    select(Event).where(Event.id > sub.event_cursor,
                                        Event.occurred_at >= _start(sub))
                    .order_by(Event.id))):
                if event["occurred_at"] <= now - SETTLE:
                    cursor = event["id"]
                if not _wanted(sub, event, regions):
                    continue
                if not event["baseline"] or mode == "each":
                    rows.append({"event_id": event["id"], "subscription_id": sub.id})
                elif mode == "digest":
                    baselines.append({"subscription_id": sub.id,
                                      "baseline_site": event["site_id"],
                                      "baseline_run_id": event["crawl_run_id"]})
            created += _insert_deliveries(session, rows, ["event_id", "subscription_id"])
            created += _insert_deliveries(
                session, list({tuple(b.values()): b for b in baselines}.values()),
                ["subscription_id", "baseline_site", "baseline_run_id"])
            session.execute(update(Subscription).where(Subscription.id == sub.id)
                            .values(event_cursor=cursor))
    return created


def _baseline_events(session: Session, sub: SubscriptionView, site_id: str, run_id: int | None,
                     regions: dict[str, str | None]) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Event).where(Event.baseline.is_(True), Event.site_id == site_id,
                            Event.crawl_run_id == run_id, Event.occurred_at >= _start(sub))
        .order_by(Event.id))
    return [e for e in map(event_dict, rows) if _wanted(sub, e, regions)]


def deliver_pending(engine: Engine, now: datetime) -> dict[str, int]:
    """Create the deliveries owed to immediate subscriptions and send those due.

    Returns ``{"created", "sent", "failed", "unacknowledged"}`` counts for this call.
    """
    conf = settings()["alerts"]
    created = _create_event_deliveries(engine, now)
    with Session(engine) as session:
        ids = list(session.scalars(
            select(Delivery.id).join(Subscription)
            .where(Delivery.event_id.is_not(None) | Delivery.baseline_site.is_not(None),
                   Subscription.active.is_(True), _due(now, int(conf["max_attempts"])))
            .order_by(Delivery.id)
        ))

    def compose(delivery_id: int) -> tuple[str, str, str]:
        with Session(engine) as session:
            delivery = session.get_one(Delivery, delivery_id)
            sub = session.get_one(Subscription, delivery.subscription_id)
            if delivery.event_id is None:
                events = _baseline_events(session, view_of(sub), delivery.baseline_site,
                                          delivery.baseline_run_id, site_regions(session))
                title, body = render_baseline(delivery.baseline_site, events,
                                              limit_for(sub.url))
                return sub.url, title, body
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
        select(Event).where(Event.occurred_at >= max(start, _start(sub)),
                            Event.occurred_at < end).order_by(Event.id)
    )
    mode = baseline_mode(sub)
    return [{**e, "baseline_digest": e["baseline"] and mode == "digest"}
            for e in map(event_dict, rows)
            if _wanted(sub, e, regions) and not (e["baseline"] and mode == "none")]


def send_digests(engine: Engine, day: date, now: datetime) -> dict[str, int]:
    """One digest per daily subscription with matching events on ``day`` (in the settings'
    time zone, Asia/Shanghai), sent once; earlier digests still due are retried too.

    Returns ``{"created", "sent", "failed", "unacknowledged"}`` counts for this call.
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
