"""The listings read through the bare driver print what the SQLAlchemy paths print, byte for
byte, on SQLite and PostgreSQL: ``reports --csv`` (cross-year failures, revisions, cells a
spreadsheet would take for formulas, cells that need quotes) and ``check`` after the day's
evaluation; and ``open_bare`` leaves every database it cannot open exactly as the ordinary
path would to that path.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from nianbao.commands.cli import main
from nianbao.commands.reports import _print_reports
from nianbao.storage.bare import Bare, open_bare
from nianbao.storage.db import connect, migrate
from nianbao.storage.report_rows import (
    _figures,
    _skeleton,
    _stored_figures,
    _when,
    report_lines,
)
from nianbao.storage.store import Store, record_extracts
from nianbao.storage.summaries import report_summaries
from nianbao.vocabulary.figures import KEY_FIGURES
from tests.conftest import require_postgresql
from tests.test_storage import URL, record, store_doc, year_before


@pytest.fixture
def archive(db_url: str) -> str:
    """Reports with what the CSV must render as the summaries do: three years with failed
    cross-year identities, a revision, an issuer and a URL with a comma and quotes, and an
    issuer whose name a spreadsheet would take for a formula."""
    engine = connect(db_url)
    migrate(engine)
    store = Store(engine)
    for site_id, name in (("jccq", "晋城市城区人民政府"), ("quwo", "曲沃县人民政府")):
        store.upsert_site(site_id, name, "山西", {"columns": []}, [])
    current = record()
    store_doc(store, current)
    store_doc(store, year_before(current), url=f"{URL}?2022")
    later = record(report_year=2024)
    later["metrics"]["requests.carried_over.total"] = 999_999
    store_doc(store, later, url=f"{URL}?2024")
    revised = record(report_year=2024)
    revised["metrics"]["requests.carried_over.total"] = 1
    store_doc(store, revised, url=f"{URL}?2024")  # a second version of 2024
    store_doc(store, record(issuer='=曲沃县"人民",政府', report_year=2023), site="quwo",
              url="http://www.quwo.gov.cn/a,b.html?x=\"1\"")
    store_doc(store, record(issuer="-曲沃县应急管理局", report_year=2022), site="quwo",
              url="http://www.quwo.gov.cn/em.html")
    engine.dispose()
    return db_url


def _summaries_csv(url: str, site: str | None, year: int | None,
                   capsys: pytest.CaptureFixture[str]) -> str:
    engine = connect(url)
    args = argparse.Namespace(json=False, csv=True)
    with Session(engine) as session:
        _print_reports(report_summaries(session, site, year, warc=False), args)
    engine.dispose()
    return capsys.readouterr().out


@pytest.mark.parametrize(("site", "year"), [(None, None), ("quwo", None), (None, 2024),
                                            ("jccq", 2023)])
def test_reports_csv_through_the_driver_is_the_summaries_csv(
        archive: str, site: str | None, year: int | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    expected = _summaries_csv(archive, site, year, capsys)
    bare = open_bare(archive)
    assert bare is not None
    header = expected.split("\r\n", 1)[0] + "\r\n"
    assert header + b"".join(report_lines(bare, site, year)).decode() == expected
    extra = [*(["--site", site] if site else []), *(["--year", str(year)] if year else [])]
    assert main(["reports", "--csv", "--db", archive, *extra]) == 0
    assert capsys.readouterr().out == expected
    if site is None and year is None:  # what the archive was built to show
        assert "cross_year.carry" in expected and "'=曲沃县" in expected
        assert '"\'=曲沃县""人民"",政府"' in expected and "'-曲沃县" in expected
        assert ",2," in expected  # the revised report's two versions


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_reports_csv_with_a_libpq_older_than_17_is_the_same_csv(
        archive: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL sends rows in chunks only through libpq 17 or later; a psycopg built against
    an older libpq (the system's) streams them one at a time. Only the version is feigned:
    the rows come from the real server, one at a time."""
    import psycopg

    expected = _summaries_csv(archive, None, None, capsys)
    monkeypatch.setattr(psycopg.pq, "version", lambda: 160004)
    assert main(["reports", "--csv", "--db", archive]) == 0
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("encoding", [None, "gb18030"])
def test_reports_csv_to_a_stream_of_text_or_another_encoding_writes_the_same_text(
        archive: str, encoding: str | None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where stdout takes no UTF-8 bytes (a text-only stream, another encoding), the lines go
    out as text: what the stream holds is the CSV the UTF-8 stdout got, as that stream keeps
    it."""
    assert main(["reports", "--csv", "--db", archive]) == 0
    expected = capsys.readouterr().out
    stream = io.StringIO() if encoding is None else io.TextIOWrapper(io.BytesIO(), encoding)
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["reports", "--csv", "--db", archive]) == 0
    stream.flush()
    if encoding is None:
        assert stream.getvalue() == expected
    else:
        assert stream.buffer.getvalue() == expected.encode(encoding)
    assert "晋城市城区人民政府" in expected


@pytest.mark.parametrize("stored", ["2026-10-01 08:14:00.000000", "2026-10-01 08:14:00.123456",
                                    "2026-10-01 08:14:00", "2026-10-01 08:14:00.12345",
                                    "2026-10-01 08:14:00.5"])
def test_a_first_sighting_reads_as_the_summaries_datetime(stored: str) -> None:
    """Each form the listing reads a UTC time in (SQLite's six digits, PostgreSQL's text with
    the fraction's trailing zeros dropped) gives the cell ``str()`` of the datetime gives."""
    expected = str(datetime.fromisoformat(stored).replace(tzinfo=UTC))
    assert _when(stored.encode()) == expected.encode()


def _every_key(*values: object) -> dict[str, object]:
    return dict(zip(KEY_FIGURES, values * len(KEY_FIGURES), strict=False))


FIGURES = [
    _every_key(335, 4, 0, -7, 12_345_678_901),
    _every_key(None, 1),
    _every_key(None),
    _every_key(1.5, 2),  # a float
    _every_key('=1,"2": null', 3),  # a string holding the punctuation
    {**_every_key(1), "another.key": 2},
    dict(reversed(_every_key(1, 2).items())),
    {"requests.new.total": 1},
    {},
]


def _cell(text: bytes) -> bytes:
    """The cell as the summaries make it: ``k=v`` of the decoded values, in the text's order."""
    return " ".join(f"{k}={v}" for k, v in orjson.loads(text).items()).encode()


@pytest.mark.parametrize("figures", FIGURES)
@pytest.mark.parametrize("dumps", [orjson.dumps, lambda v: json.dumps(v).encode()])
def test_a_key_figures_cell_prints_each_value_as_decoded(figures: dict, dumps) -> None:
    """The cell made from a text SQLite holds (the store's own form translated, any other
    decoded) is the summaries' whatever the text holds."""
    stored = _stored_figures(Bare(None, "sqlite"))
    assert _figures(dumps(figures), stored) == _cell(dumps(figures))


def test_a_key_figures_cell_from_postgresql_prints_each_value_as_decoded() -> None:
    """The same of the texts PostgreSQL's jsonb gives (its own key order and spacing), read
    from the real server."""
    connection = require_postgresql()

    def jsonb_text(figures: dict) -> bytes:
        [(text,)] = connection.execute("SELECT %s::jsonb::text",
                                       [orjson.dumps(figures).decode()]).fetchall()
        return text.encode()

    try:
        stored = _stored_figures(Bare(connection, "postgresql"))
        for figures in FIGURES:
            text = jsonb_text(figures)
            assert _figures(text, stored) == _cell(text), text
        own = jsonb_text(record_extracts(record())["key_figures"])
        assert _skeleton(own) == stored  # the store's own: read without decoding
        assert _figures(own, stored) == _cell(own)
    finally:
        connection.close()


def test_the_key_figures_the_store_writes_are_read_without_decoding() -> None:
    stored = orjson.dumps(record_extracts(record())["key_figures"])
    assert _skeleton(stored) == _stored_figures(Bare(None, "sqlite"))
    assert _figures(None, b"") == _figures(b"", b"") == b""


SITES = """
sites:
  - id: jccq
    name: 晋城市城区人民政府
    domains: [jccq.gov.cn]
    columns: [{url: "http://xxgk.jccq.gov.cn/qzf/qzfb/zfxxgknb/"}]
    issuers:
      - {name: 晋城市城区人民政府, kind: government}
  - id: quwo
    name: 曲沃县人民政府
    domains: [quwo.gov.cn]
    columns: [{url: "http://www.quwo.gov.cn/zfxxgk/"}]
"""


def test_check_listed_through_the_driver_prints_what_judging_printed(
        archive: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    printed = {}
    for run in ("judged", "listed"):
        for form in ("--json", "--csv"):
            assert main(["check", form, "--sites", str(sites), "--db", archive]) == 0
            printed[run, form] = capsys.readouterr().out
    for form in ("--json", "--csv"):
        assert printed["judged", form] == printed["listed", form]
        assert "晋城市城区人民政府" in printed["listed", form]


def test_the_listings_import_no_sqlalchemy(archive: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    assert main(["check", "--json", "--sites", str(sites), "--db", archive]) == 0  # stamps
    code = (
        "import sys\n"
        "from nianbao.commands.cli import main\n"
        f"for command in (['reports', '--csv'], ['check', '--json', '--sites', {str(sites)!r}],"
        f" ['check', '--csv', '--sites', {str(sites)!r}]):\n"
        f"    assert main([*command, '--db', {archive!r}]) == 0\n"
        "print('sqlalchemy' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stderr.strip() == "False", done.stderr


def test_open_bare_leaves_to_the_ordinary_path_what_it_cannot_open(archive: str,
                                                                   tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    assert open_bare(f"sqlite:///{missing}") is None and not missing.exists()
    assert open_bare("sqlite://") is None  # in memory: nothing stored
    assert open_bare("mysql://localhost/nianbao") is None
    other = tmp_path / "other.sqlite"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE notes (x INTEGER)").connection.close()
    assert open_bare(f"sqlite:///{other}") is None  # not nianbao's
    engine = connect(archive)
    with engine.begin() as connection:  # an older schema: the ordinary path migrates it
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(text("UPDATE alembic_version SET version_num = '0006_web'"))
    engine.dispose()
    assert open_bare(archive) is None
    engine = connect(archive)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    engine.dispose()
    bare = open_bare(archive)
    assert bare is not None
    bare.close()


def test_reports_failures_lists_own_and_cross_year_failures(
        archive: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Both listings of ``--failures`` in one session (on PostgreSQL the second was once sent
    as a server-side cursor, ``SET LOCAL`` and all: a syntax error)."""
    assert main(["reports", "--failures", "--json", "--db", archive]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    checks = {(row["report_year"], row["check"]) for row in rows}
    assert (2024, "cross_year.carry") in checks and (2023, "cross_year.carry") not in checks
    assert main(["reports", "--failures", "--csv", "--db", archive]) == 0
    out = capsys.readouterr().out
    assert out.count("\r\n") == len(rows) + 1 and "Traceback" not in out
