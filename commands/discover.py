"""``nianbao discover``: walk the portal tree from the provincial portals; write candidate site
entries for review and a coverage report. ``nianbao discover --accept FILE`` adds reviewed
candidates to the sites file.

Candidates never overwrite anything: a division that already has a site entry (same ``region``
or same id) in the sites file is left to its hand-checked entry and listed as ``kept``. Accepting
appends entries at the end of the sites file, its existing text untouched.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nianbao.commands.crawl import add_fetch_arguments
from nianbao.settings import PROJECT_ROOT, archive_dir, discovery_dir, project_path, settings

SITES = PROJECT_ROOT / "config" / "sites.yaml"


def add_discover_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=Path, metavar="FILE",
                        help="provincial portals to start from (default schedule.discover_seeds "
                        "in settings: config/provinces.yaml)")
    parser.add_argument("--province", action="append", default=[], metavar="CODE",
                        help="walk only this province (6-digit code)")
    parser.add_argument("--sites", type=Path, default=SITES, metavar="FILE",
                        help="the hand-checked sites file, never overwritten "
                        "(default config/sites.yaml)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where candidates.yaml, coverage.json and tree.json go "
                        "(default schedule.discover_dir in settings, under the project)")
    parser.add_argument("--accept", type=Path, metavar="CANDIDATES",
                        help="append the reviewed candidates of this file to --sites")
    parser.add_argument("--id", action="append", default=[], metavar="ID",
                        help="with --accept: only these candidates")
    add_fetch_arguments(parser)


def cmd_discover(args: argparse.Namespace) -> int:
    if args.accept:
        return accept(args.accept, args.sites, args.id)
    return discover(args)


def _existing(sites_file: Path) -> tuple[set[str], set[str]]:
    """(ids, region codes) of the entries already in the sites file."""
    from nianbao.sites import load_sites

    sites = load_sites(sites_file)  # the walk's middlewares read it too: it must exist
    return {s.id for s in sites}, {s.region for s in sites if s.region}


def discover(args: argparse.Namespace) -> int:
    import yaml

    from nianbao.crawler.discover_run import run_discovery
    from nianbao.crawler.portal_tree import candidate_entry, coverage
    from nianbao.crawler.run import CrawlOptions
    from nianbao.crawler.spiders.discover import load_seeds
    from nianbao.sites import SitesError
    from nianbao.storage.db import database_url

    args.seeds = args.seeds or project_path(settings()["schedule"]["discover_seeds"])
    try:
        seeds = load_seeds(args.seeds)
        ids, regions = _existing(args.sites)
    except (OSError, ValueError, SitesError) as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    provinces = args.province or [str(s["code"]) for s in seeds]
    url = database_url(args.db)
    options = CrawlOptions(database_url=url, archive_dir=args.archive or archive_dir(),
                           sites_file=args.sites, proxy=args.proxy,
                           allowed_private_hosts=tuple(args.allow_host),
                           log_level="INFO" if args.verbose else "WARNING")
    tree = run_discovery(options, args.seeds, provinces)
    out = args.out or discovery_dir()
    if not any(p.status == "reached" for p in tree.portals.values()):
        print(f"nianbao: no portal could be reached (offline?); the previous results in {out} "
              "are kept", file=sys.stderr)
        return 1
    candidates, kept = [], []
    for portal in tree.portals.values():
        if not portal.column:
            continue
        entry = candidate_entry(portal)
        if entry["id"] in ids or portal.code in regions:
            kept.append(portal.code)
        else:
            candidates.append(entry)
    report = coverage(tree, provinces, observed_this_cycle(url))
    out.mkdir(parents=True, exist_ok=True)
    header = ("# Candidate site entries found by `nianbao discover` "
              f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC).\n"
              "# Review each (its seen_at says where every link was found), then run\n"
              "#   nianbao discover --accept THIS_FILE [--id ID ...]\n"
              f"# Divisions with a hand-checked entry already (kept, not listed): {len(kept)}\n")
    (out / "candidates.yaml").write_text(
        header + yaml.safe_dump({"sites": candidates}, allow_unicode=True, sort_keys=False),
        encoding="utf-8")
    (out / "coverage.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "tree.json").write_text(
        json.dumps(tree.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n".join(coverage_lines(report)))
    print(f"{len(candidates)} candidate(s) in {out / 'candidates.yaml'}; "
          f"{len(kept)} kept as hand-checked")
    return 0


def coverage_lines(report: list[dict]) -> list[str]:
    """The coverage table, one line per province, then the missing divisions by reason."""
    lines = [f"{'province':<10}{'expected':>9}{'portals':>9}{'columns':>9}{'observed':>9}"]
    for row in report:
        lines.append(f"{row['province']:<10}{row['expected']:>9}{row['portals_found']:>9}"
                     f"{row['columns_found']:>9}{row['observed']:>9}")
    for row in report:
        reasons: dict[str, int] = {}
        for item in row["missing"]:
            reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        if reasons:
            lines.append(f"{row['province']} missing: " + ", ".join(
                f"{reason} {n}" for reason, n in sorted(reasons.items())))
    return lines


def observed_this_cycle(url: str, days: int | None = None) -> dict[str, bool]:
    """Division code → a site of that region had a complete observation in the last ``days``
    (``schedule.observed_cycle_days``; none when the database does not exist yet)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from nianbao.storage.db import connect
    from nianbao.storage.models import Observation, Site

    if days is None:
        days = int(settings()["schedule"]["observed_cycle_days"])
    since = datetime.now(UTC) - timedelta(days=days)
    try:
        with Session(connect(url)) as session:
            rows = session.execute(
                select(Site.region).join(Observation, Observation.site_id == Site.id)
                .where(Observation.complete.is_(True), Observation.observed_at >= since)
                .distinct()).scalars().all()
    except SQLAlchemyError:
        return {}
    return {code: True for code in rows if code}


def accept(candidates: Path, sites_file: Path, only: list[str]) -> int:
    """Append reviewed candidates to the sites file; an entry whose id or region is already
    there is skipped (the hand-checked entry stays)."""
    import yaml

    from nianbao.sites import SitesError, load_sites

    try:
        chosen = (yaml.safe_load(candidates.read_text(encoding="utf-8")) or {}).get("sites") or []
        ids, regions = _existing(sites_file)
    except (OSError, yaml.YAMLError, SitesError) as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    if only:
        chosen = [c for c in chosen if c.get("id") in only]
    added = [c for c in chosen if c.get("id") not in ids and str(c.get("region")) not in regions]
    skipped = len(chosen) - len(added)
    if added:
        before = sites_file.read_text(encoding="utf-8")
        text = yaml.safe_dump(added, allow_unicode=True, sort_keys=False)
        block = "\n  # accepted from nianbao discover\n" + "".join(
            f"  {line}\n" for line in text.splitlines())
        sites_file.write_text(before.rstrip("\n") + "\n" + block, encoding="utf-8")
        try:
            load_sites(sites_file)
        except SitesError as exc:  # never leave an unusable sites file behind
            sites_file.write_text(before, encoding="utf-8")
            print(f"nianbao: not accepted, the result would not load: {exc}", file=sys.stderr)
            return 2
    print(f"accepted {len(added)} candidate(s) into {sites_file}; "
          f"{skipped} skipped (already there)")
    return 0
