"""The web app's queries, the ``report_metrics`` view and the exports on both backends
(SQLite and the real PostgreSQL), over a few rows stored through the models."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from nianbao.storage.db import connect, migrate
from nianbao.storage.models import Issuer, Report, Site, VerdictRow, Version
from nianbao.vocabulary.metrics import metric_keys
from nianbao.web.app import create_app

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _fill(engine) -> int:
    metrics = dict.fromkeys(metric_keys("2021"), 0) | {"requests.new.total": 51}
    record = {"format": "2021", "issuer": "晋城市城区人民政府", "report_year": 2023,
              "metrics": metrics, "checks": [], "sections": {"overview": "本年度…"}}
    with Session(engine) as session, session.begin():
        session.add(Site(id="jccq", name="晋城市城区人民政府", region="140502", config={}))
        session.flush()
        issuer = Issuer(name="晋城市城区人民政府", site_id="jccq", kind="government")
        session.add(issuer)
        session.flush()
        report = Report(issuer_id=issuer.id, report_year=2023)
        session.add(report)
        session.flush()
        version = Version(report_id=report.id, url="http://xxgk.jccq.gov.cn/a.shtml",
                          content_hash="c", payload_digest="p", first_seen=NOW, last_seen=NOW,
                          published_date=date(2024, 3, 27), date_evidence=[], record=record,
                          checks=[], format="2021", title="晋城市城区人民政府2023年年度报告",
                          kind="new", changes=[], key_figures={"requests.new.total": 51})
        session.add(version)
        session.flush()
        session.add(VerdictRow(site_id="jccq", issuer_id=issuer.id, issuer=issuer.name,
                               issuer_key="晋城市城区", kind="government", report_year=2023,
                               status="on_time", deadline=date(2024, 3, 31),
                               published_date=date(2024, 3, 27), evidence="meta:PubDate",
                               version_id=version.id, url=version.url, as_of=date(2026, 3, 1)))
        return report.id


def test_pages_api_view_and_exports_on_both_backends(db_url: str, tmp_path: Path) -> None:
    engine = connect(db_url)
    migrate(engine)
    report_id = _fill(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT metric, value, row_label, column_label FROM "
                                 "report_metrics WHERE metric = 'requests.new.total'")).all()
        labels = conn.execute(text("SELECT count(*) FROM metric_labels")).scalar()
    assert [(m, float(v), r, c) for m, v, r, c in rows] == [
        ("requests.new.total", 51.0, "一、本年新收政府信息公开申请数量", "总计")]
    assert labels >= len(metric_keys("2021"))
    client = TestClient(create_app(engine, tmp_path, {}))
    for path in ("/", "/compliance?status=on_time&region=140502&kind=government&year=2023",
                 f"/reports/{report_id}", "/reports?format=2021", "/events", "/triage"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "晋城市城区人民政府" in answer.text or path in ("/events", "/triage"), path
    verdicts = client.get("/api/verdicts?status=on_time").json()
    assert verdicts["total"] == 1 and verdicts["items"][0]["evidence"] == "meta:PubDate"
    assert client.get("/api/verdicts?status=late").json()["total"] == 0
    metrics = client.get("/api/metrics").json()["items"]
    assert len(metrics) == len(metric_keys("2021"))
    exported = client.get("/exports/long.csv").content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == len(metric_keys("2021"))
    assert {r["metric"]: r["value"] for r in rows}["requests.new.total"] == "51"
    engine.dispose()


def test_the_csv_of_all_rows_streams_the_same_rows_as_the_pages(db_url: str,
                                                                tmp_path: Path) -> None:
    from nianbao.web import queries
    from nianbao.web.filters import Filters, Page

    engine = connect(db_url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        for site in ("b", "a"):
            session.add(Site(id=site, name=f"站点{site}", region="140502", config={}))
        session.flush()
        for n in range(11):
            session.add(VerdictRow(site_id="ab"[n % 2], issuer=f"机关{n}", issuer_key=f"k{n}",
                                   kind="department", report_year=2023 + n % 2,
                                   status="missing" if n % 3 else "late", position=n // 2,
                                   deadline=date(2024, 3, 31), evidence="no-report",
                                   as_of=date(2026, 3, 1)))
    with Session(engine) as session:
        for filters in (Filters(), Filters(status="missing"), Filters(year=2024, region="140502")):
            streamed = [r["id"] for r in queries.iter_verdicts(session, filters, chunk=3)]
            paged = [r["id"] for page in (1, 2, 3, 4) for r in queries.verdicts(
                session, filters, Page(page, 3))]
            assert streamed == paged == [r["id"] for r in queries.verdicts(session, filters,
                                                                           None)]
            assert len(streamed) == queries.count_verdicts(session, filters) > 0
    client = TestClient(create_app(engine, tmp_path, {}))
    everything = client.get("/compliance?all=1&download=csv").text
    assert len(everything.splitlines()) == 12  # header + 11
    engine.dispose()


def test_nianbao_serve_starts_the_app_and_refuses_a_missing_database(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import ROOT

    db = f"sqlite:///{tmp_path / 'n.sqlite'}"
    engine = connect(db)
    migrate(engine)
    _fill(engine)
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = [sys.executable, "-m", "nianbao.commands.cli", "serve"]
    missing = subprocess.run([*cli, "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert missing.returncode == 2 and "no database" in missing.stderr
    assert "Traceback" not in missing.stderr
    server = subprocess.Popen([*cli, "--db", db, "--archive", str(tmp_path), "--port",
                               str(port)], cwd=ROOT, env=os.environ.copy(),
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/compliance",
                                            timeout=5) as answer:
                    body = answer.read().decode("utf-8")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.2)
        assert "晋城市城区人民政府" in body
    finally:
        server.terminate()
        server.wait(20)


def test_the_statistic_page_counts_what_its_links_list(db_url: str, tmp_path: Path) -> None:
    """Each count of /stats is a link to the compliance table of exactly the verdicts it counts:
    a province code selects its prefectures and counties, a level keeps one of them."""
    engine = connect(db_url)
    migrate(engine)
    places = {"jccq": "140502", "jincheng": "140500", "shanxi": "140000", "hz": "330100"}
    statuses = {"jccq": ["on_time", "late", "missing"], "jincheng": ["late"],
                "shanxi": ["unobserved"], "hz": ["on_time", "on_time"]}
    with Session(engine) as session, session.begin():
        for site_id, region in places.items():
            session.add(Site(id=site_id, name=site_id, region=region, config={}))
        session.flush()
        for site_id, found in statuses.items():
            for n, status in enumerate(found):
                session.add(VerdictRow(
                    site_id=site_id, issuer=f"{site_id}-{n}", issuer_key=f"{site_id}-{n}",
                    kind="department", report_year=2023, status=status,
                    deadline=date(2024, 1, 31), days_late=5 if status == "late" else None,
                    position=n, evidence="meta:PubDate" if status in ("on_time", "late") else "",
                    as_of=date(2026, 3, 1)))
    client = TestClient(create_app(engine, tmp_path, {}))
    page = client.get("/stats")
    assert page.status_code == 200 and "2023" in page.text
    table = list(csv.reader(io.StringIO(client.get("/stats?year=2023&download=csv")
                                        .content.decode("utf-8-sig"))))
    header, rows = table[0], [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert header[:5] == ["province", "province_name", "level", "expected", "observed"]
    by_place = {(r["province"], r["level"]): r for r in rows}
    assert set(by_place) == {("140000", "province"), ("140000", "prefecture"),
                             ("140000", "county"), ("330000", "prefecture")}
    assert by_place[("140000", "county")]["late"] == "1"
    assert by_place[("330000", "prefecture")]["on_time"] == "2"
    for (province, level), row in by_place.items():
        for status in ("on_time", "late", "missing", "unobserved"):
            listed = client.get(f"/api/verdicts?year=2023&region={province}&level={level}"
                                f"&status={status}").json()
            assert listed["total"] == int(row[status]), (province, level, status)
            assert f'href="/compliance?year=2023&amp;region={province}&amp;level={level}' \
                in page.text
    assert client.get("/api/verdicts?level=city").status_code == 400
    engine.dispose()
