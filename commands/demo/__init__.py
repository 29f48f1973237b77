"""``nianbao demo``: the bundled demo portal crawled offline into a fresh database.

The demo portal (``portal/``, served by ``portal.py`` on 127.0.0.1) is four small portals
built around the five real seed reports, with look-alikes and a few problems planted on
purpose (``plan.yaml``). The demo crawls them with the demo's sites file, then shows what was
stored and the compliance table, and says which failures were planted and which are real.
It needs nothing outside the package: no network, no tests, no LibreOffice.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

SITES_TEMPLATE = Path(__file__).resolve().parent / "sites.yaml"


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workdir", type=Path, default=Path("data/demo"),
                        help="where the demo's database, WARC files and sites file go "
                             "(emptied first; default data/demo)")


def write_sites(workdir: Path, portal_url: str) -> Path:
    """The demo's sites file with the portal's address filled in, next to its database."""
    path = workdir / "sites.yaml"
    text = SITES_TEMPLATE.read_text(encoding="utf-8").replace("{portal}", portal_url)
    path.write_text(text, encoding="utf-8")
    return path


def run_command(*argv: str) -> int:
    """Another ``nianbao`` command, run as a user would type it."""
    from nianbao.commands.cli import build_parser

    args = build_parser().parse_args(list(argv))
    sys.stdout.flush()
    return args.func(args)


def cmd_demo(args: argparse.Namespace) -> int:
    # Here, not at the top: the command line imports this package for its arguments alone.
    from nianbao.commands.crawl import crawl
    from nianbao.commands.demo.plan import Plan
    from nianbao.commands.demo.portal import DemoPortal
    from nianbao.sites import load_sites
    from nianbao.storage.db import connect
    from nianbao.storage.store import Store

    workdir: Path = args.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db = f"sqlite:///{(workdir / 'nianbao.sqlite').resolve()}"
    with DemoPortal() as portal:
        plan = Plan.load(portal.url)
        sites_file = write_sites(workdir, portal.url)
        sites = load_sites(sites_file)
        print(f"demo portal at {portal.url}/ (four small portals around five real reports); "
              f"crawling {', '.join(s.id for s in sites)} into {workdir}\n")
        sys.stdout.flush()
        crawl_args = argparse.Namespace(sites=sites_file, site=None, db=db,
                                        archive=workdir / "archive", proxy=None, allow_host=[],
                                        verbose=False)
        code, failures = crawl(crawl_args, planted=plan.planted_as)
    print("\nstored reports:")
    run_command("reports", "--db", db)
    print(f"\nThe demo portal's pages carry invented 2024 publication dates, so its compliance "
          f"table is judged as of {plan.as_of}\n(nianbao first saw the pages today: each verdict "
          "warns of that).")
    run_command("check", "--db", db, "--sites", str(sites_file), "--as-of", str(plan.as_of))
    print("\nset up on purpose by the demo portal:")
    for verdict in plan.verdicts:
        print(f"  {verdict['site']} {verdict['issuer']} {verdict['year']}: {verdict['status']} "
              f"— {verdict['what']}")
    for unmet in plan.unmet(failures):
        print(f"  planted but not met this run: {unmet.reason} at {unmet.url} ({unmet.what})")
    problems = [f"report not stored: {line}"
                for line in plan.missing_reports(Store(connect(db)).reports())]
    problems += [f"real failure: {f['site_id']} {f['reason']} {f['url']}"
                 for f in failures if not plan.planted_as(f)]
    print(f"\ndatabase {db}\nWARC files in {workdir / 'archive'}\nsites file {sites_file} "
          f"(e.g. nianbao reports --db {db})")
    if code or problems:
        print("\nthe demo did not go as planned:\n" + "\n".join(f"  {p}" for p in problems),
              file=sys.stderr)
        return code or 1
    return 0
