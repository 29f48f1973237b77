"""Events, subscriptions, alerts and feeds on real databases (``db_url``: SQLite and
PostgreSQL), with records parsed from the seed reports and stored through ``Store``, and real
local receivers: a JSON webhook (http.server) and an SMTP server (aiosmtpd).
"""

from __future__ import annotations

import email
import hashlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from lxml import etree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nianbao.commands.cli import main
from nianbao.notify.alerts import deliver_pending, send_digests
from nianbao.notify.events import event_dict, record_run_events, record_verdict_events
from nianbao.notify.feeds import site_feed, subscription_feed
from nianbao.notify.messages import limit_for, render_event
from nianbao.notify.subscriptions import add_subscription, get_subscription
from nianbao.parsers.pipeline import parse_bytes
from nianbao.settings import settings
from nianbao.storage.db import connect, migrate
from nianbao.storage.models import Delivery, Event, Version
from nianbao.storage.store import Store
from tests.conftest import FIXTURES, ROOT
from tests.mockserver.server import ReplicaHTTPServer

CHENGQU = "000_7215e79b01c75868"  # 晋城市城区人民政府 2023
QUWO = "002_59d91e6a9fd921ee"  # 曲沃县人民政府 2023
QUWO_URL = "http://www.quwo.gov.cn/zwgk/xxgknb/202401/t20240125_1.shtml"
CHENGQU_URL = "http://xxgk.jccq.gov.cn/qzf/qzfb/zfxxgknb/202401/t20240129_1.shtml"
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
# The revision: 19 natural-person requests become 20 while the row total stays 22 (so the row
# identity breaks), and a sentence of the problems section is reworded.
REVISIONS = (
    ("一、本年新收政府信息公开申请数量\n\t19\n", "一、本年新收政府信息公开申请数量\n\t20\n"),
    ("部分单位相关工作人员业务能力不足", "部分单位相关工作人员业务能力和责任意识不足"),
)


@cache
def _parsed(seed_id: str, revised: bool) -> str:
    path = FIXTURES / "seeds" / f"{seed_id}.txt"
    text = path.read_text(encoding="utf-8")
    for before, after in REVISIONS if revised else ():
        assert before in text, before
        text = text.replace(before, after)
    return json.dumps(parse_bytes(text.encode("utf-8"), str(path)), ensure_ascii=False)


def record(seed_id: str, revised: bool = False) -> dict[str, Any]:
    return json.loads(_parsed(seed_id, revised))


def store_doc(store: Store, run_id: int, site: str, url: str, rec: dict[str, Any],
              offset: int) -> int:
    body = json.dumps(rec, sort_keys=True).encode()
    outcome = store.store_document(
        run_id=run_id, site_id=site, url=url, record=rec,
        content_hash=hashlib.sha256(body).hexdigest(),
        payload_digest=hashlib.sha256(body + url.encode()).hexdigest(),
        content_type="text/html",
        warc={"file": "nianbao-0001.warc.gz", "offset": offset, "length": 1234,
              "record_id": f"<urn:uuid:{offset}>"},
        fetched_at=T0 + timedelta(days=offset),
    )
    assert outcome.version_id is not None
    return outcome.version_id


def crawl(store: Store, docs: list[tuple[str, str, dict[str, Any], int]]) -> int:
    """One finished crawl run storing ``docs`` (site, url, record, warc offset)."""
    sites = sorted({site for site, *_ in docs})
    run_id = store.start_run(sites)
    for site, url, rec, offset in docs:
        store_doc(store, run_id, site, url, rec, offset)
    store.finish_run(run_id, "finished", {s: {"pages": 3} for s in sites}, 1000)
    return run_id


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = connect(db_url)
    migrate(engine)
    store = Store(engine)
    store.upsert_site("jccq", "晋城市城区人民政府", "140502", {"columns": []}, [])
    store.upsert_site("quwo", "曲沃县人民政府", "141021", {"columns": []}, [])
    yield engine
    engine.dispose()


Runs = Callable[[], tuple[int, int]]


