"""``nianbao demo``: the bundled replica portals, crawled offline into a fresh database.

The replicas (``replicas/``) serve the five seed reports and real portal structures behind a
local HTTP proxy; the real ``config/sites.yaml`` entries are crawled through it unchanged.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from nianbao.settings import PROJECT_ROOT
from nianbao.sites import load_sites


def cmd_demo(args: argparse.Namespace) -> int:
    from nianbao.commands.crawl import crawl
    from nianbao.commands.reports import cmd_reports
    from tests.mockserver import ReplicaServer

    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    sites = load_sites(PROJECT_ROOT / "config" / "sites.yaml")
    with ReplicaServer(cache_dir=workdir / "renderings") as server:
        server.wait_ready()
        chosen = server.served_sites(sites)
        print(f"replica portals at {server.proxy_url}: crawling "
              f"{', '.join(s.id for s in chosen)}")
        db = f"sqlite:///{(workdir / 'nianbao.sqlite').resolve()}"
        crawl_args = argparse.Namespace(db=db, archive=workdir / "archive",
                                        proxy=server.proxy_url, allow_host=[], verbose=False)
        code = crawl(crawl_args, sites=chosen)
    print()
    cmd_reports(argparse.Namespace(db=db, site=None, year=None, json=False, csv=False))
    print(f"\ndatabase {db}; WARC files in {workdir / 'archive'}")
    return code
