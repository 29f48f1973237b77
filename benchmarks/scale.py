"""Scale-out cost: what the PostgreSQL queue (procrastinate) adds, against one process.

Two measurements, each against its baseline in the same run:

1. **Queue overhead per job** at ``--jobs`` (5,000) simulated jobs: each job is the work a
   crawl job does besides crawling (the platform key of a URL, a JSON round trip of its
   arguments). Baseline: the same 5,000 calls in one process. The queue: the jobs deferred in
   one batch, then taken and run by one ``nianbao`` worker (``schedule/queue.py``'s app, its
   lock per platform) until the queue is empty. Overhead per job = (queue time − baseline
   time) / jobs.
2. **Portals per hour per worker** on the replica nation (``tests/mockserver/nation.py``,
   ``--sites`` portals, delay ``--delay`` s per platform): one ``nianbao worker`` taking one
   job per platform, against one ``nianbao crawl`` process crawling the same sites.

    .venv/bin/python benchmarks/scale.py [--jobs 5000] [--sites 12] [--delay 0.25]

Needs the PostgreSQL of the tests (NIANBAO_TEST_POSTGRES_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test); each run uses a schema of its own, dropped
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import yaml  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from nianbao.crawler.platforms import platform_key  # noqa: E402
from nianbao.settings import settings  # noqa: E402
from nianbao.storage.db import connect, migrate  # noqa: E402

PG = os.environ.get("NIANBAO_TEST_POSTGRES_URL",
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def simulated(platform: str, url: str) -> str:
    """A job's own work besides the crawl."""
    return json.dumps({"platform": platform_key(url), "given": platform})


def schema_url(schema: str) -> str:
    return make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"}) \
        .render_as_string(hide_password=False)


async def queue_run(url: str, jobs: int) -> tuple[float, float]:
    """(seconds to defer, seconds for one worker to run them all)."""
    import procrastinate

    from nianbao.crawler.deferred import libpq_url

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))

    @app.task(name="bench.simulated", queue="bench")
    async def task(platform: str, url: str) -> str:
        return simulated(platform, url)

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        start = time.perf_counter()
        await task.batch_defer_async(*({"platform": f"p{n}", "url": f"http://x{n}.gov{n}.cn/"}
                                       for n in range(jobs)))
        deferred = time.perf_counter() - start
        start = time.perf_counter()
        await app.run_worker_async(queues=["bench"], wait=False, concurrency=1,
                                   install_signal_handlers=False)
        return deferred, time.perf_counter() - start


def overhead(jobs: int) -> None:
    start = time.perf_counter()
    for n in range(jobs):
        simulated(f"p{n}", f"http://x{n}.gov{n}.cn/")
    direct = time.perf_counter() - start
    with with_schema() as url:
        deferred, ran = asyncio.run(queue_run(url, jobs))
    per_job = (deferred + ran - direct) / jobs
    print(f"{jobs} simulated jobs: one process {direct:.3f} s; queue: defer {deferred:.2f} s + "
          f"run {ran:.2f} s (one worker)")
    print(f"queue overhead per job: {per_job * 1000:.2f} ms "
          f"({(deferred + ran) / max(direct, 1e-9):.0f}x the job's own work)")


class with_schema:
    def __enter__(self) -> str:
        self.admin = psycopg.connect(make_url(PG).set(drivername="postgresql")
                                     .render_as_string(hide_password=False), autocommit=True)
        self.schema = f"nianbao_bench_{secrets.token_hex(5)}"
        self.admin.execute(f"CREATE SCHEMA {self.schema}")
        return schema_url(self.schema)

    def __exit__(self, *exc) -> None:
        self.admin.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.admin.close()


def bench_settings(tmp: Path, delay: float) -> Path:
    conf = json.loads(json.dumps(settings()))
    conf["fetch"]["delay_seconds"] = delay
    conf["fetch"]["autothrottle_start_delay_seconds"] = delay
    conf["queue"].update(heartbeat_seconds=1, stalled_after_seconds=10)
    path = tmp / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def nianbao(*args: str, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nianbao.commands.cli", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"nianbao {args[0]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def portals_per_hour(count: int, delay: float) -> None:
    from tests.mockserver.nation import Nation

    with Nation() as nation, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        entries = nation.site_entries()[:count]
        sites = tmp / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), "utf-8")
        env = {**os.environ, "NIANBAO_PROXY": nation.proxy_url,
               "NIANBAO_SETTINGS": str(bench_settings(tmp, delay))}
        with with_schema() as url:
            migrate(connect(url))
            one = nianbao("crawl", "--sites", str(sites), "--db", url, "--archive",
                          str(tmp / "w1"), env=env)
        with with_schema() as url:
            migrate(connect(url))
            queue_env = {**env, "NIANBAO_QUEUE_URL": url}
            nianbao("enqueue", "--sites", str(sites), "--db", url, "--archive", str(tmp / "w2"),
                    env=queue_env)
            worker = nianbao("worker", "--until-idle", "--name", "bench", env=queue_env)
        platforms = len({platform_key(e["columns"][0]["url"]) for e in entries})
        print(f"{count} portals ({platforms} platforms, {delay} s per request per platform):")
        print(f"  one `nianbao crawl` process: {one:.1f} s = {count / one * 3600:.0f} portals/h")
        print(f"  one `nianbao worker`, a job per platform: {worker:.1f} s = "
              f"{count / worker * 3600:.0f} portals/h per worker "
              f"({worker / one:.2f}x the one-process time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--delay", type=float, default=0.25)
    args = parser.parse_args()
    overhead(args.jobs)
    portals_per_hour(args.sites, args.delay)


if __name__ == "__main__":
    main()
