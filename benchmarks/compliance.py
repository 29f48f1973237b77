"""Compliance and listings at national scale: ``nianbao check --json``, ``check --csv`` and
``reports --csv`` over 100,000 synthetic reports, on SQLite and on the local PostgreSQL.

Each command runs as the user runs it (a subprocess of the real CLI, start-up included, output
to /dev/null); its median wall time over ``--repeat`` runs and its peak RSS are printed next to
the named baseline measured in the same run: a plain ``SELECT`` of the same rows through the
bare driver (sqlite3 / psycopg), iterated to the end. ``check`` judges as of today, so it also
keeps the ``verdicts`` table; its first run (which judges and writes every verdict) is shown
apart, and later runs list the stored verdicts as long as nothing they were computed from has
changed — a plain ``SELECT`` of the stored verdicts' columns is printed too, for scale.

The reports are realistic: the five seed reports parsed into canonical records, each stored
under many issuers (governments, offices, departments, townships), sites and years (2019–2023),
with dated evidence around the deadlines, one version in ten revised, each version's
cross-year checks against the latest version of the year before (as the store makes them when
a crawl finds the years in order), a site file entry per
site with its configured issuers, 30 daily crawl runs of observations (some columns
unreachable) and their fetch failures. ``--lean`` keeps of each record only its identity, dates,
key figures and failed checks, so that the million-report database fits in reasonable time and
disk (full records would take some 20 GB): the commands measured never read records (they read
the extracts stored with each version), so it measures how their cost grows with the number of
reports, not with the size of a record.

    .venv/bin/python benchmarks/compliance.py                       # 100k, both backends
    .venv/bin/python benchmarks/compliance.py --reports 1000000 --lean --repeat 3

Databases are built once under ``--workdir`` (default a temporary directory, removed after)
and PostgreSQL schemas are dropped at the end unless ``--keep``; ``--reuse`` (SQLite) and
``--schema`` (PostgreSQL) measure them again, ``--listings-only`` without the first run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import delete, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from nianbao.parsers.pipeline import parse_bytes  # noqa: E402
from nianbao.storage.cross_year import refresh_all  # noqa: E402
from nianbao.storage.db import connect, migrate  # noqa: E402
from nianbao.storage.models import (  # noqa: E402
    CrawlRun,
    CrossYearResult,
    FetchFailure,
    Issuer,
    IssuerAlias,
    Observation,
    Report,
    Site,
    VerdictRow,
    VerdictSite,
    VerdictStamp,
    Version,
)
from nianbao.storage.store import record_extracts  # noqa: E402
from nianbao.vocabulary.figures import key_figures  # noqa: E402
from nianbao.vocabulary.identities import cross_year_checks  # noqa: E402
from nianbao.vocabulary.issuers import normalize_issuer  # noqa: E402

POSTGRES = os.environ.get("NIANBAO_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
YEARS = range(2019, 2024)
ISSUERS_PER_SITE = 50
CONFIGURED_PER_SITE = 10
RUNS = 30
DEPARTMENTS = (
    "应急管理局", "财政局", "教育局", "公安局", "民政局", "司法局", "人力资源和社会保障局",
    "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局",
    "商务局", "文化和旅游局", "卫生健康委员会", "审计局", "市场监督管理局", "统计局",
    "医疗保障局", "信访局", "林业局", "发展和改革委员会", "科学技术局", "退役军人事务局",
)
TOWNSHIPS = ("城关镇", "北关街道", "南街街道", "西河乡", "东阳镇", "石桥镇", "龙泉镇", "新华街道")
CHUNK = 2000


def seed_records(lean: bool) -> list[dict]:
    records = []
    for path in sorted((ROOT / "tests" / "fixtures" / "seeds").glob("*.txt")):
        record = parse_bytes(path.read_bytes(), str(path))
        if lean:
            kept = ("schema", "source", "title", "issuer", "report_year", "format",
                    "published_date", "date_evidence")
            record = {**{k: record.get(k) for k in kept},
                      "metrics": key_figures(record["metrics"]),
                      "checks": [c for c in record["checks"] if not c["ok"]]}
        records.append(record)
    return records


def issuer_names(site: int) -> list[tuple[str, str]]:
    county = f"某{site:05d}县"
    names = [(f"{county}人民政府", "government"), (f"{county}人民政府办公室", "office")]
    names += [(f"{county}{d}", "department") for d in DEPARTMENTS]
    names += [(f"{county}{t}人民政府" if t.endswith(("镇", "乡")) else f"{county}{t}办事处",
               "township") for t in TOWNSHIPS]
    extra = ISSUERS_PER_SITE - len(names)
    names += [(f"{county}第{i}中心", "department") for i in range(extra)]
    return names[:ISSUERS_PER_SITE]


def sites_file(path: Path, n_sites: int) -> None:
    entries = []
    for s in range(n_sites):
        entries.append({
            "id": f"s{s:05d}", "name": f"某{s:05d}县人民政府", "domains": [f"s{s:05d}.gov.cn"],
            "columns": [{"url": f"http://xxgk.s{s:05d}.gov.cn/zfxxgknb/"}],
            "issuers": [{"name": name, "kind": kind}
                        for name, kind in issuer_names(s)[:CONFIGURED_PER_SITE]],
        })
    path.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")


def _flush(connection, model, rows: list[dict]) -> None:
    if rows:
        connection.execute(insert(model), rows)
        rows.clear()


def build(url: str, n_reports: int, lean: bool, sites_path: Path) -> None:
    """The synthetic archive (see the module docstring)."""
    rng = random.Random(20261129)
    n_sites = max(1, n_reports // (ISSUERS_PER_SITE * len(YEARS)))
    sites_file(sites_path, n_sites)
    records = seed_records(lean)
    engine = connect(url)
    migrate(engine)
    t0 = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
    with engine.begin() as connection:
        _flush(connection, CrawlRun, [
            {"id": r + 1, "started_at": t0 + timedelta(days=r),
             "finished_at": t0 + timedelta(days=r, hours=2), "status": "finished",
             "sites": [], "stats": {}, "bytes_received": 0} for r in range(RUNS)])
        rows: dict[type, list[dict]] = {m: [] for m in (Site, Issuer, IssuerAlias, Report,
                                                        Version, CrossYearResult, Observation,
                                                        FetchFailure)}
        issuer_id = report_id = version_id = observation_id = 0
        for s in range(n_sites):
            site_id = f"s{s:05d}"
            rows[Site].append({"id": site_id, "name": f"某{s:05d}县人民政府", "region": None,
                               "config": {}, "created_at": t0})
            column = f"http://xxgk.{site_id}.gov.cn/zfxxgknb/"
            for r in range(RUNS):
                observation_id += 1
                ok = rng.random() < 0.85
                at = t0 + timedelta(days=r, minutes=rng.randrange(120))
                rows[Observation].append({
                    "id": observation_id, "crawl_run_id": r + 1, "site_id": site_id,
                    "column_url": column, "url": column, "observed_at": at, "reached": ok,
                    "complete": ok, "moved": False, "reason": None if ok else "dns",
                    "list_pages": 17 if ok else 0, "items": 250 if ok else 0, "vantage": None,
                    "detail": None})
                if rng.random() < 0.3:
                    rows[FetchFailure].append({
                        "crawl_run_id": r + 1, "site_id": site_id, "at": at,
                        "url": f"http://xxgk.{site_id}.gov.cn/dead{r}.html",
                        "reason": rng.choice(["http-404", "soft-404", "not-a-report"]),
                        "detail": "synthetic"})
            for name, kind in issuer_names(s):
                issuer_id += 1
                rows[Issuer].append({"id": issuer_id, "name": name, "site_id": site_id,
                                     "kind": kind, "created_at": t0})
                rows[IssuerAlias].append({"issuer_id": issuer_id, "scope": site_id,
                                          "alias": name, "normalized": normalize_issuer(name)})
                due_month = 3 if kind == "government" else 1
                previous = None  # the latest version of the year before: (id, record)
                for year in YEARS:
                    latest = None
                    report_id += 1
                    rows[Report].append({"id": report_id, "issuer_id": issuer_id,
                                         "report_year": year, "created_at": t0})
                    published = date(year + 1, due_month, 31) - timedelta(
                        days=rng.randrange(-40, 12))
                    record = {**rng.choice(records), "issuer": name, "report_year": year,
                              "published_date": published.isoformat(),
                              "date_evidence": [{"source": "meta:PubDate",
                                                 "value": published.isoformat()},
                                                {"source": "signature",
                                                 "value": (published - timedelta(days=2))
                                                 .isoformat()}]}
                    for revision in range(2 if rng.random() < 0.1 else 1):
                        version_id += 1
                        url = f"http://xxgk.{site_id}.gov.cn/{year + 1}01/t{report_id}.shtml"
                        digest = hashlib.sha256(f"{report_id}:{revision}".encode()).hexdigest()
                        seen = t0 + timedelta(days=revision * 7, minutes=rng.randrange(600))
                        rows[Version].append({
                            "id": version_id, "report_id": report_id, "url": url,
                            "content_hash": digest, "payload_digest": digest,
                            "first_seen": seen, "last_seen": seen, "published_date": published,
                            "date_evidence": record["date_evidence"], "record": record,
                            "checks": record["checks"], "format": record["format"],
                            "title": record.get("title"), "content_type": "text/html",
                            "warc_file": "nianbao-00001.warc.gz", "warc_offset": version_id,
                            "warc_length": 4000, "warc_record_id": f"<urn:uuid:{version_id}>",
                            "warc_pointer": None, "crawl_run_id": 1 + revision * 7,
                            "kind": "revised" if revision else "new",
                            "previous_version_id": version_id - 1 if revision else None,
                            "changes": [], "created_at": seen, **record_extracts(record)})
                        if previous is not None:  # as the store checks a new version
                            rows[CrossYearResult].append({
                                "issuer_id": issuer_id, "earlier_year": year - 1,
                                "later_year": year, "earlier_version_id": previous[0],
                                "later_version_id": version_id, "computed_at": seen,
                                "checks": cross_year_checks(previous[1], record)})
                        latest = (version_id, record)
                    previous = latest
            if s == n_sites - 1 or any(len(batch) >= CHUNK for batch in rows.values()):
                for model, batch in rows.items():  # in the order foreign keys need
                    _flush(connection, model, batch)
        refresh_all(connection)  # each report's current cross-year failed checks, as stored
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    engine.dispose()


# Runs one command and prints its wall time and peak RSS. A small launcher of its own, so the
# child's RSS is its own (a fork of this process would start with this one's memory counted).
LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
with open(os.devnull, "wb") as sink:
    child = subprocess.Popen(sys.argv[1:], stdout=sink, stderr=subprocess.PIPE)
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
if code:
    sys.stderr.buffer.write(errors)
print(elapsed, usage.ru_maxrss * 1024, code, usage.ru_utime + usage.ru_stime)
"""


