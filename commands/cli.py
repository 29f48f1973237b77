"""The ``nianbao`` command."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao import __version__
from nianbao.parsers.errors import ParseError
from nianbao.settings import PROJECT_ROOT, settings

if TYPE_CHECKING:
    from nianbao.parsers.pool import ParsePool


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def _read_input(target: str, conf: dict, sites: list) -> tuple[bytes, str | None, list]:
    """The bytes to parse, their Content-Type and the date evidence known from fetching. A URL
    in a site's domains is judged by that site's ``allow_private`` too, as the crawl does."""
    from nianbao.parsers.inputs import read_file

    max_bytes = int(conf["parse"]["max_file_mb"]) * 2**20
    if _is_url(target):
        from nianbao.crawler.single_fetch import fetch_once

        fetch = conf["fetch"]
        site = next((s for s in sites if s.in_scope(target)), None)
        if site is not None and site.allow_private:
            fetch = {**fetch, "allowed_private_hosts": [
                *(fetch.get("allowed_private_hosts") or []), *site.allow_private]}
        fetched = fetch_once(target, fetch, max_bytes)
        return fetched.body, fetched.content_type, fetched.dates
    return read_file(Path(target), max_bytes), None, []


def _parse_input(pool: ParsePool, target: str, conf: dict, sites: list) -> dict:
    data, content_type, dates = _read_input(target, conf, sites)
    return pool.parse(data, target, content_type, dates)


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse every input in the worker pool (inputs read and parsed ``workers`` at a time),
    printing results in input order."""
    from concurrent.futures import ThreadPoolExecutor

    from nianbao.commands.summary import render_summary
    from nianbao.escaping import terminal
    from nianbao.parsers.pool import ParsePool

    conf = settings()
    if args.timeout:
        conf = {**conf, "parse": {**conf["parse"], "timeout_seconds": args.timeout}}
    if args.allow_host:
        hosts = [*(conf["fetch"].get("allowed_private_hosts") or []), *args.allow_host]
        conf = {**conf, "fetch": {**conf["fetch"], "allowed_private_hosts": hosts}}
    sites: list = []
    if any(map(_is_url, args.inputs)):
        from nianbao.sites import SitesError, load_sites

        try:
            sites = load_sites(args.sites)
        except SitesError as exc:
            print(terminal(f"nianbao: {exc}"), file=sys.stderr)
            return 2
    pool = ParsePool.from_settings(conf["parse"])
    pool.start()  # the workers' imports run while the inputs are read
    threads = ThreadPoolExecutor(pool.limits.workers, "nianbao-input")

    bad = 0
    try:
        futures = [threads.submit(_parse_input, pool, target, conf, sites)
                   for target in args.inputs]
        for target, future in zip(args.inputs, futures, strict=True):
            try:
                record = future.result()
            except ParseError as exc:
                print(terminal(f"nianbao: {target}: {exc}"), file=sys.stderr)
                bad += 1
                continue
            if record["format"] == "unknown":
                print(terminal(f"nianbao: {target}: not-a-report: {record.get('reason')}"),
                      file=sys.stderr)
                bad += 1
            if args.json:
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(terminal(render_summary(record), multiline=True))
            sys.stdout.flush()
    finally:
        threads.shutdown(wait=False, cancel_futures=True)
        pool.close()
    return 2 if bad else 0


# Each command after ``parse``, in the order ``--help`` lists them: its word, the module of
# ``nianbao.commands`` that holds it, and its help. The module gives ``add_<word>_arguments``
# and ``cmd_<word>``; with no help here it adds its own subparsers (``add_<word>_parser``:
# ``subscribe`` adds ``feed`` too). A module is imported only when its command is built.
COMMANDS: tuple[tuple[str, str, str | None], ...] = (
    ("crawl", "crawl", "crawl the configured portals, archive and store reports"),
    ("reports", "reports", "list stored reports, or their failed identities"),
    ("check", "check", "compliance table: which reports were published on time"),
    ("demo", "demo", "crawl the bundled demo portal offline into a fresh database and show "
     "what nianbao makes of it"),
    ("schedule", "schedule", "run the scheduler in the foreground (crawls, deadline "
     "evaluation, digests, alert retries) until SIGTERM"),
    ("run", "run", "the main job once: crawl, record events, evaluate deadlines, deliver "
     "alerts"),
    ("discover", "discover", "walk the portal tree from the provincial portals: candidate "
     "site entries and a coverage report"),
    ("worker", "worker", "take crawl and heavy-parse jobs from the PostgreSQL queue (several "
     "machines)"),
    ("enqueue", "worker", "put one crawl job per platform on the queue"),
    ("stats", "stats", "per province and level for a report year: expected, observed, on "
     "time, late, missing, unobserved (from the verdicts)"),
    ("subscribe", "subscribe", None),
    ("serve", "serve", "the web app: pages, JSON API, feeds, exports"),
    ("export", "export", "reports × metrics as CSV, JSON Lines or Parquet (long or wide form)"),
    ("archive", "export", None),
)
# The module that adds each word's subparser
GROUPS = {word: module for word, module, _ in COMMANDS} | {"feed": "subscribe"}


def build_parser(only_parse: bool = False, only: str | None = None) -> argparse.ArgumentParser:
    """The command line; ``only_parse``: with the ``parse`` command alone (for a run of it,
    which then imports none of the other commands' modules); ``only``: likewise with the
    commands of that module of ``GROUPS`` alone (with ``parse``, which costs nothing)."""
    parser = argparse.ArgumentParser(
        prog="nianbao", description="Crawl, archive, parse and check 政府信息公开工作年度报告."
    )
    parser.add_argument("--version", action="version", version=f"nianbao {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse report files or URLs into the canonical record")
    p.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--json", action="store_true", help="one canonical JSON record per line")
    p.add_argument("--timeout", type=float, help="seconds per document (default from settings)")
    p.add_argument("--allow-host", action="append", metavar="HOST",
                   help="allow this loopback/private host or address (e.g. a local replica)")
    p.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                   metavar="FILE", help="sites file: a URL of a site is judged by its "
                   "allow_private (default config/sites.yaml)")
    p.set_defaults(func=cmd_parse)
    if only_parse:
        return parser

    for word, module_name, help_text in COMMANDS:
        if only is not None and only != module_name:
            continue
        module = import_module(f"nianbao.commands.{module_name}")
        if help_text is None:
            getattr(module, f"add_{word}_parser")(sub)
            continue
        command = sub.add_parser(word, help=help_text)
        getattr(module, f"add_{word}_arguments")(command)
        command.set_defaults(func=getattr(module, f"cmd_{word}"))
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parsing = words[:1] == ["parse"] and not {"-h", "--help"} & set(words)
    if parsing:  # the parse workers' imports start now, beside the rest of the start-up
        from nianbao.parsers.pool import start_forkserver

        start_forkserver()
    only = GROUPS.get(words[0]) if words and not {"-h", "--help"} & set(words) else None
    args = build_parser(only_parse=parsing, only=only).parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
