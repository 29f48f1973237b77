"""The commands around verdicts on real databases: read-only commands never create a database,
``check --csv`` carries the ``--json`` fields, ``reports --failures`` shows the numbers that
break an identity, and ``nianbao run`` offline exits 0 with nothing called missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from nianbao.commands.check import FIELDS
from nianbao.commands.cli import main
from nianbao.settings import PROJECT_ROOT, archive_dir
from nianbao.storage.db import connect, migrate
from nianbao.storage.store import Store
from tests.conftest import POSTGRES_URL, ROOT, require_postgresql
from tests.test_alerts import QUWO, QUWO_URL, record, store_doc
from tests.test_crawl import NIANBAO

SITES = """
sites:
  - id: quwo
    name: 曲沃县人民政府
    region: "141021"
    domains: [quwo.gov.cn]
    columns: [{url: "http://www.quwo.gov.cn/zfxxgk/xxgkzl/zfxxgknb/"}]
    issuers:
      - {name: 曲沃县人民政府, kind: government}
      - {name: 曲沃县人民政府办公室, kind: office}
"""


@pytest.mark.parametrize("command", [
    ["check"], ["check", "--json"], ["reports"], ["reports", "--csv"], ["reports", "--failures"],
    ["feed", "--site", "quwo"],
])
def test_read_only_commands_refuse_a_missing_database_and_create_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    missing = tmp_path / "nowhere" / "nianbao.sqlite"
    extra = ["--sites", str(sites)] if command[0] == "check" else []
    assert main([*command, *extra, "--db", f"sqlite:///{missing}"]) == 2
    err = capsys.readouterr()
    assert f"no database at {missing}" in err.err and err.out == ""
    assert not missing.parent.exists()


def test_read_only_commands_refuse_a_database_that_is_not_nianbaos(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.sqlite"
    engine = create_engine(f"sqlite:///{other}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (x INTEGER)"))
    engine.dispose()
    assert main(["reports", "--db", f"sqlite:///{other}"]) == 2
    assert "is not a nianbao database" in capsys.readouterr().err


def test_a_postgresql_database_that_does_not_exist_is_an_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    require_postgresql().close()
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/nianbao_no_such_database"
    assert main(["reports", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "cannot open the database" in err and "nianbao_no_such_database" in err
    assert "Traceback" not in err


def test_settings_paths_are_the_project_roots() -> None:
    assert archive_dir() == PROJECT_ROOT / "data" / "archive"


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, Path]:
    """A database with Quwo's report and a revision whose table no longer balances."""
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = connect(db)
    migrate(engine)
    store = Store(engine)
    store.upsert_site("quwo", "曲沃县人民政府", "141021", {}, [])
    run_id = store.start_run(["quwo"])
    store_doc(store, run_id, "quwo", QUWO_URL, record(QUWO), 1)
    store_doc(store, run_id, "quwo", QUWO_URL, record(QUWO, revised=True), 2)
    store.finish_run(run_id, "finished", {}, 0)
    engine.dispose()
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    return db, sites