@pytest.fixture
def runs(engine: Engine) -> Runs:
    """Two crawls, made when a test calls it (after its subscriptions, as events are recorded
    with the versions): run 1 finds two new reports (both sites' first crawl, so their
    baseline); run 2 finds a revised copy of Quwo's at the same URL."""

    def crawl_twice() -> tuple[int, int]:
        store = Store(engine)
        first = crawl(store, [("jccq", CHENGQU_URL, record(CHENGQU), 0),
                              ("quwo", QUWO_URL, record(QUWO), 1)])
        second = crawl(store, [("quwo", QUWO_URL, record(QUWO, revised=True), 2)])
        return first, second

    return crawl_twice


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Webhook:
    """A JSON receiver on 127.0.0.1 that can be down (nothing listening) and brought up."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self.server: ReplicaHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ReplicaHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.up()
    yield hook
    hook.down()


@pytest.fixture
def down_webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.down()


class Mailbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    url = (f"mailto://127.0.0.1:{port}?mode=insecure&from=nianbao@example.org"
           f"&to=desk@example.org")
    yield box, url
    controller.stop()


def events(engine: Engine) -> list[Event]:
    with Session(engine) as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def message(hook: Webhook, title_prefix: str) -> str:
    """The text of the first alert received whose title starts with ``title_prefix``."""
    return next(m["message"] for m in hook.received if m["title"].startswith(title_prefix))


def now() -> datetime:
    return datetime.now(UTC)


# Events ------------------------------------------------------------------------------------


def test_versions_have_their_events_from_the_moment_they_are_stored(
    engine: Engine, runs: Runs
) -> None:
    """Written in the store's own transaction: no separate stage to forget or to be killed
    before; recording a run's events afterwards adds nothing and a replay nothing either."""
    first, second = runs()
    rows = events(engine)
    assert [(e.kind, e.site_id, e.report_year, e.baseline, e.crawl_run_id) for e in rows] == [
        ("new_report", "jccq", 2023, True, first), ("new_report", "quwo", 2023, True, first),
        ("revised_report", "quwo", 2023, False, second),
        ("failed_checks", "quwo", 2023, False, second),
    ]
    assert record_run_events(engine, second) == 0 and record_run_events(engine, first) == 0
    assert len(events(engine)) == 4
    revised, failed = rows[2].payload, rows[3].payload
    assert {"key": "requests.new.natural", "before": 19, "after": 20} in revised["changes"]
    [problems] = revised["section_changes"]
    assert problems["section"] == "problems"
    assert "业务能力不足" in problems["before"]
    assert "业务能力和责任意识不足" in problems["after"]
    assert "requests.row_total.new" in [c["id"] for c in failed["failed_checks"]]
    assert rows[3].dedupe_key == f"failed_checks:v{rows[3].version_id}"
    # The revision names both copies: the one it replaces and when the change was seen.
    assert revised["previous"]["version_id"] == rows[1].version_id
    assert revised["previous"]["warc"]["offset"] == 1 and revised["warc"]["offset"] == 2
    assert revised["detected_at"] == (T0 + timedelta(days=2)).isoformat()


def _observed_run(store: Store, site: str = "jccq", reached: bool = False,
                  reason: str | None = "dns", **extra: Any) -> int:
    """A finished run whose one observation of the site is as given."""
    run_id = store.start_run([site])
    store.record_observation(
        run_id=run_id, site_id=site, column_url=f"http://xxgk.{site}.gov.cn/nb/", url=None,
        observed_at=now(), reached=reached, complete=reached and not extra.get("moved"),
        reason=None if reached else reason, list_pages=2 if reached else 0,
        items=9 if reached else 0, **extra)
    store.finish_run(run_id, "finished", {}, 0)
    return run_id


def test_site_unreachable_once_per_outage(engine: Engine) -> None:
    store = Store(engine)
    outcomes = [record_run_events(engine, _observed_run(store)) for _ in range(4)]
    assert outcomes == [0, 0, 1, 0]  # not on the first failures, once per outage
    assert record_run_events(engine, _observed_run(store, reached=True)) == 0
    outcomes = [record_run_events(engine, _observed_run(store, reason="timeout"))
                for _ in range(3)]
    assert outcomes == [0, 0, 1]
    rows = events(engine)
    assert [e.dedupe_key for e in rows] == ["site_unreachable:jccq:1", "site_unreachable:jccq:6"]
    assert rows[1].payload["reasons"] == ["timeout"]
    assert rows[1].payload["failed_runs"] == [6, 7, 8]


