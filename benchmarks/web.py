"""The compliance page and its API (``/compliance``, ``/api/verdicts``) over 100,000 synthetic
reports: server time per request, median of ``--repeat``, against a plain ``SELECT`` of the
same rows (same filter, same page) through the bare sqlite3 driver, measured in the same run.

The database is the one ``benchmarks/compliance.py`` builds (the five seed records stored under
many issuers, sites and years, with observations and failures; ``--lean`` records, which the
page never reads), and its verdicts are written by ``nianbao check`` as a user would. The app
runs in-process (Starlette's test client: the request goes through routing, the query, the
template and the response, without a socket), so the time is the server's.

    .venv/bin/python benchmarks/web.py                  # 100,000 reports
    .venv/bin/python benchmarks/web.py --reports 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from compliance import build  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from nianbao.storage.db import connect  # noqa: E402
from nianbao.web.app import create_app  # noqa: E402

PAGE = 100
BASE_SQL = ("SELECT v.*, s.region, s.name FROM verdicts v LEFT JOIN sites s ON s.id = v.site_id"
            " {where} ORDER BY v.site_id, v.position, v.id LIMIT {limit} OFFSET {offset}")


def scenarios(year: int, status: str, kind: str) -> list[tuple[str, str, str, tuple]]:
    """(label, query string, WHERE of the baseline, its parameters)."""
    return [
        ("first page", "", "", ()),
        (f"year={year}&status={status}", f"year={year}&status={status}",
         "WHERE v.report_year = ? AND v.status = ?", (year, status)),
        (f"kind={kind}", f"kind={kind}", "WHERE v.kind = ?", (kind,)),
        ("page 500", "page=500", "", ()),
    ]


def timed(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the database here (reused if there)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-web-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"web-{args.reports}.sqlite"
    sites = work / f"sites-{args.reports}.yaml"
    url = f"sqlite:///{db}"
    try:
        if not db.exists():
            start = time.perf_counter()
            build(url, args.reports, True, sites)
            env = {**os.environ, "NIANBAO_DATABASE_URL": url}
            subprocess.run([sys.executable, "-m", "nianbao.commands.cli", "check", "--json",
                            "--sites", str(sites)], env=env, check=True,
                           stdout=subprocess.DEVNULL, cwd=ROOT)
            print(f"built {args.reports:,} reports and their verdicts in "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
        raw = sqlite3.connect(db)
        verdicts = raw.execute("SELECT count(*) FROM verdicts").fetchone()[0]
        year, status = raw.execute("SELECT report_year, status FROM verdicts GROUP BY 1, 2 "
                                   "ORDER BY count(*) DESC LIMIT 1").fetchone()
        kind = raw.execute("SELECT kind FROM verdicts GROUP BY kind ORDER BY count(*) "
                           "LIMIT 1").fetchone()[0]
        engine = connect(url)
        client = TestClient(create_app(engine, work / "archive", {"page_size": PAGE,
                                                                  "max_page_size": 1000}))
        print(f"\nweb benchmark: {verdicts:,} verdicts of {args.reports:,} reports (SQLite), "
              f"{PAGE} rows a page, median of {args.repeat}")
        worst = 0.0
        for label, query, where, params in scenarios(year, status, kind):
            page = int(query.split("page=")[1]) if query.startswith("page=") else 1
            sql = BASE_SQL.format(where=where, limit=PAGE, offset=(page - 1) * PAGE)
            base = timed(lambda sql=sql, params=params: raw.execute(sql, params).fetchall(),
                         args.repeat)
            for path in ("/compliance", "/api/verdicts"):
                target = f"{path}?{query}"
                response = client.get(target)
                assert response.status_code == 200, (target, response.text[:300])
                median = timed(lambda target=target: client.get(target), args.repeat)
                worst = max(worst, median)
                print(f"  {path:<14} {label:<24} {median * 1000:7.1f} ms | baseline SELECT "
                      f"{base * 1000:6.1f} ms | ratio {median / base:6.1f}× "
                      f"[{'ok' if median < 1 else 'OVER TARGET'}: < 1 s]", flush=True)
        print(f"  slowest median: {worst * 1000:.1f} ms")
        engine.dispose()
        raw.close()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
