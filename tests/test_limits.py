"""Limits and failures: a slow alert receiver, a read-only archive, a challenge that never
settles — each bounded, each recorded with what really happened."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nianbao.notify.alerts import deliver_pending
from nianbao.notify.events import record_run_events
from nianbao.notify.subscriptions import add_subscription
from nianbao.settings import settings
from nianbao.storage.db import connect
from nianbao.storage.models import Delivery, Resource, Version
from tests.conftest import ROOT, require_tool
from tests.mockserver import render
from tests.mockserver.attacks import Answer, AttackPortal
from tests.mockserver.generated import GeneratedPortal
from tests.test_alerts import engine, now, runs  # noqa: F401  (fixtures)
from tests.test_ssrf import TITLE, column, failures, run_crawl, write_site

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


# -- an archive that cannot be written --------------------------------------------------------


def namespace(setup: str, command: list[str], after: str = "") -> list[str]:
    """``command`` in a user and mount namespace of its own, after ``setup`` (mounts that
    only it sees: a read-only archive, a tiny file system) and before ``after`` (which still
    sees them) — no privileges needed."""
    require_tool("unshare", "the tests mount file systems in a namespace of their own")
    probe = subprocess.run(["unshare", "--map-root-user", "--mount", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        message = f"unprivileged mount namespaces are not available: {probe.stderr!r}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    script = f'{setup} && "$@"; code=$?; {after}; exit $code' if after else \
        f'{setup} && exec "$@"'
    return ["unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh", *command]


def crawl_in(tmp_path: Path, setup: str, portal: AttackPortal) -> tuple[
        subprocess.CompletedProcess, list[dict]]:
    db = tmp_path / "nianbao.sqlite"
    command = [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--sites",
               str(write_site(tmp_path / "sites.yaml", portal)), "--db", f"sqlite:///{db}",
               "--archive", str(tmp_path / "archive")]
    done = subprocess.run(namespace(setup, command), capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    print(done.stdout, done.stderr[-3000:], sep="\n")
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    stored = [dict(r) for r in connection.execute("SELECT id, status, stats FROM crawl_runs")]
    return done, stored


def test_a_read_only_archive_is_a_clear_error_and_a_failed_run(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    with AttackPortal() as portal:
        portal.page("/col/", column((f"{portal.url}/d.html", TITLE)))
        done, runs = crawl_in(tmp_path, f"mount --bind {archive} {archive} && "
                              f"mount -o remount,ro,bind {archive}", portal)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"nianbao: crawl run 1 failed: the archive directory "
                                   f"{archive} cannot be written (Read-only file system)")
    assert [(r["id"], r["status"]) for r in runs] == [(1, "failed")]
    assert portal.hits == []


def test_an_archive_that_fills_up_mid_crawl_fails_the_run(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    noise = base64.b64encode(os.urandom(150_000)).decode()  # the WARC's gzip cannot shrink it
    page = f"<html><body><h1>{TITLE}</h1><p>{noise}</p></body></html>"
    with AttackPortal() as portal:
        portal.page("/col/", column(*((f"{portal.url}/d{n}.html", f"{TITLE}{n}")
                                      for n in range(5))))
        for n in range(5):
            portal.page(f"/d{n}.html", page)
        done, runs = crawl_in(tmp_path, f"mount -t tmpfs -o size=96k tmpfs {archive}", portal)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [run] = runs
    assert run["status"] == "failed"
    assert "No space left on device" in run["stats"] and "archive-failed" in run["stats"]


# -- a database that cannot be written ----------------------------------------------------------

GENERATED_REPORTS = 60
POLITENESS_OFF = {"delay_seconds": 0, "autothrottle": False, "retries": 0}


def settings_with(folder: Path, **sections: dict) -> Path:
    """``config/settings.yaml`` with some fields of its sections changed, as
    ``folder/settings.yaml``."""
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    for section, fields in sections.items():
        conf[section].update(fields)
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def crawl_command(folder: Path, portal: GeneratedPortal, db: Path) -> list[str]:
    return [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--sites",
            str(portal.write_sites(folder / "sites.yaml")), "--db", f"sqlite:///{db}",
            "--archive", str(folder / "archive")]


def crawl(command: list[str], settings_path: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "NIANBAO_SETTINGS": str(settings_path)})
    print(done.stdout, done.stderr[-3000:], sep="\n")
    return done


def crawl_with_db_in_tmpfs(tmp_path: Path, portal: GeneratedPortal, size: int) -> tuple[
        subprocess.CompletedProcess, Path]:
    """A crawl of ``portal`` whose database lives on a file system of ``size`` bytes; the
    database's files are copied out when the crawl ends, to ``kept/``."""
    folder, kept = tmp_path / "db", tmp_path / "kept"
    folder.mkdir()
    kept.mkdir()
    command = crawl_command(tmp_path, portal, folder / "nianbao.sqlite")
    done = crawl(namespace(f"mount -t tmpfs -o size={size} tmpfs {folder}", command,
                           after=f"cp {folder}/nianbao.sqlite* {kept}/"),
                 settings_with(tmp_path, fetch=POLITENESS_OFF))
    return done, kept / "nianbao.sqlite"