def test_reports_failures_show_the_numbers_and_what_the_identity_says(
        stored: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = stored
    assert main(["reports", "--failures", "--json", "--db", db]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [row] = [r for r in rows if r["check"] == "requests.row_total.new"]
    assert row["label"] == "总计 = 六类申请人之和（本年新收政府信息公开申请数量）"
    assert "≠" in row["detail"] and "20" in row["detail"], row
    assert (row["site"], row["issuer"], row["report_year"]) == ("quwo", "曲沃县人民政府", 2023)
    assert main(["reports", "--failures", "--db", db]) == 0
    shown = capsys.readouterr().out
    label = "总计 = 六类申请人之和（本年新收政府信息公开申请数量）"
    assert f"requests.row_total.new [error] {label}: {row['detail']}" in shown
    assert shown.rstrip().endswith(f"{len(rows)} failed identit{'y' if len(rows) == 1 else 'ies'}")


def test_check_of_today_prints_the_same_bytes_judged_and_listed(
        stored: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """As of today the first `check` judges and stores, stamping the table; the next ones list
    the stored verdicts (nothing changed) and print exactly what judging prints, in both
    forms."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import text

    from nianbao.checks.compliance import evaluate
    from nianbao.commands.check import print_verdicts
    from nianbao.settings import settings
    from nianbao.sites import load_sites

    db, sites = stored
    printed = {}
    for run in ("first", "listed"):
        for fmt in ("--json", "--csv"):
            assert main(["check", fmt, "--sites", str(sites), "--db", db]) == 0
            printed[run, fmt] = capsys.readouterr().out
    engine = connect(db)
    with engine.connect() as connection:  # what the listing rests on
        assert connection.execute(text("SELECT count(*) FROM verdict_stamps")).scalar() == 1
    today = datetime.now(ZoneInfo(settings()["schedule"]["timezone"])).date()
    for fmt in ("json", "csv"):  # judged again here, not stored
        print_verdicts(evaluate(engine, load_sites(sites), today), fmt, today)
        judged = capsys.readouterr().out
        assert printed["first", f"--{fmt}"] == printed["listed", f"--{fmt}"] == judged
    engine.dispose()
    rows = [json.loads(line) for line in printed["listed", "--json"].splitlines()]
    assert {r["issuer"] for r in rows} == {"曲沃县人民政府", "曲沃县人民政府办公室"}


def test_check_csv_has_the_json_fields(stored: tuple[str, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    db, sites = stored
    common = ["--sites", str(sites), "--db", db, "--as-of", "2024-06-01"]
    assert main(["check", "--json", *common]) == 0
    as_json = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["check", "--csv", *common]) == 0
    as_csv = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(as_json[0]) == list(FIELDS) == list(as_csv[0])
    for j, c in zip(as_json, as_csv, strict=True):
        for key, value in j.items():
            expected = "; ".join(value) if isinstance(value, list) else (
                "" if value is None else str(value))
            assert c[key] == expected, key
    statuses = {r["issuer"]: r["status"] for r in as_json}
    # published 2024-01-25 (its meta date), no observation of the office's absence
    assert statuses == {"曲沃县人民政府": "on_time", "曲沃县人民政府办公室": "unobserved"}
    assert all(r["observation"] for r in as_json)


def test_run_offline_exits_0_and_calls_nothing_missing(tmp_path: Path) -> None:
    """Portals that do not resolve (as every portal does on a machine without internet): the
    job runs to its end, every failure recorded, and no report is called missing."""
    sites = tmp_path / "sites.yaml"
    data = yaml.safe_load(SITES)
    data["sites"][0].update(domains=["nianbao-offline.invalid"], columns=[
        {"url": "http://www.nianbao-offline.invalid/zfxxgk/"}])
    sites.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["fetch"].update(timeout_seconds=5, retries=0)
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(conf), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {**os.environ, "NIANBAO_SETTINGS": str(tmp_path / "settings.yaml")}
    done = subprocess.run([*NIANBAO, "run", "--sites", str(sites), "--db", db, "--archive",
                           str(tmp_path / "archive")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "main job: done" in done.stdout and "Traceback" not in done.stderr
    engine = create_engine(db)
    with engine.connect() as connection:
        statuses = dict(connection.execute(text(
            "SELECT status, count(*) FROM verdicts GROUP BY status")).all())
        kinds = [k for (k,) in connection.execute(text("SELECT kind FROM events"))]
    engine.dispose()
    assert statuses and "missing" not in statuses and statuses.get("unobserved")
    assert "missing_report" not in kinds
    assert not (tmp_path / "data").exists()  # nothing written relative to the current directory


def test_run_with_an_unknown_site_is_a_usage_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    assert main(["run", "--sites", str(sites), "--site", "nope", "--db",
                 f"sqlite:///{tmp_path / 'db.sqlite'}"]) == 2
    assert "unknown site id(s): nope" in capsys.readouterr().err

