"""nianbao as a plain Scrapy project: ``scrapy crawl reports -a site=…`` from the repository
root, with ``-s`` overrides, crawls a replica portal into a database and an archive of its own.

Every service (sites, store, archive, the run's record) is built from the crawler's settings,
so nothing but Scrapy's own command line is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.test_crawl import replica, test_settings

__all__ = ["replica", "test_settings"]  # module-scoped fixtures shared with test_crawl

SCRAPY = str(Path(sys.executable).with_name("scrapy"))


def scrapy_crawl(args: list[str], settings: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NIANBAO_SETTINGS": str(settings)}
    return subprocess.run([SCRAPY, "crawl", "reports", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def rows(db: str, query: str) -> list[tuple]:
    engine = create_engine(db)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(text(query))]
    engine.dispose()
    return out


def test_scrapy_crawl_reports_with_site_argument_and_setting_overrides(replica, test_settings,
                                                                      tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    archive = tmp_path / "archive"
    done = scrapy_crawl(["-a", "site=jccq", "-s", f"NIANBAO_DATABASE_URL={db}",
                         "-s", f"NIANBAO_ARCHIVE_DIR={archive}",
                         "-s", f"NIANBAO_PROXY={replica.proxy_url}", "-s", "LOG_LEVEL=WARNING"],
                        test_settings)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    expected = {r["url"] for r in replica.manifest()["reports"] if r["portal"] == "jccq"}
    assert expected
    assert {url for (url,) in rows(db, "SELECT url FROM versions")} == expected
    ((status, sites),) = rows(db, "SELECT status, sites FROM crawl_runs")
    assert status == "finished" and "jccq" in sites and "quwo" not in sites
    assert list(archive.glob("*.warc.gz"))


def test_an_unknown_site_argument_stores_nothing(test_settings, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    done = scrapy_crawl(["-a", "site=no-such-site", "-s", f"NIANBAO_DATABASE_URL={db}",
                         "-s", f"NIANBAO_ARCHIVE_DIR={tmp_path / 'archive'}"], test_settings)
    assert "unknown site id(s): no-such-site" in done.stderr
    assert not (tmp_path / "db.sqlite").exists()