def test_blocked_and_moved_columns_are_their_own_events_with_their_reason(
    engine: Engine, webhook: Webhook
) -> None:
    store = Store(engine)
    add_subscription(engine, "desk", webhook.url)
    robots = _observed_run(store, "quwo", reason="robots", detail="Disallow: /")
    _observed_run(store, "jccq", reached=True, moved=True, reason="column-moved")
    crawl_only = _observed_run(store, "jccq", reason="challenge")  # nianbao crawl, no events yet
    assert record_run_events(engine, crawl_only) == 2 + 1  # earlier runs are caught up
    assert record_run_events(engine, robots) == record_run_events(engine, crawl_only) == 0
    rows = {(e.kind, e.site_id): e for e in events(engine)}
    assert set(rows) == {("site_blocked", "quwo"), ("column_moved", "jccq"),
                         ("site_blocked", "jccq")}
    assert rows["site_blocked", "quwo"].payload["reasons"] == ["robots"]
    assert rows["column_moved", "jccq"].payload["found"] is False
    assert deliver_pending(engine, now())["sent"] == 3
    texts = {m["title"]: m["message"] for m in webhook.received}
    assert "robots.txt 禁止抓取：Disallow: /" in texts["【网站拒绝抓取】quwo"]
    assert "反爬虫验证未通过" in texts["【网站拒绝抓取】jccq"]
    assert "http://xxgk.jccq.gov.cn/nb/" in texts["【年报栏目已迁移】jccq"]


def test_verdict_events_late_and_missing(engine: Engine) -> None:
    from nianbao.checks.compliance import Verdict

    verdicts = [
        Verdict("quwo", None, "曲沃县人民政府", "government", 2023, "late", date(2024, 1, 31), 0,
                date(2024, 2, 5), "meta:PubDate", 5, [], None, QUWO_URL, "发布日期晚于1月31日"),
        Verdict("jccq", None, "晋城市城区人民政府", "government", 2024, "missing",
                date(2025, 1, 31), 0, None, "no-report", None, [], None, None,
                "未找到2024年度报告"),
        Verdict("jccq", None, "晋城市城区人民政府", "government", 2023, "on_time",
                date(2024, 1, 31), 0, date(2024, 1, 29), "meta:PubDate", None, [], None, None, ""),
    ]
    assert record_verdict_events(engine, verdicts) == 2
    assert record_verdict_events(engine, verdicts) == 0
    late, missing = events(engine)
    assert (late.kind, late.payload["deadline"], late.payload["days_late"]) == (
        "late_report", "2024-01-31", 5)
    assert missing.kind == "missing_report"
    assert missing.dedupe_key == "missing_report:jccq/晋城市城区人民政府:2024"
    title, body = render_event(event_dict(late), 4000)
    assert "发布日期：2024-02-05（依据：" in body and "曲沃县人民政府" in title + body


# Alerts ------------------------------------------------------------------------------------


