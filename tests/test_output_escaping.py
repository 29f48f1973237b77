"""What a hostile report can write: each medium gets its text escaped (``nianbao/escaping.py``).

A report's issuer is text from a page anyone can write; here it carries terminal escape
sequences, XML-invalid control bytes, HTML and a spreadsheet formula, and goes through the
real writers: the Atom feed, ``reports`` (table and CSV), ``check`` (table and CSV), the
``parse`` summary and an e-mail alert received by a local SMTP server.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

from lxml import etree
from sqlalchemy import Engine

from nianbao.checks.compliance import Verdict
from nianbao.commands.check import print_verdicts
from nianbao.escaping import csv_cell, terminal, xml_text
from nianbao.notify.alerts import deliver_pending
from nianbao.notify.events import record_run_events
from nianbao.notify.feeds import site_feed
from nianbao.notify.subscriptions import add_subscription
from nianbao.storage.db import connect, migrate
from nianbao.storage.store import Store
from tests.conftest import FIXTURES, ROOT
from tests.test_alerts import (  # noqa: F401  (fixtures)
    ATOM,
    QUWO,
    QUWO_URL,
    Mailbox,
    crawl,
    engine,
    now,
    record,
    smtp,
)

NIANBAO = [sys.executable, "-m", "nianbao.commands.cli"]
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\x9b1m\u202e"
HOSTILE = f"=HYPERLINK(\"http://evil.example/\",\"曲沃县\")<script>alert(1)</script>{ESCAPES}\x0c"


def hostile_run(database: Engine) -> int:
    rec = record(QUWO)
    rec["issuer"] = HOSTILE
    return crawl(Store(database), [("quwo", QUWO_URL, rec, 1)])


def test_the_medium_rules() -> None:
    assert terminal("a\x1b[2Jb\nc") == "a\\x1b[2Jb\\x0ac"
    assert terminal("a\x1bb\nc", multiline=True) == "a\\x1bb\nc"
    assert terminal("\u202egnp.exe") == "\\u202egnp.exe"
    assert [csv_cell(v) for v in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", -3)] == [
        "'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok", -3]
    assert xml_text("a\x00\x1b\x0cb\ud800\ufffe") == "ab"


def test_a_hostile_issuer_does_not_break_the_atom_feed(engine: Engine) -> None:  # noqa: F811
    record_run_events(engine, hostile_run(engine))
    feed = etree.fromstring(site_feed(engine, "quwo"))
    titles = [t.text for t in feed.iter(f"{ATOM}title")]
    assert any("<script>" in t and "\x1b" not in t for t in titles), titles


def stored_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'nianbao.sqlite'}"
    database = connect(url)
    migrate(database)
    Store(database).upsert_site("quwo", "曲沃县人民政府", "141021", {"columns": []}, [])
    hostile_run(database)
    database.dispose()
    return url


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NIANBAO, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def test_reports_table_and_csv(tmp_path: Path) -> None:
    db = stored_db(tmp_path)
    table = cli("reports", "--db", db)
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "\x9b" not in table.stdout and "\u202e" not in table.stdout
    assert "\\x1b]0;owned\\x07" in table.stdout
    done = cli("reports", "--db", db, "--csv")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows[0]["issuer"].startswith("'=HYPERLINK(")
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for row in rows for cell in row.values())


def test_check_table_and_csv(capsys) -> None:
    verdict = Verdict(site_id="quwo", issuer_id=1, issuer=HOSTILE, kind="government",
                      report_year=2023, status="missing", deadline=date(2024, 1, 31),
                      grace_days=0, published_date=None, evidence="no-report", days_late=None,
                      url="-cmd|' /C calc'!A0", observation=f"column read{ESCAPES}")
    print_verdicts([verdict], "csv", date(2024, 3, 1))
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["issuer"].startswith("'=") and rows[0]["url"].startswith("'-")
    print_verdicts([verdict], "table", date(2024, 3, 1))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b" in out


def test_parse_summary_and_its_errors(tmp_path: Path) -> None:
    seed = next((FIXTURES / "seeds").glob("002_*.txt"))
    hostile = tmp_path / f"report{ESCAPES}.txt"
    hostile.write_bytes(seed.read_bytes())
    empty = tmp_path / f"empty{ESCAPES}.txt"
    empty.write_bytes(b"")
    done = cli("parse", str(hostile), str(empty))
    assert "曲沃县人民政府" in done.stdout
    for stream in (done.stdout, done.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "\\x1b]0;owned" in done.stdout and "\\x1b]0;owned" in done.stderr


def test_an_email_alert_escapes_html_and_keeps_the_subject_one_line(
        engine: Engine, smtp: tuple[Mailbox, str]) -> None:  # noqa: F811 (fixtures)
    box, url = smtp
    add_subscription(engine, "mail", url, kinds=["new_report"], baseline="each")
    record_run_events(engine, hostile_run(engine))
    assert deliver_pending(engine, now())["sent"] == 1
    [message] = box.messages
    subject = str(message["Subject"])
    assert not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in subject), subject
    for part in message.walk():  # an HTML part, if the channel makes one, is escaped
        if part.get_content_type() == "text/html":
            assert "<script>" not in part.get_content()
    body = message.get_body(("plain", "html")).get_content()
    assert "alert(1)" in body  # the issuer is still there, as text
    assert "\x1b" not in body and "\x07" not in body and "\u202e" not in body
