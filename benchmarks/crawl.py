"""Crawl speed on a generated local portal, against Scrapy itself in the same run.

The portal (``tests/mockserver/generated.py``): ``--reports`` report pages in a TRS-style
column, HTML in three CMS styles, every 10th a DOCX attachment and every 100th a PDF (when
LibreOffice can render one), all static with ETag / Last-Modified. Politeness is off (no delay,
no AutoThrottle, no robots.txt, 8 requests per host, 16 in all) for every crawler alike.

Measured, whole processes (start-up included), in turns for ``--rounds`` rounds:

- ``scrapy bench``: Scrapy's own benchmark on its own server (a reference for the machine);
- the baseline: a bare Scrapy spider fetching the same pages (``benchmarks/bare_spider.py``);
- ``nianbao crawl`` into a fresh database and archive: fetch, WARC, parse, store;
- ``nianbao crawl`` again, the portal unchanged: conditional requests, all 304;
- Scrapy's own floor for that recrawl: the bare spider sending the same conditional requests
  and doing nothing with the 304s.

    .venv/bin/python benchmarks/crawl.py [--reports 500] [--rounds 3]

Prints pages/min and the ratio to the bare spider, and the recrawl's time and bytes against
the first crawl's (medians over the rounds); what the floor implies for the two crawl targets
together (a crawl at 0.5× the bare spider's pages/min takes 2× its time, so a recrawl within
0.3× of it must take at most 0.6× the bare spider's time, whatever it does); and where the CPU
went in each, sampled alike for every crawler (``benchmarks/process_tree.py``): the crawler's
own process, the processes under it (nianbao's parse workers), the portal's server (threads of
this process) — and how busy that kept the machine's cores over the wall time. Every command
runs as after an install: the project's sources are compiled to bytecode first (an environment
that sets ``PYTHONDONTWRITEBYTECODE`` would otherwise compile nianbao's sources, and the bare
spider's, in every process), as ``benchmarks/parse.py`` does.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from benchmarks.process_tree import run_sampled  # noqa: E402
from tests.mockserver.generated import GeneratedPortal  # noqa: E402

SCRAPY = str(Path(sys.executable).with_name("scrapy"))
POLITENESS_OFF = {"delay_seconds": 0, "concurrency_per_host": 8, "concurrency_total": 16,
                  "autothrottle": False, "obey_robots_txt": False, "retries": 0}


def settings_file(folder: Path) -> Path:
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["fetch"].update(POLITENESS_OFF)
    conf["crawl"]["max_pages_per_site"] = 100_000  # the portal is one site of many pages
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def checked(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """``done``, unless its command failed (exit 1 is a crawl's run that ended unfinished)."""
    if done.returncode not in (0, 1):
        raise SystemExit(f"{done.args[0]} failed ({done.returncode}): {done.stderr[-3000:]}")
    return done


def timed(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = checked(subprocess.run(command, capture_output=True, text=True, **kwargs))
    return time.perf_counter() - started, done


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def timed_crawl(command: list[str], **kwargs) -> tuple[float, tuple[float, float, float]]:
    """Wall seconds of a crawl, and its CPU seconds: (its own process, the processes under it,
    the portal's server)."""
    own = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    here = _cpu(resource.getrusage(resource.RUSAGE_SELF))
    done, tree, wall = run_sampled(command, **kwargs)
    checked(done)
    own = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - own
    here = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - here - tree.sampler_cpu_s
    return wall, (own, tree.cpu_below_root(), here)


def scrapy_bench(folder: Path) -> float:
    """Pages/min of ``scrapy bench`` (its own server and spider, 10 s)."""
    _, done = timed([SCRAPY, "bench", "-s", "LOG_LEVEL=INFO"], cwd=folder)
    pages = int(re.search(r"'response_received_count': (\d+)", done.stderr)[1])
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", done.stderr)[1])
    return pages / elapsed * 60


def served(portal: GeneratedPortal, before: dict[str, int]) -> dict[str, int]:
    now = portal.counters()
    return {key: now[key] - before[key] for key in now}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pdf_every = 100 if shutil.which("soffice") else 0
    rows: dict[str, list[tuple[float, int, int]]] = {
        "bare": [], "first": [], "again": [], "floor": []}  # (seconds, pages, bytes)
    cpu: dict[str, list[tuple[float, float, float]]] = {name: [] for name in rows}
    bench = []
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, \
            GeneratedPortal(args.reports, pdf_every=pdf_every) as portal:
        work = Path(tmp)
        for folder in ROOT.iterdir():
            if folder.is_dir() and not folder.name.startswith("."):
                compileall.compile_dir(folder, quiet=1)
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
               "NIANBAO_SETTINGS": str(settings_file(work))}
        sites = portal.write_sites(work / "sites.yaml")
        spider = [SCRAPY, "runspider", str(ROOT / "benchmarks" / "bare_spider.py"),
                  "-s", "LOG_LEVEL=WARNING", "-s", "CONCURRENT_REQUESTS=16",
                  "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "ROBOTSTXT_OBEY=False",
                  "-s", "TELNETCONSOLE_ENABLED=False"]
        bare = [*spider, "-a", f"start={portal.column_url}"]
        known = work / "validators.json"
        known.write_text(json.dumps([[portal.base_url + path, page.etag, page.modified]
                                     for path, page in portal.pages.items()
                                     if path != "/robots.txt"]), encoding="utf-8")
        floor = [*spider, "-a", f"revalidate={known}"]
        for n in range(args.rounds):
            round_dir = work / f"round{n}"
            round_dir.mkdir()
            nianbao = [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--sites",
                       str(sites), "--db", f"sqlite:///{round_dir / 'crawl.sqlite'}",
                       "--archive", str(round_dir / "warc")]
            for name, command, folder in (("bare", bare, work), ("first", nianbao, round_dir),
                                          ("again", nianbao, round_dir),
                                          ("floor", floor, work)):
                before = portal.counters()
                wall, spent = timed_crawl(command, cwd=folder, env=env)
                got = served(portal, before)
                rows[name].append((wall, got["requests"], got["bytes_sent"]))
                cpu[name].append(spent)
            bench.append(scrapy_bench(work))

    def median(name: str, index: int) -> float:
        return statistics.median(r[index] for r in rows[name])

    def per_minute(name: str) -> float:
        return statistics.median(r[1] / r[0] * 60 for r in rows[name])

    def paired(name: str, base_name: str, index: int = 0) -> float:
        """The median over rounds of one crawler's seconds (or bytes) over another's in the
        same round."""
        return statistics.median(a[index] / b[index] for a, b in zip(rows[name], rows[base_name],
                                                                     strict=True))

    base = per_minute("bare")
    print(f"portal: {args.reports} reports, {median('first', 1):.0f} responses a crawl; "
          f"medians of {args.rounds} rounds")
    print(f"{'crawler':38} {'seconds':>8} {'pages':>6} {'pages/min':>10} {'× bare':>7}")
    print(f"{'scrapy bench (own server)':38} {'':>8} {'':>6} {statistics.median(bench):10.0f} "
          f"{statistics.median(bench) / base:7.2f}")
    for name, label in (("bare", "baseline: bare Scrapy spider"),
                        ("first", "nianbao crawl (fetch+WARC+parse+store)"),
                        ("again", "nianbao recrawl, unchanged (304s)"),
                        ("floor", "Scrapy floor: the same 304s, bare")):
        print(f"{label:38} {median(name, 0):8.1f} {median(name, 1):6.0f} "
              f"{per_minute(name):10.0f} {per_minute(name) / base:7.2f}")
    time_ratio, byte_ratio = paired("again", "first"), paired("again", "first", 2)
    for name in ("bare", "first", "again", "floor"):
        print(f"  {name:6} seconds by round: "
              + ", ".join(f"{r[0]:.1f}" for r in rows[name]))
    print(f"unchanged recrawl / first crawl: time {time_ratio:.2f}, bytes {byte_ratio:.2%}")
    floor_share = paired("floor", "bare")
    # A crawl at 0.5× the bare spider's pages/min takes 2× its time; a recrawl within 0.3× of
    # that takes at most 0.6× the bare spider's time. What Scrapy alone takes of it is spent.
    room = (0.6 - floor_share) * median("bare", 0)
    added = median("again", 0) - median("floor", 0)
    print(f"Scrapy's floor takes {floor_share:.2f}× the bare spider's time; nianbao's recrawl "
          f"{paired('again', 'floor'):.2f}× the floor's ({added:+.1f} s). Both crawl targets "
          f"together need a recrawl within 0.60× the bare spider's time, which leaves "
          f"{room:+.1f} s for all a recrawl adds to Scrapy's 304s "
          f"(archiving each, renewing its state)"
          + ("" if room > 0 else ": none — not possible together here"))
    cores = os.cpu_count() or 1
    print(f"CPU seconds (medians): the crawler's process + the processes under it + the "
          f"portal's server; the share of {cores} cores busy over the wall time")
    for name in ("bare", "first", "again", "floor"):
        own, below, server = (statistics.median(c[i] for c in cpu[name]) for i in range(3))
        busy = statistics.median(sum(c) / (cores * r[0]) for c, r in zip(cpu[name], rows[name],
                                                                         strict=True))
        print(f"  {name:6} {own:5.1f} + {below:5.1f} + {server:4.1f} = "
              f"{own + below + server:5.1f} s; {busy:.0%} of the cores")
    crawl_ratio = per_minute("first") / base
    print(f"targets (issue 12): crawl ≥ 0.50× bare: {crawl_ratio:.2f} "
          f"[{'ok' if crawl_ratio >= 0.5 else 'NOT MET'}]; recrawl time ≤ 0.30× first: "
          f"{time_ratio:.2f} [{'ok' if time_ratio <= 0.3 else 'NOT MET'}]; recrawl bytes < 2%: "
          f"{byte_ratio:.2%} [{'ok' if byte_ratio < 0.02 else 'NOT MET'}]")
    print(f"machine load (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
