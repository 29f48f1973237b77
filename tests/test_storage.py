"""Storage on real databases: a SQLite file and a PostgreSQL schema (``db_url``), with real
canonical records parsed from the seed reports.
"""

from __future__ import annotations

import copy
import hashlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from nianbao.parsers.pipeline import parse_bytes
from nianbao.storage import store as store_module
from nianbao.storage.db import alembic_config, connect, database_url, migrate
from nianbao.storage.models import Base, CrossYearResult, Report
from nianbao.storage.store import Kept, Store
from nianbao.vocabulary.figures import KEY_FIGURES
from nianbao.vocabulary.issuers import normalize_issuer, same_body
from tests.conftest import FIXTURES, ROOT, gold

CHENGQU = "000_7215e79b01c75868"  # 晋城市城区人民政府 2023, no published date
JIYUAN = "001_452d5aba5030ea32"  # 济源市人民政府 2023
EMERGENCY = "003_3c5e61d59278a594"  # 晋城市城区应急管理局 2023, signed 2024-01-12
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
URL = "http://xxgk.jccq.gov.cn/qzf/qzfb/zfxxgknb/202401/t20240129_1.shtml"


@cache
def _parsed(seed_id: str) -> str:
    path = FIXTURES / "seeds" / f"{seed_id}.txt"
    return json.dumps(parse_bytes(path.read_bytes(), str(path)), ensure_ascii=False)


def record(seed_id: str = CHENGQU, **changes: object) -> dict:
    """A fresh copy of a seed's canonical record, with top-level fields replaced."""
    return {**json.loads(_parsed(seed_id)), **changes}


def content_hash(rec: dict) -> str:
    return hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()


