"""``Report.cross_year_failed``, what ``nianbao reports`` lists after a version's own failed
checks, is kept by the store as the cross-year join would find it at listing time: on each
stored version, for the reports of its year and of the neighbouring years; and the migration
that adds it fills it from the stored results, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from nianbao.storage.cross_year import refresh_all
from nianbao.storage.db import alembic_config, connect, migrate
from nianbao.storage.models import CrossYearResult, Report, Version
from nianbao.storage.store import Store
from tests.test_storage import URL, record, store, store_doc, year_before

__all__ = ["store"]  # the fixture
NORMATIVE = "cross_year.in_force.normative"  # a copy of the year after fails it


def joined(session: Session) -> dict[int, list[str]]:
    """Each report's current cross-year failed checks as the listing's join found them: the
    results between its latest version and a latest version, by earlier year, each once."""
    latest = dict(session.execute(select(Version.report_id, func.max(Version.id))
                                  .group_by(Version.report_id)).all())
    found: dict[int, list[str]] = {}
    for report_id, version_id in latest.items():
        other = case((CrossYearResult.earlier_version_id == version_id,
                      CrossYearResult.later_version_id), else_=CrossYearResult.earlier_version_id)
        rows = session.execute(
            select(CrossYearResult.earlier_year, CrossYearResult.checks).where(
                or_(CrossYearResult.earlier_version_id == version_id,
                    CrossYearResult.later_version_id == version_id),
                other.in_(list(latest.values()))).order_by(CrossYearResult.earlier_year)).all()
        failed = [c["id"] for _, checks in rows for c in checks if not c["ok"]]
        found[report_id] = list(dict.fromkeys(failed))
    return found


def kept(session: Session) -> dict[int, list[str]]:
    return dict(session.execute(select(Report.id, Report.cross_year_failed)).all())


def listed(store: Store) -> dict[int, list[str]]:
    return {r["report_year"]: r["failed_checks"] for r in store.reports()}


def assert_kept_as_joined(store: Store) -> None:
    with Session(store.engine) as session:
        assert kept(session) == joined(session)


def test_a_revision_in_a_neighbouring_year_changes_the_neighbours_listed_checks(
        store: Store) -> None:
    after = record(report_year=2024)
    store_doc(store, after, url=f"{URL}?2024")
    assert_kept_as_joined(store)
    # 2023 a copy of 2024: figures carried and in force disagree
    store_doc(store, record(report_year=2023), url=f"{URL}?2023")
    assert_kept_as_joined(store)
    first = listed(store)
    assert first[2024][-1] == NORMATIVE and first[2023][-1] == NORMATIVE
    # 2023 revised to agree with 2024: 2024's listed checks lose the cross-year failures
    store_doc(store, year_before(after), url=f"{URL}?2023")
    assert_kept_as_joined(store)
    second = listed(store)
    assert NORMATIVE not in second[2024] and NORMATIVE not in second[2023]
    assert [r["versions"] for r in store.reports()] == [2, 1]
    # 2022 a copy of the revised 2023: 2023 fails against the year before only
    store_doc(store, year_before(after) | {"report_year": 2022}, url=f"{URL}?2022")
    assert_kept_as_joined(store)
    third = listed(store)
    assert NORMATIVE not in third[2024]
    assert NORMATIVE in third[2023] and NORMATIVE in third[2022]
    # a second copy of 2024 (another URL) is its latest version: its results are current
    broken = record(report_year=2024)
    broken["metrics"]["requests.carried_over.total"] = 999_999
    store_doc(store, broken, url=f"{URL}?2024b")
    assert_kept_as_joined(store)
    assert "cross_year.carry" in listed(store)[2024]


def test_the_migration_fills_the_kept_checks_from_the_stored_results(db_url: str) -> None:
    engine = connect(db_url)
    migrate(engine)
    store = Store(engine)
    store.upsert_site("jccq", "晋城市城区人民政府", "山西", {"columns": []}, [])
    after = record(report_year=2024)
    store_doc(store, after, url=f"{URL}?2024")
    store_doc(store, record(report_year=2023), url=f"{URL}?2023")
    store_doc(store, year_before(after) | {"report_year": 2022}, url=f"{URL}?2022")
    with Session(engine) as session:
        before: dict[Any, Any] = kept(session)
    assert any(before.values()) and not all(before.values())
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008_known_links")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with Session(engine) as session:
        assert kept(session) == before == joined(session)
    with engine.begin() as connection:  # as the benchmark fills a bulk-built archive
        connection.execute(update(Report).values(cross_year_failed=[]))
        refresh_all(connection)
    with Session(engine) as session:
        assert kept(session) == before
    engine.dispose()
