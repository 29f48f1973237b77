"""``nianbao worker`` processes for the queue tests (tests/test_workers*.py): each with settings
of its own (its User-Agent names it in the replica's log), the jobs' states, and a clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml
from sqlalchemy import text

from nianbao.settings import settings

ROOT = Path(__file__).resolve().parents[1]


def worker_settings(tmp: Path, name: str, **parse: object) -> Path:
    """This worker's settings: its User-Agent names it; a shorter delay keeps the test short
    (the platform slot still spaces the requests); one parse worker, and ``parse`` besides."""
    conf = json.loads(json.dumps(settings()))
    conf["fetch"]["user_agent"] = f"nianbao-test/{name}"
    conf["fetch"]["delay_seconds"] = 0.25
    conf["fetch"]["autothrottle_start_delay_seconds"] = 0.25
    conf["queue"].update(heartbeat_seconds=1, stalled_after_seconds=6)
    conf["parse"].update(workers=1, **parse)
    path = tmp / f"settings-{name}.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def start_worker(tmp: Path, name: str, env: dict, **parse: object) -> subprocess.Popen:
    """``nianbao worker --name NAME``, its output in ``tmp/NAME.log``."""
    env = {**env, "NIANBAO_SETTINGS": str(worker_settings(tmp, name, **parse))}
    log = (tmp / f"{name}.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "nianbao.commands.cli", "worker",
                             "--name", name], cwd=ROOT, env=env, stdout=log, stderr=log)


def job_states(engine) -> Counter:
    with engine.connect() as c:
        return Counter(dict(c.execute(text(
            "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all()))


def stop_workers(workers: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every worker still running, then wait (a minute each) or kill."""
    for process in workers.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers.values():
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