def store_doc(store: Store, rec: dict, url: str = URL, at: datetime = T0, site: str = "jccq",
              run_id: int | None = None, warc_offset: int = 0) -> store_module.StoreOutcome:
    return store.store_document(
        run_id=run_id, site_id=site, url=url, record=rec, content_hash=content_hash(rec),
        payload_digest=hashlib.sha256(url.encode()).hexdigest(), content_type="text/html",
        warc={"file": "nianbao-0001.warc.gz", "offset": warc_offset, "length": 1234,
              "record_id": f"<urn:uuid:{warc_offset}>"},
        fetched_at=at,
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    engine = connect(db_url)
    migrate(engine)
    s = Store(engine)
    for site_id, name in (("jccq", "晋城市城区人民政府"), ("quwo", "曲沃县人民政府")):
        s.upsert_site(site_id, name, "山西", {"columns": []}, [])
    yield s
    engine.dispose()


def issuer_of(store: Store, report_id: int) -> int:
    with Session(store.engine) as session:
        return session.get_one(Report, report_id).issuer_id


# Schema ------------------------------------------------------------------------------------


def test_migrate_is_idempotent(db_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    for _ in range(2):
        engine = connect(db_url)
        migrate(engine)
        migrate(engine)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
        engine.dispose()


def _on_this_dialect(dialect: str):
    """Alembic's filter: an index the models create only on another backend
    (``Index.ddl_if(dialect=...)``) is not expected on this one."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect is None or only.dialect == dialect
    return include


def test_models_match_migrated_schema(db_url: str) -> None:
    engine = connect(db_url)
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": _on_this_dialect(connection.dialect.name)})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


# Versions ----------------------------------------------------------------------------------


def test_new_then_unchanged_moves_only_last_seen(store: Store) -> None:
    rec = record()
    first = store_doc(store, rec)
    assert (first.status, first.issuer, first.report_year) == ("new", "晋城市城区人民政府", 2023)
    assert first.changes == [] and first.reason is None
    again = store_doc(store, rec, at=T0 + timedelta(days=7))
    assert (again.status, again.version_id, again.report_id) == (
        "unchanged", first.version_id, first.report_id
    )
    store_doc(store, rec, at=T0 - timedelta(days=1))  # an older capture replayed late
    [version] = store.versions(first.report_id)
    assert version["first_seen"] == T0 and version["last_seen"] == T0 + timedelta(days=7)
    store.touch_version(first.version_id, T0 + timedelta(days=9))  # answered 304
    store.touch_version(first.version_id, T0)
    [version] = store.versions(first.report_id)
    assert version["first_seen"] == T0 and version["last_seen"] == T0 + timedelta(days=9)
    assert version["kind"] == "new" and version["previous_version_id"] is None


def test_revision_lists_exact_changes_and_keeps_the_old_version(store: Store) -> None:
    original = record()
    first = store_doc(store, original)
    revised = copy.deepcopy(original)
    revised["title"] = "晋城市城区人民政府2023年政府信息公开工作年度报告（修订）"
    revised["metrics"]["requests.new.total"] += 2
    revised["metrics"]["requests.granted.total"] += 2
    second = store_doc(store, revised, at=T0 + timedelta(days=30), warc_offset=5000)
    assert second.status == "revised" and second.report_id == first.report_id
    new_total = original["metrics"]["requests.new.total"]
    granted = original["metrics"]["requests.granted.total"]
    assert second.changes == [
        {"key": "title", "before": None, "after": revised["title"]},
        {"key": "requests.granted.total", "before": granted, "after": granted + 2},
        {"key": "requests.new.total", "before": new_total, "after": new_total + 2},
    ]
    old, new = store.versions(first.report_id)
    assert old["id"] == first.version_id and old["record"] == original
    assert old["last_seen"] == T0 and old["content_hash"] == content_hash(original)
    assert old["warc_offset"] == 0
    assert new["previous_version_id"] == first.version_id and new["kind"] == "revised"
    assert new["changes"] == second.changes and new["title"] == revised["title"]


def test_another_copy_is_compared_with_the_latest_version(store: Store) -> None:
    rec = record()
    first = store_doc(store, rec)
    mirror = store_doc(store, rec, url="http://www.jccq.gov.cn/mirror/nb2023.html")
    assert (mirror.status, mirror.changes) == ("another_copy", [])
    changed = copy.deepcopy(rec)
    changed["metrics"]["review.total"] = None
    pdf = store_doc(store, changed, url="http://www.jccq.gov.cn/files/nb2023.pdf")
    assert pdf.status == "another_copy"
    assert pdf.changes == [{"key": "review.total", "before": rec["metrics"]["review.total"],
                            "after": None}]
    versions = store.versions(first.report_id)
    assert [v["previous_version_id"] for v in versions] == [
        None, first.version_id, mirror.version_id
    ]


@pytest.mark.parametrize("change, reason", [
    ({"format": "unknown", "metrics": {}, "reason": "no standard tables found"}, "format unknown"),
    ({"issuer": None}, "no issuer"),
    ({"report_year": None}, "no report year"),
])
def test_rejected_records_store_nothing(store: Store, change: dict, reason: str) -> None:
    outcome = store_doc(store, record(**change))
    assert outcome.status == "rejected" and outcome.reason.startswith(reason)
    assert outcome.version_id is None and outcome.report_id is None
    assert list(store.reports()) == []


def test_a_replayed_store_after_sigkill_is_unchanged(store: Store, db_url: str,
                                                     tmp_path: Path) -> None:
    """The crawler stored a document and was killed at once; after restart it stores it again."""
    rec = record()
    (tmp_path / "record.json").write_text(json.dumps(rec), encoding="utf-8")
    child = f"""
import json, os, signal, sys
from datetime import datetime
from nianbao.storage.db import connect, migrate
from nianbao.storage.store import Kept, Store
from tests.test_storage import store_doc
engine = connect({db_url!r})
migrate(engine)
rec = json.loads(open({str(tmp_path / "record.json")!r}, encoding="utf-8").read())
print(store_doc(Store(engine), rec).version_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    replay = store_doc(store, rec, at=T0 + timedelta(hours=1))
    assert replay.status == "unchanged" and replay.version_id == int(done.stdout)
    assert len(store.versions(replay.report_id)) == 1


def test_a_concurrent_duplicate_insert_is_unchanged(store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer inserted the same version between our lookup and our insert."""
    rec = record()
    first = store_doc(store, rec)
    real, misses = store_module._same_version, iter([None])
    monkeypatch.setattr(store_module, "_same_version",
                        lambda *args: next(misses, None) or real(*args))
    outcome = store_doc(store, rec)
    assert (outcome.status, outcome.version_id) == ("unchanged", first.version_id)
    assert len(store.versions(first.report_id)) == 1


def test_nul_characters_do_not_break_storage(store: Store) -> None:
    rec = record(title="晋城市城区人民政府\x002023年政府信息公开工作年度报告")
    rec["sections"]["overview"] += "\x00"
    outcome = store_doc(store, rec)
    [version] = store.versions(outcome.report_id)
    assert "\x00" not in version["title"] and "\x00" not in json.dumps(version["record"])


# Issuers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, normalized", [
    ("晋城市 城区人民政府。", "晋城市城区政府"),
    ("城区人民政府", "城区政府"),
    ("四方台区", "四方台区政府"),
    ("晋城市城区（开发区）应急管理局", "晋城市城区开发区应急管理局"),
])
def test_normalize_issuer(name: str, normalized: str) -> None:
    assert normalize_issuer(name) == normalized


@pytest.mark.parametrize("a, b, same", [
    ("晋城市城区人民政府", "城区人民政府", True),
    ("晋城市城区人民政府", "城区政府", True),
    ("城区人民政府", "城区政府", True),
    ("四方台区", "双鸭山市四方台区人民政府", True),
    ("晋城市城区应急管理局", "城区应急管理局", True),
    ("城区应急管理局", "城区人民政府", False),  # a department is not its government
    ("晋城市城区应急管理局", "晋城市城区人民政府", False),
    ("晋城市人民政府", "晋城市城区人民政府", False),  # the city is not its district
    ("长治市城区人民政府", "晋城市城区人民政府", False),  # two districts called 城区
    ("城区人民政府办公室", "城区人民政府", False),
    ("曲沃县人民政府", "县人民政府", False),  # 曲沃 is no place name on its own
    ("城区人民政府", "人民政府", False),  # 政府 alone names no body
    ("济源市人民政府", "济源产城融合示范区管委会", False),  # only configuration knows
])
def test_same_body(a: str, b: str, same: bool) -> None:
    assert same_body(normalize_issuer(a), normalize_issuer(b)) is same


def test_issuer_names_across_years_resolve_to_one_issuer(store: Store) -> None:
    government = store_doc(store, record())
    assert government.issuer == "晋城市城区人民政府"
    renamed = [
        store_doc(store, record(issuer=name, title=f"{name}{year}年政府信息公开工作年度报告",
                                report_year=year), url=f"{URL}?y={year}")
        for name, year in (("城区人民政府", 2022), ("城区政府", 2021))
    ]
    assert [o.status for o in renamed] == ["new", "new"]
    assert {issuer_of(store, o.report_id) for o in [government, *renamed]} == {
        issuer_of(store, government.report_id)
    }
    assert {o.issuer for o in renamed} == {"晋城市城区人民政府"}

    department = store_doc(store, record(EMERGENCY), url=f"{URL}?dept")
    short = store_doc(store, record(EMERGENCY, issuer="城区应急管理局", report_year=2022),
                      url=f"{URL}?dept22")
    assert department.issuer == short.issuer == "晋城市城区应急管理局"
    assert issuer_of(store, short.report_id) == issuer_of(store, department.report_id)
    assert issuer_of(store, department.report_id) != issuer_of(store, government.report_id)

    elsewhere = store_doc(store, record(issuer="城区人民政府"), site="quwo")
    assert elsewhere.status == "new"  # another site: not merged
    assert issuer_of(store, elsewhere.report_id) != issuer_of(store, government.report_id)


def test_configured_aliases(store: Store) -> None:
    issuers = [{"name": "济源市人民政府", "aliases": ["济源产城融合示范区管委会", "示范区管委会"],
                "kind": "government"}]
    for _ in range(2):  # configuration is re-applied on every start
        store.upsert_site("jiyuan", "济源市人民政府", "河南", {}, issuers)
    current = store_doc(store, record(JIYUAN), site="jiyuan")
    old_name = store_doc(store, record(JIYUAN, issuer="济源产城融合示范区管委会",
                                       report_year=2022), url=f"{URL}?2022", site="jiyuan")
    assert current.issuer == old_name.issuer == "济源市人民政府"
    assert issuer_of(store, current.report_id) == issuer_of(store, old_name.report_id)


# Cross-year checks -------------------------------------------------------------------------


def year_before(rec: dict) -> dict:
    """A record of the previous year that agrees with ``rec`` on every cross-year identity."""
    earlier = copy.deepcopy(rec)
    earlier["report_year"] -= 1
    m, e = rec["metrics"], earlier["metrics"]
    for col in ("natural", "business", "research", "ngo", "legal", "other_org", "total"):
        e[f"requests.carried_forward.{col}"] = m[f"requests.carried_over.{col}"]
    for kind in ("rules", "normative"):
        e[f"active.{kind}.in_force"] = (
            m[f"active.{kind}.in_force"] - m[f"active.{kind}.issued"]
            + m[f"active.{kind}.repealed"]
        )
    return earlier


def cross_year_rows(store: Store) -> list[CrossYearResult]:
    with Session(store.engine) as session:
        return list(session.scalars(select(CrossYearResult).order_by(CrossYearResult.id)))


def test_cross_year_checks_run_against_neighbour_years(store: Store) -> None:
    rec = record()
    current = store_doc(store, rec)
    assert cross_year_rows(store) == []
    earlier = store_doc(store, year_before(rec), url=f"{URL}?2022")
    [row] = cross_year_rows(store)
    assert (row.earlier_year, row.later_year) == (2022, 2023)
    assert (row.earlier_version_id, row.later_version_id) == (
        earlier.version_id, current.version_id
    )
    assert [(c["id"], c["ok"]) for c in row.checks] == [
        ("cross_year.carry", True), ("cross_year.in_force.rules", True),
        ("cross_year.in_force.normative", True),
    ]
    later = record(report_year=2024)
    later["metrics"]["requests.carried_over.total"] = 999_999
    store_doc(store, later, url=f"{URL}?2024")
    newest = cross_year_rows(store)[-1]
    assert (newest.earlier_year, newest.later_year) == (2023, 2024)
    assert not next(c for c in newest.checks if c["id"] == "cross_year.carry")["ok"]
    failed = {r["report_year"]: r["failed_checks"] for r in list(store.reports())}
    # 2024 is 2023 copied: 17 normative files in force again despite 3 issued and 5 repealed.
    broken = ["cross_year.carry", "cross_year.in_force.normative"]
    assert failed == {2022: [], 2023: broken, 2024: broken}



def test_a_first_seen_issuer_or_report_is_stored_without_looking_for_what_it_cannot_have(
        store: Store) -> None:
    """An issuer created by this store has no reports, a report created by it no versions:
    neither is looked for (most documents of a first crawl are both); an issuer seen before
    still has its report of the year and its neighbour years looked up."""
    statements: list[str] = []
    VERSION_KEYS = "SELECT versions.id, versions.url, versions.content_hash FROM versions"

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(" ".join(statement.split()))

    def lookups() -> list[str]:
        return [s for s in statements if s.startswith("SELECT")
                and (" FROM reports " in s + " " or " FROM versions " in s + " ")]

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        first = store_doc(store, record())
        assert (first.status, lookups()) == ("new", [])
        statements.clear()
        other_year = store_doc(store, year_before(record()), url=f"{URL}?2022")
        assert other_year.status == "new"
        assert any("FROM reports WHERE reports.issuer_id" in s and "report_year IN" in s
                   for s in lookups())  # its neighbour years, which exist: 2023
        assert not any(s.startswith(VERSION_KEYS) for s in lookups())  # a new report: none
        statements.clear()
        again = store_doc(store, record())
        assert again.status == "unchanged" and again.version_id == first.version_id
        assert any(s.startswith(VERSION_KEYS) for s in lookups())
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    [row] = cross_year_rows(store)
    assert (row.earlier_version_id, row.later_version_id) == (
        other_year.version_id, first.version_id)


# Time --------------------------------------------------------------------------------------


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    shanghai = datetime(2024, 1, 12, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    outcome = store_doc(store, record(), at=shanghai)
    store.remember_resource(URL, "jccq", "detail", fetched_at=shanghai, checked_at=shanghai)
    run_id = store.start_run(["jccq"])
    store.record_failure(run_id, "jccq", URL + "x", "timeout", "30 s")
    store.finish_run(run_id, "finished", {}, 0)
    [version] = store.versions(outcome.report_id)
    [failure] = store.failures(run_id)
    run = store.run_stats(run_id)
    resource = store.resource(URL)
    stamps = [version["first_seen"], version["last_seen"], version["created_at"],
              resource.fetched_at, resource.checked_at, run["started_at"], run["finished_at"],
              failure["at"], next(iter(store.reports()))["first_seen"]]
    assert all(s.tzinfo is UTC for s in stamps)
    assert version["first_seen"] == shanghai and version["first_seen"].hour == 1
    with pytest.raises(ValueError, match="naive"):
        store_doc(store, record(), url=URL + "?naive", at=datetime(2024, 1, 12, 9, 30))


# Runs, failures, crawl state ---------------------------------------------------------------


def test_runs_and_failures(store: Store) -> None:
    run_id = store.start_run(["jccq"])
    store.record_failure(run_id, "jccq", URL + "?gone", "http-404", "404 Not Found")
    store.record_failure(run_id, "jccq", URL + "?slow", "timeout", "no answer in 30 s")
    store_doc(store, record(), run_id=run_id)
    store.finish_run(run_id, "finished", {"jccq": {"pages": 12}}, 123_456)
    stats = store.run_stats(run_id)
    assert stats["status"] == "finished" and stats["sites"] == ["jccq"]
    assert stats["stats"] == {"jccq": {"pages": 12}} and stats["bytes_received"] == 123_456
    assert stats["versions"] == {"new": 1}
    assert stats["failures"] == {"http-404": 1, "timeout": 1}
    assert [(f["url"], f["reason"], f["detail"]) for f in store.failures(run_id)] == [
        (URL + "?gone", "http-404", "404 Not Found"),
        (URL + "?slow", "timeout", "no answer in 30 s"),
    ]
    with pytest.raises(ValueError):
        store.finish_run(run_id, "done", {}, 0)


def test_observations_record_what_a_run_saw_of_each_column(store: Store) -> None:
    run_id = store.start_run(["jccq", "quwo"])
    column = "http://xxgk.jccq.gov.cn/qzf/qzfb/zfxxgknb/"
    read = store.record_observation(
        run_id=run_id, site_id="jccq", column_url=column, url=column, observed_at=T0,
        reached=True, complete=True, list_pages=3, items=41)
    store.record_observation(
        run_id=run_id, site_id="quwo", column_url="http://www.quwo.gov.cn/nb/", url=None,
        observed_at=T0, reached=False, complete=False, reason="dns",
        detail="DNS lookup failed")
    seen = store.observations(site_id="jccq")
    assert [(o["id"], o["reached"], o["complete"], o["list_pages"], o["items"]) for o in seen] \
        == [(read, True, True, 3, 41)]
    assert [(o["site_id"], o["reason"]) for o in store.observations(run_id=run_id)] == [
        ("jccq", None), ("quwo", "dns")]
    with pytest.raises(ValueError, match="not reached"):
        store.record_observation(run_id=run_id, site_id="quwo", column_url="x", url=None,
                                 observed_at=T0, reached=False, complete=True)


def test_interrupted_runs_cleanup(store: Store) -> None:
    finished, killed = store.start_run(["jccq"]), store.start_run(["jccq"])
    store.finish_run(finished, "finished", {}, 0)
    assert store.interrupted_runs_cleanup(started_before=T0) == 0  # both started after T0
    assert store.interrupted_runs_cleanup() == 1
    assert store.interrupted_runs_cleanup() == 0
    assert store.run_stats(killed)["status"] == "interrupted"
    assert store.run_stats(finished)["status"] == "finished"


def test_a_crawl_marks_only_runs_of_its_own_sites_interrupted(store: Store) -> None:
    """Several workers crawl different platforms at once: a new crawl of quwo leaves another
    worker's live run of jccq alone, and marks a killed earlier run of quwo."""
    other_worker, killed = store.start_run(["jccq"]), store.start_run(["quwo", "jiyuan"])
    assert store.interrupted_runs_cleanup(sites=["quwo"]) == 1
    assert store.run_stats(killed)["status"] == "interrupted"
    assert store.run_stats(other_worker)["status"] == "running"


def test_remember_resource_updates_only_given_fields(store: Store) -> None:
    assert store.resource(URL) is None
    store.remember_resource(URL, "jccq", "detail", etag='"abc"', status=200, fetched_at=T0,
                            list_entry="城区2023年报 2024-01-29", content_type="text/html")
    outcome = store_doc(store, record())
    store.remember_resource(URL, "jccq", "detail", status=304, checked_at=T0,
                            outcome="report", version_id=outcome.version_id)
    state = store.resource(URL)
    assert (state.etag, state.status, state.fetched_at, state.checked_at) == ('"abc"', 304, T0, T0)
    assert (state.outcome, state.version_id) == ("report", outcome.version_id)
    assert (state.list_entry, state.content_type) == ("城区2023年报 2024-01-29", "text/html")
    with pytest.raises(TypeError):
        store.remember_resource(URL, "jccq", "detail", etags="x")


def test_keep_versions_touches_versions_and_renews_states_in_one_batch(store: Store) -> None:
    """A recrawl's unchanged documents, written a batch at a time: each version's last-seen
    time moves forward (never back), each state given is renewed, in order (the later state
    of a URL wins), and a kept document without a new state keeps its state as it was."""
    first = store_doc(store, record())
    other = URL + "?other"
    store.remember_resource(URL, "jccq", "detail", etag='"v1"', outcome="report",
                            version_id=first.version_id)
    store.remember_resource(other, "jccq", "attachment", etag='"o1"', outcome="not-a-report")
    later, latest = T0 + timedelta(days=1), T0 + timedelta(days=2)
    store.keep_versions([
        Kept(first.version_id, latest, URL, "jccq", "detail", {"etag": '"v2"'}),
        Kept(first.version_id, later, URL, "jccq", "detail", {"etag": '"v3"', "status": 304}),
        Kept(None, later, other, "jccq", "attachment", None),
    ])
    [version] = store.versions(first.report_id)
    assert version["last_seen"] == latest
    assert (store.resource(URL).etag, store.resource(URL).status) == ('"v3"', 304)
    assert store.resource(other).etag == '"o1"'
    states = store.resources_of("jccq")
    assert sorted(states) == sorted([URL, other])
    assert states[URL] == store.resource(URL) and states[other] == store.resource(other)
    assert store.resources_of("quwo") == {}


# The `nianbao reports` listing -------------------------------------------------------------


def test_reports_summary_fields(store: Store) -> None:
    rec = record()
    store_doc(store, rec)
    revised = copy.deepcopy(rec)
    revised["metrics"]["requests.new.total"] += 1
    next(c for c in revised["checks"] if c["id"] == "requests.balance.total")["ok"] = False
    store_doc(store, revised, at=T0 + timedelta(days=2), warc_offset=777)
    store_doc(store, record(EMERGENCY), url=f"{URL}?dept", at=T0 + timedelta(days=3))
    rows = list(store.reports(site_id="jccq"))
    assert [(r["issuer"], r["report_year"]) for r in rows] == [
        ("晋城市城区人民政府", 2023), ("晋城市城区应急管理局", 2023)
    ]
    government, department = rows
    expected = gold(CHENGQU)["metrics"]
    assert government == {
        "report_id": government["report_id"],
        "site": "jccq",
        "issuer": "晋城市城区人民政府",
        "report_year": 2023,
        "url": URL,
        "first_seen": T0,
        "published_date": None,
        "date_source": None,
        "versions": 2,
        "latest_version_id": government["latest_version_id"],
        "format": "2021",
        "failed_checks": ["requests.balance.total"],
        "key_figures": {  # every key figure of the vocabulary, from the latest version
            **{key: expected[key] for key in KEY_FIGURES},
            "requests.new.total": expected["requests.new.total"] + 1,
        },
        "warc": {"file": "nianbao-0001.warc.gz", "offset": 777, "length": 1234,
                 "record_id": "<urn:uuid:777>"},
    }
    assert department["published_date"] == date(2024, 1, 12)
    assert department["date_source"] == "signature"
    assert department["versions"] == 1 and department["failed_checks"] == []
    assert list(store.reports(year=2022)) == [] and list(store.reports(site_id="quwo")) == []
    assert len(list(store.reports(year=2023))) == 2


# Where the database is ---------------------------------------------------------------------


def test_database_url_and_connect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NIANBAO_DATABASE_URL", raising=False)
    # The settings' relative path is the project root's, wherever the command runs.
    assert database_url(create=False) == f"sqlite:///{ROOT}/data/nianbao.sqlite"
    assert not (tmp_path / "data").exists()
    monkeypatch.setenv("NIANBAO_DATABASE_URL", f"sqlite:///{tmp_path}/env/x.sqlite")
    assert database_url().endswith("/env/x.sqlite") and (tmp_path / "env").is_dir()
    # A path the user gives is the user's: relative to the current directory, made absolute.
    assert database_url("sqlite:///given/y.sqlite") == f"sqlite:///{tmp_path}/given/y.sqlite"
    assert (tmp_path / "given").is_dir()
    engine = connect("postgresql://someone@db.invalid/nianbao")
    assert engine.url.drivername == "postgresql+psycopg"