def migrated_size(tmp_path: Path) -> int:
    """Bytes of an empty database at the newest migration."""
    from nianbao.storage.db import connect, migrate

    path = tmp_path / "empty.sqlite"
    empty = connect(f"sqlite:///{path}")
    migrate(empty)
    empty.dispose()
    return path.stat().st_size


def stored_versions(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as connection:
        return set(connection.execute("SELECT url, content_hash FROM versions"))


def runs_of(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db) as connection:
        return list(connection.execute("SELECT id, status FROM crawl_runs ORDER BY id"))


def test_a_database_that_fills_up_mid_crawl_stops_it_with_a_clear_error_and_loses_nothing(
        tmp_path: Path) -> None:
    """The database's disk fills while reports are being stored: the crawl stops with one
    line saying why (no traceback for each document that follows), and the next crawl, with
    room again, stores every report a crawl into an empty database stores — nothing fetched
    is lost, since a document is remembered only with its version."""
    with GeneratedPortal(GENERATED_REPORTS) as portal:
        done, kept = crawl_with_db_in_tmpfs(tmp_path, portal,
                                            migrated_size(tmp_path) + 1_200_000)
        some = stored_versions(kept)
        stopped_runs = runs_of(kept)
        # with room again: the database copied to an ordinary disk, the same archive
        fast = tmp_path / "settings.yaml"
        again = crawl(crawl_command(tmp_path, portal, kept), fast)
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        full = crawl(crawl_command(fresh, portal, fresh / "nianbao.sqlite"), fast)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == ("nianbao: crawl run 1 failed: the database cannot be used "
                         "(database or disk is full)")
    assert all(line.startswith("crawl: ") for line in lines[:-1])  # progress lines alone
    assert stopped_runs == [(1, "running")]  # it could not be written: the next crawl marks it
    assert again.returncode == 0 and full.returncode == 0, again.stderr[-3000:]
    assert 0 < len(some) < len(stored_versions(fresh / "nianbao.sqlite")), "filled mid-crawl"
    assert stored_versions(kept) == stored_versions(fresh / "nianbao.sqlite")
    assert runs_of(kept) == [(1, "interrupted"), (2, "finished")]


def test_a_database_without_room_to_start_is_a_clear_error_and_nothing_is_fetched(
        tmp_path: Path) -> None:
    with GeneratedPortal(GENERATED_REPORTS) as portal:
        before = portal.counters()["requests"]
        done, _ = crawl_with_db_in_tmpfs(tmp_path, portal, 64 * 1024)
        assert portal.counters()["requests"] == before
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.stderr.strip() == ("nianbao: the crawl failed: the database cannot be used "
                                   "(database or disk is full)")


def test_a_crawl_that_cannot_be_built_says_why_in_one_line(tmp_path: Path) -> None:
    """Not the database's fault: a setting the crawl's components cannot use. Scrapy fails to
    build the crawl and logs nothing the user sees; the command names the failure."""
    unusable = settings_with(tmp_path, parse={"workers": "many"})
    with GeneratedPortal(GENERATED_REPORTS) as portal:
        before = portal.counters()["requests"]
        done = crawl(crawl_command(tmp_path, portal, tmp_path / "nianbao.sqlite"), unusable)
        assert portal.counters()["requests"] == before
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.stderr.strip() == ("nianbao: the crawl failed: it could not start (ValueError: "
                                   "invalid literal for int() with base 10: 'many')")


# -- a challenge that never settles -------------------------------------------------------------

# Loaded, then reloaded a moment later, again and again: reading the page races its reload.
RELOADING = ("<html><head><script>document.cookie = 'c=' + Date.now();"
             "setTimeout(() => location.reload(), 20 + Math.random() * 80);</script></head>"
             "<body>loading…</body></html>")


def short_render_settings(folder: Path, seconds: int, **crawl: object) -> Path:
    return settings_with(folder, crawl={"render_timeout_seconds": seconds, **crawl},
                         fetch={"retries": 0, "delay_seconds": 0})


def test_a_challenge_that_reloads_forever_ends_as_a_challenge_in_bounded_time(
        tmp_path: Path) -> None:
    """瑞数-style HTTP 412 whose script reloads the page the moment it runs, forever: the
    browser's every step is bounded, and the column fails as ``challenge`` with a reason."""
    require_tool("chromium", "the challenge is solved in a real browser")
    render_seconds = 5
    with AttackPortal() as portal:
        portal.routes["/col/"] = Answer(412, RELOADING.encode())
        portal.routes["/"] = Answer(412, RELOADING.encode())
        started = time.monotonic()
        done, db = run_crawl(tmp_path, write_site(tmp_path / "sites.yaml", portal,
                                                  render="auto"),
                             env={"NIANBAO_SETTINGS": str(short_render_settings(
                                 tmp_path, render_seconds))})
        elapsed = time.monotonic() - started
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert elapsed < 120, elapsed
    column_failures = [f for f in failures(db) if f["url"].endswith("/col/")
                       or f["url"] == f"{portal.url}/"]
    assert column_failures and {f["reason"] for f in column_failures} == {"challenge"}, (
        failures(db))
    # The reload racing the read is no browser error: the challenge was not passed in time.
    assert all("navigating" not in f["detail"] for f in column_failures), column_failures
    assert any(f"within {render_seconds} s" in f["detail"] or "kept reloading" in f["detail"]
               for f in column_failures), column_failures


# Reloaded the moment its script runs, forever (a challenge no browser passes): at any moment
# one of its requests is in flight.
RELOADS_AT_ONCE = (b"<html><body><script>document.cookie = 'c=' + Date.now();"
                   b"location.reload();</script></body></html>")


def test_every_page_that_never_stops_reloading_is_closed(tmp_path: Path) -> None:
    """With one browser page at a time, four columns that reload forever are each opened,
    given up and closed in turn. Playwright's close waited for the page's routed request in
    flight, and sometimes never ended: the page stayed open, holding the only page slot, and
    the next page (or the same request sent again after a navigation timeout, handed that
    page back) waited for ever."""
    require_tool("chromium", "the pages are rendered in a real browser")
    settings_path = short_render_settings(tmp_path, 3, browser_max_pages=1)
    columns = [f"/col{n}/" for n in range(4)]
    with AttackPortal() as portal:
        for path in ["/", *columns]:
            portal.routes[path] = Answer(200, RELOADS_AT_ONCE)
        started = time.monotonic()
        done, db = run_crawl(tmp_path, write_site(
            tmp_path / "sites.yaml", portal, render="always",
            columns=[{"url": portal.url + path} for path in columns]),
            env={"NIANBAO_SETTINGS": str(settings_path)})
        elapsed = time.monotonic() - started
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert elapsed < 150, elapsed
    failed = {f["url"].removeprefix(portal.url) for f in failures(db)}
    assert failed >= set(columns), failures(db)


# A challenge page that never finishes loading: a script it asks for does not come in time.
NEVER_LOADS = (b"<html><head><script>document.cookie = 'c=1';</script>"
               b"<script src='/slow.js'></script></head><body>loading</body></html>")


def test_a_challenge_whose_page_never_loads_is_a_challenge_not_a_timeout(tmp_path: Path) -> None:
    """The portal answered plain requests with a 瑞数-style HTTP 412; in the browser the page
    hits Playwright's navigation timeout (a loaded machine, a slow challenge script). The
    navigation is tried once more, as a download that timed out is; then the portal, which was
    reached, is a challenge not passed, named, with what went wrong — never a timeout that
    would call the portal unreachable."""
    require_tool("chromium", "the challenge is solved in a real browser")
    render_seconds = 3
    with AttackPortal() as portal:
        portal.routes["/col/"] = Answer(412, NEVER_LOADS)
        portal.routes["/"] = Answer(412, NEVER_LOADS)
        portal.routes["/slow.js"] = Answer(200, b"", "text/javascript",
                                           delay=render_seconds * 3)
        done, db = run_crawl(tmp_path, write_site(tmp_path / "sites.yaml", portal,
                                                  render="auto"),
                             env={"NIANBAO_SETTINGS": str(short_render_settings(
                                 tmp_path, render_seconds))})
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    column_failures = [f for f in failures(db) if f["url"].endswith("/col/")
                       or f["url"] == f"{portal.url}/"]
    assert column_failures and {f["reason"] for f in column_failures} == {"challenge"}, (
        failures(db))
    assert all("the browser did not pass the 瑞数 (HTTP 412) challenge" in f["detail"]
               for f in column_failures), column_failures
    # the browser's navigation was tried twice (once more after its timeout), then given up
    assert [path for _, path, _ in portal.hits].count("/slow.js") == 2, portal.hits


def test_whatever_stops_a_challenge_visit_is_the_challenge_not_passed() -> None:
    """Both spiders judge a failed request by ``failed_visit``: a browser visit that was to
    pass a challenge and ran out of time (Playwright's navigation, or a bounded browser step) is
    the challenge not passed for the page it was for — so discovery calls that portal blocked,
    not unreachable — while the same timeout of a plain request stays a timeout."""

    from playwright.async_api import TimeoutError as BrowserTimeout
    from scrapy import Request
    from twisted.python.failure import Failure

    from nianbao.crawler import meta
    from nianbao.crawler.failures import failed_visit
    from nianbao.crawler.portal_tree import outcome_of

    page = Request("http://www.gov.test/", meta={meta.CHALLENGE: "ruishu"})
    solve = Request("http://www.gov.test/", meta={meta.SOLVE_FOR: page})
    for exc in (BrowserTimeout("Page.goto: Timeout 20000ms exceeded."), TimeoutError()):
        failure = Failure(exc)
        failure.request = solve
        request, reason, detail = failed_visit(failure)
        assert request is page and reason == "challenge", (reason, detail)
        assert detail.startswith("the browser did not pass the 瑞数 (HTTP 412) challenge (timeout")
        assert outcome_of(reason) == "blocked"
        failure.request = page
        assert failed_visit(failure)[:2] == (page, "timeout")


def test_a_header_value_with_a_nul_is_stored_with_a_space_on_every_backend(
        tmp_path: Path, db_url: str) -> None:
    """RFC 9110 §5.5: a field value holding CR, LF or NUL is invalid, and its recipient
    replaces each with SP. A portal whose ETag held a NUL failed its list page on PostgreSQL
    (text cannot hold NUL): a traceback, and none of its reports fetched."""
    report = render.page_html(render.load_report(render.seed_ids()[0]), "trs",
                              declare_charset=True)
    modified = "Sat, 20 Jan 2024 09:30:00 GMT"
    with AttackPortal() as portal:
        portal.page("/col/", column((f"{portal.url}/d.html", TITLE)),
                    headers=(("ETag", '"col\x00umn"'),))
        portal.page("/d.html", report, headers=(("ETag", '"re\x00port"'),
                                                ("Last-Modified", f"{modified}\x00")))
        sites = write_site(tmp_path / "sites.yaml", portal)
        done = subprocess.run(
            [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--sites", str(sites),
             "--db", db_url, "--archive", str(tmp_path / "archive")],
            capture_output=True, text=True, timeout=300, cwd=ROOT)
    print(done.stdout, done.stderr[-3000:], sep="\n")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    database = connect(db_url)
    try:
        with database.connect() as connection:
            states = dict(connection.execute(select(Resource.kind, Resource.etag)).all())
            stored = connection.execute(select(Version.url, Resource.last_modified).join(
                Resource, Resource.url == Version.url)).all()
    finally:
        database.dispose()
    assert states == {"list": '"col umn"', "detail": '"re port"'}
    assert stored == [(f"{portal.url}/d.html", f"{modified} ")]