def measure(command: list[str], repeat: int,
            env: dict[str, str]) -> tuple[list[float], int, list[float]]:
    """Wall times of ``repeat`` runs, the largest peak RSS (bytes) among them, and their CPU
    times (user + system: on a shared machine, what the command itself cost)."""
    times, peak, cpu = [], 0, []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env, cwd=ROOT,
                              capture_output=True, text=True)
        elapsed, rss, code, used = done.stdout.split()
        if int(code) != 0:
            raise SystemExit(f"{' '.join(command)} failed ({code}):\n{done.stderr}")
        times.append(float(elapsed))
        peak = max(peak, int(rss))
        cpu.append(float(used))
    return times, peak, cpu


BASELINE_SQL = {
    # the rows `check` reads: each report's earliest version, with its issuer and dates
    "check": "SELECT i.site_id, i.id, i.name, i.kind, r.report_year, v.id, v.url, "
             "v.date_evidence, v.first_seen, v.crawl_run_id FROM issuers i "
             "JOIN reports r ON r.issuer_id = i.id JOIN versions v ON v.report_id = r.id",
    # the rows `reports` reads: each report's latest version's extracts
    "reports": "SELECT r.id, i.site_id, i.name, r.report_year, v.id, v.url, v.published_date, "
               "v.date_source, v.format, v.failed_checks, v.key_figures, v.warc_file, "
               "v.warc_offset FROM issuers i JOIN reports r ON r.issuer_id = i.id "
               "JOIN versions v ON v.report_id = r.id",
}
BASELINE_SQL["verdicts"] = (  # what `check` prints after the day's evaluation, as columns
    "SELECT site_id, issuer_id, issuer, kind, report_year, status, deadline, grace_days, "
    "published_date, evidence, days_late, warnings, version_id, url, explanation, "
    "observation_id, observation, reasons, as_of FROM verdicts")
