"""Shared test helpers: where the fixtures are, and how a missing tool is reported.

Locally a test whose tool (LibreOffice, Chromium, PostgreSQL…) is missing skips with a message
naming it; in CI (``CI`` set) the same situation fails, so nothing is skipped silently there.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"  # seeds/ and gold/: see tests/fixtures/README.md


def require_tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why})"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must install it (see .ci/run)")
    pytest.skip(message)


def seed_ids() -> list[str]:
    return sorted(p.stem for p in (FIXTURES / "seeds").glob("*.txt"))


def gold(seed_id: str) -> dict:
    return json.loads((FIXTURES / "gold" / f"{seed_id}.json").read_text(encoding="utf-8"))


def metric_mismatches(record: dict, expected: dict) -> list[tuple[str, object, object]]:
    """Keys whose parsed value differs from the expected one (type included: 0 is not 0.0)."""
    out = []
    for key, want in expected.items():
        got = record["metrics"].get(key, "<absent>")
        if got != want or type(got) is not type(want):
            out.append((key, want, got))
    return out


# --- storage: `db_url`, a fresh empty database per test on SQLite and on PostgreSQL -------------
# (appended for tests/test_storage.py; everything above is unchanged)

import secrets  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

POSTGRES_URL = os.environ.get(
    "NIANBAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require_postgresql() -> psycopg.Connection:
    """An autocommit psycopg connection to the test server, or skip (locally) / fail (CI)."""
    url = make_url(POSTGRES_URL)
    try:
        return psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
            password=url.password, autocommit=True, connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {url.host}:{url.port} ({exc})"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI must provide it (NIANBAO_TEST_POSTGRES_URL)")
        pytest.skip(message)


@contextmanager
def postgres_schema(prefix: str = "nianbao_t") -> Iterator[str]:
    """A URL to a PostgreSQL schema of its own, dropped afterwards.

    The schema is the connection's whole search_path, so tables, Alembic's version table (and
    procrastinate's) land in it.
    """
    admin = require_postgresql()
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        admin.execute("SET lock_timeout = '10s'")
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nianbao.sqlite'}"
        return
    with postgres_schema() as url:
        yield url