def test_alerts_carry_issuer_year_changes_and_links(
    engine: Engine, runs: Runs, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(settings()["alerts"], "archive_base_url", "http://localhost:8080/nianbao/")
    add_subscription(engine, "quwo-desk", webhook.url, sites=["quwo"], baseline="each")
    add_subscription(engine, "shanxi-revisions", webhook.url, regions=["14"],
                     kinds=["revised_report"], keyword="责任意识")
    add_subscription(engine, "henan", webhook.url, regions=["41"])
    for run_id in runs():
        record_run_events(engine, run_id)
    result = deliver_pending(engine, now())
    # 3 for quwo-desk, 1 revision
    assert result == {"created": 4, "sent": 4, "failed": 0, "unacknowledged": 0}
    titles = [m["title"] for m in webhook.received]
    assert titles.count("【年报被修改】曲沃县人民政府 2023年度") == 2
    new = message(webhook, "【新发布年报】")
    assert "发布机关：曲沃县人民政府" in new and "报告年度：2023" in new
    assert f"原文：{QUWO_URL}" in new
    assert f"存档：http://localhost:8080/nianbao/20240302080000/{QUWO_URL}" in new
    assert "收到申请 22 件；予以公开率 59.1%（13/22）；复议纠错 0 件" in new
    revised = message(webhook, "【年报被修改】")
    assert "本年新收政府信息公开申请数量（自然人）：19 → 20" in revised
    assert "存在的主要问题及改进情况" in revised and "责任意识" in revised
    failed = message(webhook, "【年报数据未通过校验】")
    assert "requests.row_total.new" in failed
    assert deliver_pending(engine, now()) == {"created": 0, "sent": 0, "failed": 0,
                                              "unacknowledged": 0}


@pytest.mark.parametrize(("mode", "first_run_alerts"), [
    (None, 1),  # the default (alerts.baseline: digest): the site's first crawl in one alert
    ("each", 6),
    ("none", 0),
])
def test_a_new_subscribers_first_run_follows_the_baseline_rule(
    engine: Engine, webhook: Webhook, mode: str | None, first_run_alerts: int
) -> None:
    """Subscribed to a site nianbao has never crawled: its first crawl finds six reports. The
    baseline rule (notify/alerts.py) decides how many alerts that makes; what comes after the
    baseline is news, one alert per event, whatever the mode."""
    assert settings()["alerts"]["baseline"] == "digest"
    add_subscription(engine, "desk", webhook.url, sites=["jccq"], baseline=mode)
    store = Store(engine)
    years = range(2018, 2024)
    crawl(store, [("jccq", f"{CHENGQU_URL}?{y}", record(CHENGQU) | {"report_year": y}, y)
                  for y in years])
    assert deliver_pending(engine, now())["sent"] == first_run_alerts
    assert len(webhook.received) == first_run_alerts
    if mode is None:
        [digest] = webhook.received
        assert digest["title"] == "【开始监测】jccq：首次抓取（6 条）"
        assert "新发布年报 6 条（2018–2023 年度）" in digest["message"]
        for y in years:
            assert f"晋城市城区人民政府 {y}年度 {CHENGQU_URL}?{y}" in digest["message"]
    revised = record(CHENGQU) | {"report_year": 2023}
    revised["metrics"]["requests.new.total"] += 1
    crawl(store, [("jccq", f"{CHENGQU_URL}?2023", revised, 99)])
    assert deliver_pending(engine, now())["sent"] == 1
    assert [m["title"] for m in webhook.received[first_run_alerts:]] == [
        "【年报被修改】晋城市城区人民政府 2023年度"]
    assert deliver_pending(engine, now())["sent"] == 0


def test_a_revision_alert_links_both_archived_copies(
    engine: Engine, runs: Runs, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(settings()["alerts"], "archive_base_url", "http://localhost:8080/nb/")
    add_subscription(engine, "desk", webhook.url, kinds=["revised_report"])
    runs()
    deliver_pending(engine, now())
    [alert] = webhook.received
    old, new = T0 + timedelta(days=1), T0 + timedelta(days=2)
    assert f"存档：http://localhost:8080/nb/{old:%Y%m%d%H%M%S}/{QUWO_URL}" in alert["message"]
    assert f"修改前存档：http://localhost:8080/nb/{new:%Y%m%d%H%M%S}/{QUWO_URL}" not in (
        alert["message"])
    assert (f"修改前存档：http://localhost:8080/nb/{old:%Y%m%d%H%M%S}/{QUWO_URL}（首次抓取 "
            f"{old:%Y-%m-%d}）") in alert["message"]
    assert f"存档：http://localhost:8080/nb/{new:%Y%m%d%H%M%S}/{QUWO_URL}" in alert["message"]
    assert f"发现修改：{new:%Y-%m-%d %H:%M}（UTC）" in alert["message"]


def test_with_the_web_app_configured_alerts_link_its_archived_copy_pages(
    engine: Engine, runs: Runs, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journalist opens the copy an alert cites in ``nianbao serve``: both copies of a
    revision link to their version's archived-copy page."""
    monkeypatch.setitem(settings()["alerts"], "web_base_url", "https://nb.example.org/")
    add_subscription(engine, "desk", webhook.url, kinds=["revised_report"])
    runs()
    deliver_pending(engine, now())
    [alert] = webhook.received
    with engine.connect() as c:
        old, new = c.execute(select(Version.id).where(Version.url == QUWO_URL)
                             .order_by(Version.id)).scalars().all()
    assert f"存档：https://nb.example.org/versions/{new}/archive" in alert["message"]
    assert f"修改前存档：https://nb.example.org/versions/{old}/archive" in alert["message"]


def test_a_subscription_starts_when_it_says(engine: Engine, runs: Runs, webhook: Webhook) -> None:
    add_subscription(engine, "later", webhook.url, starts_at=now() + timedelta(days=1),
                     baseline="each")
    runs()
    assert deliver_pending(engine, now())["created"] == 0
    assert webhook.received == []


def test_email_alert_through_smtp(engine: Engine, runs: Runs,
                                  smtp: tuple[Mailbox, str]) -> None:
    box, url = smtp
    add_subscription(engine, "mail", url, kinds=["new_report"], issuers=["城区"], baseline="each")
    record_run_events(engine, runs()[0])
    assert deliver_pending(engine, now())["sent"] == 1
    [message] = box.messages
    assert "晋城市城区人民政府" in message["Subject"]
    body = message.get_body(("plain", "html")).get_content()
    assert "报告年度：2023" in body and CHENGQU_URL in body
    assert "存档：nianbao-0001.warc.gz:0" in body  # no replay server configured


def test_a_receiver_down_then_up_gets_each_alert_once(
    engine: Engine, runs: Runs, down_webhook: Webhook, db_url: str
) -> None:
    add_subscription(engine, "desk", down_webhook.url, kinds=["new_report"])
    record_run_events(engine, runs()[0])
    start = now()
    assert deliver_pending(engine, start) == {"created": 2, "sent": 0, "failed": 2,
                                              "unacknowledged": 0}
    first = deliveries(engine)
    assert [(d.status, d.attempts) for d in first] == [("failed", 1), ("failed", 1)]
    assert all(d.last_error and d.next_attempt_at > start for d in first)

    down_webhook.up()
    base = int(settings()["alerts"]["retry_base_seconds"])
    assert deliver_pending(engine, start + timedelta(seconds=base / 2))["sent"] == 0  # backing off
    assert deliver_pending(engine, start + timedelta(seconds=base + 1))["sent"] == 2
    assert [(d.status, d.attempts) for d in deliveries(engine)] == [("sent", 2), ("sent", 2)]
    assert deliver_pending(engine, start + timedelta(days=1))["sent"] == 0
    assert len(down_webhook.received) == 2

    # A restart: a new process with its own engine finds nothing to send.
    later = (start + timedelta(days=2)).isoformat()
    script = ("import sys; from datetime import datetime; from nianbao.storage.db import connect; "
              "from nianbao.notify.alerts import deliver_pending; "
              "print(deliver_pending(connect(sys.argv[1]), datetime.fromisoformat(sys.argv[2])))")
    out = subprocess.run([sys.executable, "-c", script, db_url, later], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "{'created': 0, 'sent': 0, 'failed': 0, 'unacknowledged': 0}"
    assert len(down_webhook.received) == 2


def test_daily_digest_is_sent_once_with_every_matching_event(
    engine: Engine, runs: Runs, webhook: Webhook
) -> None:
    add_subscription(engine, "daily", webhook.url, regions=["14"], mode="daily")
    add_subscription(engine, "daily-jccq", webhook.url, sites=["jccq"], kinds=["revised_report"],
                     mode="daily")
    for run_id in runs():
        record_run_events(engine, run_id)
    zone = ZoneInfo(settings()["alerts"]["timezone"])
    day = events(engine)[0].occurred_at.astimezone(zone).date()
    expected = [e for e in events(engine) if e.occurred_at.astimezone(zone).date() == day]
    assert deliver_pending(engine, now())["created"] == 0  # daily subscriptions get no alerts
    assert send_digests(engine, day, now()) == {"created": 1, "sent": 1, "failed": 0,
                                                "unacknowledged": 0}
    assert send_digests(engine, day, now() + timedelta(days=1))["sent"] == 0
    [digest] = webhook.received
    assert digest["title"] == f"【nianbao 每日摘要】{day.isoformat()}（{len(expected)} 条）"
    for title in ("【开始监测】jccq", "新发布年报：晋城市城区人民政府 2023年度",
                  "【开始监测】quwo", "新发布年报：曲沃县人民政府 2023年度",
                  "【年报被修改】曲沃县人民政府", "【年报数据未通过校验】曲沃县人民政府"):
        assert title in digest["message"]
    [row] = deliveries(engine)
    assert (row.digest_day, row.status, row.event_id) == (day, "sent", None)


# Feeds and the command line -----------------------------------------------------------------


def test_atom_feed_has_one_entry_per_event(engine: Engine, runs: Runs) -> None:
    for run_id in runs():
        record_run_events(engine, run_id)
    feed = etree.fromstring(site_feed(engine, "quwo"))
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{name}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        assert entry.findtext(f"{ATOM}id").startswith("tag:nianbao,2026:event:")
        assert entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}content")
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == QUWO_URL
    sub = add_subscription(engine, "new-only", "json://127.0.0.1:9/x", kinds=["new_report"])
    feed = etree.fromstring(subscription_feed(engine, sub))
    assert len(feed.findall(f"{ATOM}entry")) == 2


def test_subscribe_and_feed_commands(
    engine: Engine, runs: Runs, db_url: str, webhook: Webhook,
    down_webhook: Webhook, capsys: pytest.CaptureFixture[str],
) -> None:
    db = ["--db", db_url]
    assert main(["subscribe", "add", "desk", webhook.url, "--region", "1405", "--kind",
                 "new_report", "--keyword", "城区", *db]) == 0
    assert main(["subscribe", "add", "gone", down_webhook.url, "--daily", *db]) == 0
    assert main(["subscribe", "add", "desk", webhook.url, *db]) == 2  # name taken
    capsys.readouterr()
    assert main(["subscribe", "list", "--json", *db]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["name"], s["mode"], s["regions"], s["keyword"]) for s in listed] == [
        ("desk", "immediate", ["1405"], "城区"), ("gone", "daily", [], None)]
    assert main(["subscribe", "test", "desk", *db]) == 0
    assert webhook.received[-1]["title"] == "【nianbao 测试】订阅已配置"
    assert main(["subscribe", "test", "gone", *db]) == 1
    assert "failed" in capsys.readouterr().err
    assert main(["subscribe", "remove", "gone", *db]) == 0
    assert get_subscription(engine, "gone") is None
    assert main(["subscribe", "remove", "gone", *db]) == 2

    record_run_events(engine, runs()[0])
    capsys.readouterr()
    assert main(["feed", "--subscription", "desk", *db]) == 0
    feed = etree.fromstring(capsys.readouterr().out.encode("utf-8"))
    [entry] = feed.findall(f"{ATOM}entry")
    assert "晋城市城区人民政府" in entry.findtext(f"{ATOM}title")


def test_chat_messages_are_cut_after_the_links(engine: Engine, runs: Runs) -> None:
    runs()
    revised = event_dict(next(e for e in events(engine) if e.kind == "revised_report"))
    assert limit_for("dingtalk://abcdefghijklmnop") == 4000
    assert limit_for("json://127.0.0.1/x") > 4000
    title, body = render_event(revised, 200)
    assert len(body) == 200 and body.endswith("…")
    assert f"原文：{QUWO_URL}" in body and "曲沃县人民政府" in title


def test_a_scheduler_restarted_mid_day_sends_nothing_twice(
    engine: Engine, runs: Runs, webhook: Webhook, db_url: str
) -> None:
    """The real delivery job run by APScheduler from its database job store, then the same
    scheduler restarted (a new one on the same store) running it again: no alert twice."""
    import time as clock

    from nianbao.schedule.jobs import retry_deliveries
    from nianbao.schedule.scheduler import build_scheduler, stop_scheduler

    add_subscription(engine, "desk", webhook.url, kinds=["new_report"])
    record_run_events(engine, runs()[0])

    def run_once() -> None:
        scheduler = build_scheduler(db_url)
        scheduler.start(paused=True)
        scheduler.add_job(retry_deliveries, "date", args=[db_url], id="deliveries",
                          replace_existing=True, run_date=datetime.now(UTC))
        scheduler.resume()
        deadline = clock.monotonic() + 30
        while scheduler.get_job("deliveries") is not None and clock.monotonic() < deadline:
            clock.sleep(0.2)
        stop_scheduler(scheduler)

    run_once()
    assert len(webhook.received) == 2
    run_once()  # restarted mid-day: the job runs again, the deliveries are already sent
    assert len(webhook.received) == 2
    assert [d.status for d in deliveries(engine)] == ["sent", "sent"]