BASELINE_PROGRAM = """
import sys
url, sql = sys.argv[1], sys.argv[2]
if url.startswith("sqlite"):
    import sqlite3
    connection = sqlite3.connect(url.split("///", 1)[1])
else:
    import psycopg
    connection = psycopg.connect(url)
cursor = connection.cursor()
cursor.execute(sql)
n = 0
while rows := cursor.fetchmany(5000):
    n += len(rows)
print(n)
"""


def driver_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    options = parsed.query.get("options")
    conninfo = (f"postgresql://{parsed.username}@{parsed.host}:{parsed.port or 5432}/"
                f"{parsed.database}")
    return conninfo + (f"?options={quote(options, safe='')}" if options else "")


def run_backend(name: str, url: str, args: argparse.Namespace, work: Path,
                reuse: bool = False) -> list[str]:
    sites_path = work / f"sites-{name}-{args.reports}{'-lean' if args.lean else ''}.yaml"
    start = time.perf_counter()
    if not (reuse and sites_path.exists()):
        build(url, args.reports, args.lean, sites_path)
    built = time.perf_counter() - start
    env = {**os.environ, "NIANBAO_DATABASE_URL": url}
    cli = [sys.executable, "-m", "nianbao.commands.cli"]
    lines = [f"{name}: {args.reports:,} reports built in {built:.0f} s"]
    print(lines[-1], flush=True)
    if not (reuse and args.listings_only):  # the first run judges every site
        engine = connect(url)
        with engine.begin() as connection:
            connection.execute(delete(VerdictStamp))
            connection.execute(delete(VerdictSite))
            connection.execute(delete(VerdictRow))
        engine.dispose()
        first, first_peak, first_cpu = measure(
            [*cli, "check", "--json", "--sites", str(sites_path)], 1, env)
        lines.append(f"  check --json, first run (judges and writes every verdict): "
                     f"{first[0]:.2f} s (cpu {first_cpu[0]:.2f} s), peak RSS "
                     f"{first_peak / 2**20:.0f} MB")
        print(lines[-1], flush=True)
    rows = [
        ("check --json", [*cli, "check", "--json", "--sites", str(sites_path)], "check"),
        ("check --csv", [*cli, "check", "--csv", "--sites", str(sites_path)], "check"),
        ("reports --csv", [*cli, "reports", "--csv"], "reports"),
    ]
    stored, _, _ = measure([sys.executable, "-c", BASELINE_PROGRAM, driver_url(url),
                            BASELINE_SQL["verdicts"]], args.repeat, env)
    lines.append(f"  (a plain SELECT of the stored verdicts' columns: "
                 f"{statistics.median(stored):.2f} s)")
    print(lines[-1], flush=True)
    for label, command, baseline in rows:
        times, peak, cpu = measure(command, args.repeat, env)
        base_times, base_peak, base_cpu = measure(
            [sys.executable, "-c", BASELINE_PROGRAM, driver_url(url), BASELINE_SQL[baseline]],
            args.repeat, env)
        median, base = statistics.median(times), statistics.median(base_times)
        verdict = "ok" if median < 1 and peak < 200 * 2**20 else "OVER TARGET"
        lines.append(
            f"  {label:<14} median {median:6.2f} s (cpu {statistics.median(cpu):5.2f} s), "
            f"peak RSS {peak / 2**20:4.0f} MB | baseline SELECT {base:5.2f} s (cpu "
            f"{statistics.median(base_cpu):5.2f} s), {base_peak / 2**20:3.0f} MB | "
            f"ratio {median / base:4.1f}× [{verdict}: < 1 s, < 200 MB]")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--lean", action="store_true", help="records without texts and cells")
    parser.add_argument("--workdir", type=Path, help="where SQLite files go (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument("--listings-only", action="store_true",
                        help="with --reuse or --schema: keep the stored verdicts, no first run")
    parser.add_argument("--schema", help="measure a PostgreSQL schema kept (--keep) by an "
                        "earlier run with the same --reports/--lean")
    parser.add_argument("--reuse", action="store_true",
                        help="measure a SQLite database left in --workdir by an earlier run")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    out: list[str] = []
    try:
        for backend in args.backend or ["sqlite", "postgresql"]:
            if backend == "sqlite":
                db = work / f"bench-{args.reports}{'-lean' if args.lean else ''}.sqlite"
                reuse = args.reuse and db.exists()
                if not reuse:
                    db.unlink(missing_ok=True)
                out += run_backend("SQLite", f"sqlite:///{db}", args, work, reuse)
                continue
            import psycopg

            admin_url = make_url(POSTGRES)
            schema = args.schema or f"nianbao_bench_{secrets.token_hex(4)}"
            admin = psycopg.connect(host=admin_url.host, port=admin_url.port or 5432,
                                    user=admin_url.username, dbname=admin_url.database,
                                    autocommit=True)
            if not args.schema:
                admin.execute(f"CREATE SCHEMA {schema}")
            try:
                url = admin_url.update_query_dict({"options": f"-csearch_path={schema}"})
                out += run_backend("PostgreSQL", url.render_as_string(hide_password=False),
                                   args, work, reuse=bool(args.schema))
            finally:
                if not (args.keep or args.schema):
                    admin.execute(f"DROP SCHEMA {schema} CASCADE")
                admin.close()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\ncompliance benchmark, {args.reports:,} reports"
          f"{' (lean records)' if args.lean else ''}, median of {args.repeat}:")
    print("\n".join(out))


if __name__ == "__main__":
    main()
