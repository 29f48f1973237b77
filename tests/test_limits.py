"""Limits and failures: a slow alert receiver, a read-only archive, a challenge that never
settles — each bounded, each recorded with what really happened."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nianbao.notify.alerts import deliver_pending
from nianbao.notify.events import record_run_events
from nianbao.notify.subscriptions import add_subscription
from nianbao.settings import settings
from nianbao.storage.models import Delivery
from tests.mockserver.attacks import Answer, AttackPortal
from tests.test_alerts import engine, now, runs  # noqa: F401  (fixtures)

APPRISE_DEFAULT_READ_TIMEOUT = 4.0


def deliveries(db: Engine) -> list[Delivery]:
    with Session(db) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def slow_receiver_run(db: Engine, make_runs, delay: float) -> tuple[AttackPortal, dict]:
    receiver = AttackPortal().__enter__()
    receiver.routes["/hook"] = Answer(200, b"{}", "application/json", delay=delay)
    add_subscription(db, "slow", f"json://127.0.0.1:{receiver.port}/hook",
                     kinds=["new_report"], issuers=["城区"], baseline="each")
    record_run_events(db, make_runs()[0])
    return receiver, deliver_pending(db, now())


def test_a_webhook_slower_than_apprises_default_is_sent_once(
        engine: Engine, runs) -> None:  # noqa: F811
    receiver, counts = slow_receiver_run(engine, runs, APPRISE_DEFAULT_READ_TIMEOUT + 2)
    try:
        assert counts["sent"] == 1 and counts["failed"] == 0, counts
        assert [d.status for d in deliveries(engine)] == ["sent"]
        assert deliver_pending(engine, now() + timedelta(days=1))["sent"] == 0
        assert receiver.paths() == ["/hook"]
    finally:
        receiver.__exit__()


def test_no_answer_in_time_is_recorded_as_unacknowledged_and_not_sent_again(
        engine: Engine, runs, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setitem(settings()["alerts"], "send_timeout_seconds", 1)
    receiver, counts = slow_receiver_run(engine, runs, 3)
    try:
        assert counts["unacknowledged"] == 1 and counts["failed"] == 0, counts
        [delivery] = deliveries(engine)
        assert delivery.status == "unacknowledged" and "no answer within 1 s" in (
            delivery.last_error or "")
        later = deliver_pending(engine, now() + timedelta(days=1))
        assert later["sent"] == later["failed"] == later["unacknowledged"] == 0
        assert receiver.paths() == ["/hook"]  # received once, never sent again
    finally:
        receiver.__exit__()
