"""The web app in a real Chromium (Playwright) over a database filled by a replica crawl
(``tests/webdata.py``): pages, filters, the diff of the revised report, the archived copy,
triage, a hostile title, the API against its OpenAPI document, and the exports in pandas and
Datasette. The server is the real app under uvicorn on a local port.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from sqlalchemy import create_engine, text

from nianbao.storage.exports import report_metric_keys
from nianbao.vocabulary.metrics import label
from nianbao.web.auth import hash_token
from tests.conftest import ROOT, require_tool
from tests.webdata import HOSTILE, NIANBAO, WebData, build

TOKEN = "correct horse battery staple"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> WebData:
    from tests.mockserver.proxy import ReplicaServer

    require_tool("chromium", "the crawler renders JS lists and the tests drive Chromium")
    require_tool("soffice", "the replicas render PDF and DOC attachments with LibreOffice")
    work = tmp_path_factory.mktemp("web")
    with ReplicaServer(cache_dir=work / "renderings") as server:
        assert server.wait_ready(), "the replica attachments did not render"
        return build(server, work / "data")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(data: WebData):
    import uvicorn

    from nianbao.storage.db import open_existing
    from nianbao.web.app import create_app

    engine = open_existing(data.db)
    conf = {**yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(
        encoding="utf-8"))["web"], "users": {"auditor": hash_token(TOKEN)}}
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine, data.archive, conf),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = require_tool("chromium", "the web app is tested in Chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()
    assert not dialogs, f"a script ran: {dialogs}"


def _query(data: WebData, sql: str, **params):
    engine = create_engine(data.db)
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    engine.dispose()
    return rows


def _rows(page, selector: str) -> int:
    return page.locator(f"{selector} tr").count() - 1  # the header row


# Hostile input first: later tests recompute the verdicts (and so the names they carry). -----

def test_a_hostile_title_is_text_on_every_page_and_in_every_export(page, base_url, data):
    [(issuer_id,)] = _query(data, "SELECT issuer_id FROM reports WHERE id = :r",
                            r=data.hostile_report_id)
    shown = (f"/compliance?issuer={HOSTILE[:8]}", "/reports", "/events",
             f"/reports/{data.hostile_report_id}", f"/issuers/{issuer_id}")
    for path in ("/", "/triage", "/stats", *shown):
        page.goto(base_url + path)
        assert page.locator("img[src=x]").count() == 0, path
        assert page.locator("script:not([src])").count() == 0, path
        if path in shown:
            assert HOSTILE in page.locator("body").inner_text(), path
    api = page.request.get(base_url + "/api/reports").json()["items"]
    assert HOSTILE + "年度报告" in {item["title"] for item in api}
    # exports: the exact text, and no spreadsheet formula at the start of a CSV cell
    long_csv = page.request.get(base_url + "/exports/long.csv").text()
    titles = {row["title"] for row in csv.DictReader(io.StringIO(long_csv.lstrip("\ufeff")))}
    assert HOSTILE + "年度报告" in titles
    jsonl = page.request.get(base_url + "/exports/long.jsonl").text()
    assert any(json.loads(line)["issuer"] == HOSTILE + "人民政府" for line in jsonl.splitlines())
    compliance_csv = page.request.get(
        base_url + f"/compliance?issuer={HOSTILE[:8]}&download=csv").text()
    issuers = [row["发布机关"] for row in csv.DictReader(io.StringIO(compliance_csv[1:]))]
    assert issuers and set(issuers) == {HOSTILE + "人民政府"}
    for fmt in ("csv", "jsonl"):
        body = page.request.get(base_url + f"/exports/wide.{fmt}?format=2021").text()
        assert HOSTILE.replace('"', '""' if fmt == "csv" else '\\"') in body, fmt


# Pages ----------------------------------------------------------------------------------

def test_every_page_renders_real_data(page, base_url, data):
    sites = _query(data, "SELECT id, name FROM sites ORDER BY id")
    reports = _query(data, "SELECT count(*) FROM reports")[0][0]
    verdicts = _query(data, "SELECT count(*) FROM verdicts")[0][0]
    assert sites and reports and verdicts
    page.goto(base_url + "/")
    assert _rows(page, "#sites") == len(sites)
    for _, name in sites:
        assert name in page.locator("#sites").inner_text()
    assert page.locator("svg").count() == 2
    page.goto(base_url + "/compliance?per_page=1000")
    assert _rows(page, "#verdicts") == verdicts
    page.goto(base_url + "/reports?per_page=1000")
    assert _rows(page, "#reports") == reports
    page.goto(base_url + f"/reports/{data.revised_report_id}")
    assert page.locator("#table-三").inner_text().count(str(data.after)) >= 1
    for heading in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                    "四、政府信息公开行政复议、行政诉讼情况"):
        assert heading in page.locator("main").inner_text()
    assert _rows(page, "#versions") == 2
    assert "本年新收申请" in page.locator("#figures").inner_text()
    assert "予以公开率" in page.locator("#rates").inner_text()
    [(issuer_id,)] = _query(data, "SELECT issuer_id FROM reports WHERE id = :r",
                            r=data.revised_report_id)
    page.goto(base_url + f"/issuers/{issuer_id}")
    assert page.locator("#chart svg").count() == 1 and _rows(page, "#years") >= 1
    events = _query(data, "SELECT count(*) FROM events")[0][0]
    page.goto(base_url + "/events?per_page=1000")
    assert page.locator("#timeline li").count() == events > 0
    # the national statistic: its counts add up to the stored verdicts of the newest year
    [(year, of_year)] = _query(data, "SELECT report_year, count(*) FROM verdicts GROUP BY "
                                     "report_year ORDER BY report_year DESC LIMIT 1")
    page.goto(base_url + "/stats")
    expected = [int(c) for c in page.locator("#stats tbody tr td:nth-child(3)").all_inner_texts()]
    assert sum(expected) == of_year and str(year) in page.locator("h1").inner_text()
    feed = page.request.get(base_url + f"/feeds/site/{sites[0][0]}.atom")
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    [(region,)] = _query(data, "SELECT region FROM sites WHERE region IS NOT NULL LIMIT 1")
    assert page.request.get(base_url + f"/feeds/region/{region}.atom").ok
    assert page.request.get(base_url + "/reports/999999").status == 404
    bad = page.request.get(base_url + "/compliance?year=abc")
    assert bad.status == 400 and "Traceback" not in bad.text()


def test_filters_change_the_table(page, base_url, data):
    page.goto(base_url + "/compliance?per_page=1000")
    everything = _rows(page, "#verdicts")
    statuses = [s for (s,) in _query(data, "SELECT DISTINCT status FROM verdicts")]
    status = min(statuses, key=lambda s: _query(
        data, "SELECT count(*) FROM verdicts WHERE status = :s", s=s)[0][0])
    page.select_option("select[name=status]", status)
    page.click("form.filters button")
    page.wait_for_load_state()
    expected = _query(data, "SELECT count(*) FROM verdicts WHERE status = :s", s=status)[0][0]
    assert _rows(page, "#verdicts") == expected < everything
    assert f"status={status}" in page.url
    # the CSV of the page is exactly what is shown
    shown = page.locator("#verdicts tr td:nth-child(2)").all_inner_texts()
    with page.expect_download() as download:
        page.click("#csv")
    with open(download.value.path(), encoding="utf-8-sig") as f:
        exported = [row["发布机关"] for row in csv.DictReader(f)]
    assert exported == shown
    [(site,)] = _query(data, "SELECT site_id FROM verdicts GROUP BY site_id ORDER BY count(*)"
                              " LIMIT 1")
    page.goto(base_url + f"/compliance?site={site}&per_page=1000")
    assert _rows(page, "#verdicts") == _query(
        data, "SELECT count(*) FROM verdicts WHERE site_id = :s", s=site)[0][0]


def test_the_diff_of_the_revised_report_shows_the_changed_figure_and_nothing_else(
        page, base_url, data):
    page.goto(base_url + f"/reports/{data.revised_report_id}")
    page.click("#diff-form button")
    page.wait_for_load_state()
    rows = page.locator("#figure-changes tr")
    assert rows.count() == 2  # header + one change
    cells = rows.nth(1).locator("td").all_inner_texts()
    assert cells == [label("requests.new.total"), "requests.new.total", str(data.before),
                     str(data.after)]


def test_the_archived_copy_opens_and_shows_the_captured_page(page, base_url, data):
    [(version_id, url)] = _query(
        data, "SELECT id, url FROM versions WHERE report_id = :r AND kind = 'revised'",
        r=data.revised_report_id)
    page.goto(base_url + f"/reports/{data.revised_report_id}")
    page.locator("#versions a", has_text="存档副本").last.click()
    page.wait_for_load_state()
    assert url in page.locator("#capture").inner_text()
    assert page.locator("#captured-at").inner_text().startswith("20")
    frame = page.frame_locator("iframe.archived")
    frame.locator("body").wait_for()
    captured = frame.locator("body").inner_text()
    assert str(data.after) in captured
    raw = page.request.get(base_url + f"/versions/{version_id}/archive/raw")
    assert raw.headers["content-security-policy"].startswith("sandbox")
    assert page.locator("iframe.archived").get_attribute("sandbox") == ""


def test_a_triage_mark_needs_sign_in_and_csrf_and_survives_recomputation(page, base_url, data):
    page.goto(base_url + "/compliance")
    assert page.locator("form.triage").count() == 0  # read-only until signed in
    refused = page.request.post(base_url + "/triage", form={
        "site_id": "x", "issuer": "x", "report_year": "2024", "status": "confirmed"})
    assert refused.status == 403
    page.goto(base_url + "/login?next=/compliance")
    page.fill("input[name=user]", "auditor")
    page.fill("input[name=token]", "wrong")
    page.click("main button")
    assert "不正确" in page.locator("main").inner_text()
    page.fill("input[name=user]", "auditor")
    page.fill("input[name=token]", TOKEN)
    page.click("main button")
    page.wait_for_url("**/compliance")
    forged = page.request.post(base_url + "/triage", form={
        "site_id": "x", "issuer": "x", "report_year": "2024", "status": "confirmed",
        "csrf": "forged"})
    assert forged.status == 403
    row = page.locator("#verdicts tr").nth(1)
    issuer = row.locator("td").nth(1).inner_text()
    site = row.locator("input[name=site_id]").get_attribute("value")
    row.locator("select[name=status]").select_option("excused")
    row.locator("input[name=note]").fill("已与该机关核实")
    row.locator("form.triage button").click()
    page.wait_for_load_state()
    assert "已豁免" in page.locator("#verdicts tr").nth(1).inner_text()
    env = {"NIANBAO_SETTINGS": str(data.settings), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*NIANBAO, "check", "--db", data.db, "--json"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    page.goto(base_url + "/compliance?" + urlencode({"issuer": issuer, "site": site}))
    row = page.locator("#verdicts tr", has_text=issuer).first
    assert "已豁免" in row.inner_text() and "已与该机关核实" in row.inner_text()
    exported = page.request.get(base_url + "/triage?download=csv").text()
    assert "excused" in exported and "已与该机关核实" in exported


def _sign_in(page, base_url: str, next_path: str) -> None:
    page.goto(base_url + "/login?next=" + next_path)
    page.fill("input[name=user]", "auditor")
    page.fill("input[name=token]", TOKEN)
    page.click("main button")
    page.wait_for_url("**" + next_path)


def test_a_failed_check_shows_its_numbers_and_takes_a_triage_mark(page, base_url, data):
    [(failed,)] = _query(data, "SELECT failed_checks FROM versions WHERE report_id = :r "
                               "ORDER BY id DESC LIMIT 1", r=data.revised_report_id)
    failed = json.loads(failed)
    assert failed  # the revision (51 → 52) breaks the balance of table 三
    _sign_in(page, base_url, f"/reports/{data.revised_report_id}")
    row = page.locator("#failed tr", has_text=failed[0]).first
    assert str(data.after) in row.inner_text()  # the numbers that break it
    row.locator("select[name=status]").select_option("dismissed")
    row.locator("input[name=note]").fill("修订所致")
    row.locator("button").click()
    page.wait_for_url(f"**/reports/{data.revised_report_id}")
    row = page.locator("#failed tr", has_text=failed[0]).first
    assert "已驳回" in row.inner_text() and "修订所致" in row.inner_text()
    exported = page.request.get(base_url + "/triage?download=csv").text()
    marks = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert {(m["target"], m["check_id"], m["status"]) for m in marks} >= {
        ("check", failed[0], "dismissed")}


def test_a_subscription_is_added_signed_in_and_its_feed_is_served(page, base_url, data):
    page.goto(base_url + "/subscriptions")
    assert page.locator("input[name=url]").count() == 0
    _sign_in(page, base_url, "/subscriptions")
    [(site,)] = _query(data, "SELECT site_id FROM events GROUP BY site_id ORDER BY count(*) "
                             "DESC LIMIT 1")
    secret = "json://127.0.0.1:9/hook?token=s3cret-not-shown"
    page.fill("input[name=name]", "报社")
    page.fill("input[name=url]", "not a url s3cret")
    page.click("form[action='/subscriptions'] button")
    refusal = page.locator(".error").inner_text()
    assert "s3cret" not in page.content() and "URL" in refusal and "****" in refusal
    page.fill("input[name=name]", "报社")
    page.fill("input[name=url]", secret)
    page.fill("input[name=sites]", site)
    page.click("form[action='/subscriptions'] button")
    page.wait_for_url("**/subscriptions")
    assert "报社" in page.locator("#subscriptions").inner_text()
    assert "s3cret" not in page.content()
    href = page.locator("#subscriptions tr", has_text="报社").locator("a").get_attribute("href")
    feed = page.request.get(base_url + href).text()
    assert "<feed" in feed and "s3cret" not in feed
    events = _query(data, "SELECT count(*) FROM events WHERE site_id = :s", s=site)[0][0]
    assert feed.count("<entry>") == min(events, 200) > 0


# API -------------------------------------------------------------------------------------

def test_the_openapi_document_validates_and_every_route_answers(page, base_url, data):
    from openapi_spec_validator import validate

    document = page.request.get(base_url + "/api/openapi.json").json()
    validate(document)
    assert len(document["paths"]) >= 7
    for path, item in document["paths"].items():
        concrete = path.replace("{report_id}", str(data.revised_report_id))
        answer = page.request.get(base_url + concrete + ("?per_page=2" if "{" not in path
                                                         else ""))
        assert answer.status == 200, path
        body = answer.json()
        schema = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        for field in schema.get("required", []):
            assert field in body, (path, field)
        if "items" in body:
            assert body["items"], path
            name = schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]
            for field in document["components"]["schemas"][name]["required"]:
                assert field in body["items"][0], (path, field)
    listed = page.request.get(base_url + "/api/verdicts?per_page=3&page=2").json()
    assert listed["page"] == 2 and len(listed["items"]) <= 3
    assert page.request.get(base_url + "/api/verdicts?per_page=999999").status == 400


# Exports and the database in Datasette ----------------------------------------------------

def _expected_long_rows(data: WebData) -> int:
    rows = _query(data, "SELECT v.record FROM versions v WHERE v.id IN "
                        "(SELECT max(id) FROM versions GROUP BY report_id)")
    return sum(len(report_metric_keys(json.loads(record))) for (record,) in rows)


def test_the_long_export_has_reports_times_metrics_rows_and_loads_in_pandas(tmp_path, data):
    import pandas

    expected = _expected_long_rows(data)
    env = {"NIANBAO_SETTINGS": str(data.settings), "PATH": "/usr/bin:/bin"}
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"long.{fmt}"
        done = subprocess.run([*NIANBAO, "export", "long", "--to", fmt, "-o", str(out),
                               "--db", data.db], env=env, capture_output=True, text=True,
                              timeout=300, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        frame = {"csv": pandas.read_csv, "parquet": pandas.read_parquet,
                 "jsonl": lambda p: pandas.read_json(p, lines=True)}[fmt](out)
        assert len(frame) == expected, fmt
        revised = frame[(frame.report_id == data.revised_report_id)
                        & (frame.metric == "requests.new.total")]
        assert revised.value.tolist() == [data.after]
        assert revised.row_label.tolist() == ["一、本年新收政府信息公开申请数量"]
        assert revised.column_label.tolist() == ["总计"]
    reports = _query(data, "SELECT count(*) FROM versions v WHERE v.format = '2021' AND v.id IN"
                           " (SELECT max(id) FROM versions GROUP BY report_id)")[0][0]
    out = tmp_path / "wide.parquet"
    subprocess.run([*NIANBAO, "export", "wide", "--to", "parquet", "-o", str(out), "--db",
                    data.db], env=env, check=True, timeout=300, cwd=ROOT)
    wide = pandas.read_parquet(out)
    assert len(wide) == reports and "requests.withheld.state_secret.natural" in wide.columns


def test_the_database_is_readable_in_datasette_with_labels_and_utf8_json(data):
    from datasette.app import Datasette

    path = data.db.removeprefix("sqlite:///")
    metadata = yaml.safe_load((ROOT / "datasette" / "metadata.yaml").read_text(
        encoding="utf-8"))
    assert _query(data, "SELECT count(*) FROM versions WHERE record LIKE '%晋城%'")[0][0] > 0
    assert _query(data, "SELECT count(*) FROM versions WHERE record LIKE '%\\u%'")[0][0] == 0

    async def read() -> dict:
        ds = Datasette([path], metadata=metadata, immutables=[])
        name = Path(path).stem
        out = {}
        response = await ds.client.get(f"/{name}/report_metrics.json?_shape=array&_size=5"
                                       "&metric=requests.new.total")
        out["metrics"] = response.json()
        for query in metadata["databases"]["nianbao"]["queries"]:
            response = await ds.client.get(f"/{name}/{query}.json?_shape=array")
            out[query] = (response.status_code, response.json())
        return out

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's loop
        found = pool.submit(asyncio.run, read()).result()
    assert found["metrics"]
    assert found["metrics"][0]["row_label"] == "一、本年新收政府信息公开申请数量"
    for query in metadata["databases"]["nianbao"]["queries"]:
        assert found[query][0] == 200, (query, found[query])


def test_the_long_export_loads_in_datasette(tmp_path, data):
    import sqlite3

    import pandas
    from datasette.app import Datasette

    env = {"NIANBAO_SETTINGS": str(data.settings), "PATH": "/usr/bin:/bin"}
    subprocess.run([*NIANBAO, "export", "long", "--to", "csv", "-o", str(tmp_path / "l.csv"),
                    "--db", data.db], env=env, check=True, timeout=300, cwd=ROOT)
    with sqlite3.connect(tmp_path / "long.db") as conn:
        pandas.read_csv(tmp_path / "l.csv").to_sql("long", conn, index=False)

    async def count() -> int:
        ds = Datasette([str(tmp_path / "long.db")])
        answer = await ds.client.get("/long.json?sql=select+count(*)+as+n+from+long"
                                     "&_shape=array")
        return answer.json()[0]["n"]

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, count()).result() == _expected_long_rows(data)


def test_nianbao_help_stays_fast_with_the_web_commands():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "nianbao.commands.cli",
                           "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0
    for heavy in ("starlette", "uvicorn", "pyarrow", "jinja2"):
        assert f" {heavy}" not in done.stderr, heavy
