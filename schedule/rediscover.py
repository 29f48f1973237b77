"""Re-discovery on a schedule: columns move, portals are rebuilt, new departments appear.

``nianbao discover`` runs as a subprocess (Scrapy's reactor cannot restart in the scheduler's
process) from ``schedule.discover_seeds`` into ``schedule.discover_dir``, weekly by default
(``schedule.discover_cron``). It only writes candidates and the coverage report for review,
never a site entry, so a scheduled run changes nothing an operator has not accepted; offline
(no portal reached) it keeps the previous candidates and coverage and exits 1.
"""

from __future__ import annotations

import logging
import sys

from nianbao.schedule.jobs import run_crawl_subprocess
from nianbao.settings import discovery_dir, project_path, settings

log = logging.getLogger("nianbao.schedule")


def rediscover(db_url: str, sites_file: str | None = None) -> int:
    """Walk the portal tree again; its exit code."""
    out = discovery_dir()
    conf = settings()["schedule"]
    command = [sys.executable, "-m", "nianbao.commands.cli", "discover", "--db", db_url,
               "--out", str(out), "--seeds", str(project_path(conf["discover_seeds"]))]
    if sites_file:
        command += ["--sites", str(sites_file)]
    timeout = float(conf["crawl_timeout_seconds"])
    code = run_crawl_subprocess(command, timeout, label="discover")
    log.info("discover exited %s; candidates and coverage in %s", code, out)
    return code
