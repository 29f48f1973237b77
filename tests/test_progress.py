"""Progress of a crawl as users see it: a bar on a terminal (sites done / total, pages,
reports stored, time left), a heartbeat line at a fixed interval off a terminal. Both crawl
the demo portal over real HTTP; the terminal is a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml
from scrapy import Request

from nianbao.commands.demo import write_sites
from nianbao.commands.demo.portal import DemoPortal
from nianbao.crawler.meta import WORK
from nianbao.crawler.progress import SPIDER_MADE, SiteLedger, Snapshot
from tests.conftest import ROOT, require_tool

BAR = re.compile(r"crawl (\d)/4 sites \|[^|]*\| (\d+) pages · (\d+) reports stored "
                 r"\[(\d\d:\d\d)<([\d:?]+)\]")
HEARTBEAT = re.compile(r"^crawl: (\d)/4 sites done, (\d+) pages, (\d+) reports stored"
                       r"(, \d\d:\d\d elapsed, (about \d\d:\d\d left|time left unknown)"
                       r"| in \d\d:\d\d)$")


@pytest.fixture(scope="module")
def portal_sites(tmp_path_factory):
    """The demo portal's sites, crawled a quarter of a second between requests: without delay
    the crawl ends in about a second, before a bar is redrawn or a heartbeat is due."""
    require_tool("chromium", "the demo portal's crawl may start Chromium")
    folder = tmp_path_factory.mktemp("progress")
    with DemoPortal() as portal:
        sites = write_sites(folder, portal.url)
        text = sites.read_text(encoding="utf-8")
        assert "politeness: {delay_seconds: 0, concurrency: 4}" in text
        sites.write_text(text.replace("politeness: {delay_seconds: 0, concurrency: 4}",
                                      "politeness: {delay_seconds: 0.25, concurrency: 1}"),
                         encoding="utf-8")
        yield sites


def crawl_command(sites: Path, folder: Path) -> list[str]:
    return [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--sites", str(sites),
            "--db", f"sqlite:///{folder / 'db.sqlite'}", "--archive", str(folder / "archive")]


def test_a_terminal_shows_a_bar_with_sites_pages_reports_and_time_left(portal_sites, tmp_path):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    child = subprocess.Popen(crawl_command(portal_sites, tmp_path), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=follower, cwd=ROOT)
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        elif child.poll() is not None:
            break
    os.close(leader)
    assert child.wait(timeout=60) == 0
    text = screen.decode("utf-8", "replace")
    assert "Traceback" not in text
    frames = [m.groups() for frame in text.split("\r") if (m := BAR.search(frame))]
    assert len(frames) >= 3, text[-2000:]
    done = [int(f[0]) for f in frames]
    assert done == sorted(done) and done[0] < 4 and done[-1] == 4
    assert int(frames[-1][2]) == 5  # the demo portal's five reports
    assert int(frames[-1][1]) > int(frames[0][1])
    assert any(f[4] != "?" for f in frames if int(f[0]) < 4), "no estimate of time left"
    assert "\r" in text  # redrawn in place, not a line per frame


def test_off_a_terminal_a_heartbeat_line_at_the_configured_interval(portal_sites, tmp_path):
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["crawl"]["heartbeat_seconds"] = 1
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run(crawl_command(portal_sites, tmp_path), capture_output=True,
                          text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "NIANBAO_SETTINGS": str(settings)})
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    beats = [HEARTBEAT.match(line) for line in lines]
    assert all(beats), [line for line, m in zip(lines, beats, strict=True) if not m]
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    # about one a second, and a last one at the end
    assert 3 <= len(beats) <= took + 2, (took, lines)
    last = beats[-1].groups()
    assert last[0] == "4" and last[2] == "5"


def request(site: str = "jccq", **meta) -> Request:
    return Request("http://127.0.0.1/x", meta={"site_id": site, **meta})


def test_ledger_counts_a_site_done_when_its_requests_and_items_are():
    ledger = SiteLedger()
    assert not ledger.done("jccq")  # nothing scheduled yet
    column = request(**{WORK: SPIDER_MADE})
    ledger.scheduled(column)
    assert not ledger.done("jccq")
    redirected = column.replace(url="http://127.0.0.1/y")  # carries the token on
    ledger.scheduled(redirected)
    child = request(**column.meta)  # a callback copying its parent's meta...
    ledger.spider_made(child)  # ...makes new work all the same
    ledger.scheduled(child)
    answer = _response(redirected)
    ledger.item_started(object(), answer)
    ledger.finished(redirected)
    assert not ledger.done("jccq")  # the child and the item are still open
    ledger.item_finished(object(), answer)
    ledger.finished(child)
    assert ledger.done("jccq")
    assert not ledger.done("quwo")


def _response(request: Request):
    from scrapy.http import HtmlResponse

    return HtmlResponse(request.url, body=b"", request=request)


def test_time_left_follows_the_pace_of_the_sites_done():
    assert Snapshot(4, 0, 3, 0, 10.0).remaining() is None
    assert Snapshot(4, 1, 9, 2, 10.0).remaining() == 30.0
    assert Snapshot(4, 1, 9, 2, 10.0).heartbeat() == (
        "crawl: 1/4 sites done, 9 pages, 2 reports stored, 00:10 elapsed, about 00:30 left")
    assert Snapshot(4, 0, 0, 0, 5.0).heartbeat().endswith(", 00:05 elapsed, time left unknown")
    assert Snapshot(4, 4, 18, 5, 28.0).heartbeat() == (
        "crawl: 4/4 sites done, 18 pages, 5 reports stored in 00:28")


def test_a_heartbeat_reads_times_as_the_bar_does_without_importing_the_bar():
    """Off a terminal the crawl never draws a bar, so it does not import tqdm (some 45 ms of
    every crawl's start); its times read as tqdm would print them."""
    from tqdm import tqdm

    from nianbao.crawler.progress import clock

    for seconds in (0, 5, 59.9, 60, 3599, 3600, 3661.5, 2 * 86400 + 5):
        assert clock(seconds) == tqdm.format_interval(seconds)
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, nianbao.crawler.progress; print('tqdm' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
