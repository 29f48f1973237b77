"""Peak memory of a crawl's whole process tree on a portal of hostile documents.

A generated portal (``tests/mockserver/generated.py``, ``hostile=True``): ``--reports`` normal
reports plus pages whose tables need hundreds of MB to read, a DOCX zip bomb, an entity bomb,
over-nested HTML, random bytes named .doc and a truncated PDF. ``nianbao crawl`` runs on it
with politeness relaxed (no delay, 8 requests at once), so many documents reach the parser at
the same time; the tree (crawl, parse workers, converters) is sampled from /proc every 0.1 s.

    .venv/bin/python benchmarks/crawl_memory.py [--reports 60] [--workers 8]

Prints the wall time, the peak of the summed PSS and RSS, the most processes seen at once and
the crawl's own summary (failures by reason). The figure to compare is the same command run on
another checkout (for the code before a change: that checkout's package first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.process_tree import run_sampled  # noqa: E402
from tests.mockserver.generated import GeneratedPortal  # noqa: E402

RELAXED = {"delay_seconds": 0, "concurrency_per_host": 8, "timeout_seconds": 60, "retries": 0}


def relaxed_settings(folder: Path, workers: int | None = None, **fetch) -> Path:
    """The project's settings with politeness off (a local portal), in ``folder``; with
    ``workers``, that many documents parse at once (the total bound under test)."""
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["fetch"].update(RELAXED, **fetch)
    if workers:
        conf["parse"]["workers"] = workers
    if "autothrottle" in conf["fetch"]:
        conf["fetch"]["autothrottle"] = False
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=60, help="normal reports beside the "
                        "hostile documents")
    parser.add_argument("--workers", type=int, help="documents parsed at once (default: "
                        "parse.workers of the settings); as many as the crawl fetches at once "
                        "(8) is what no total bound gives")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, \
            GeneratedPortal(args.reports, hostile=True) as portal:
        work = Path(tmp)
        env = {**os.environ, "NIANBAO_SETTINGS": str(relaxed_settings(work, args.workers))}
        command = [sys.executable, "-m", "nianbao.commands.cli", "crawl",
                   "--sites", str(portal.write_sites(work / "sites.yaml")),
                   "--db", f"sqlite:///{work / 'crawl.sqlite'}", "--archive", str(work / "warc")]
        done, peak, wall = run_sampled(command, env=env, cwd=tmp)
        served = portal.counters()
    print(f"parse workers: {args.workers or 'as configured'}")
    print(f"crawl of {args.reports} reports + hostile documents: exit {done.returncode}, "
          f"{wall:.1f} s, {served['requests']} responses served")
    print(f"peak memory of the process tree: PSS {peak.pss_mb:.0f} MB, RSS {peak.rss_mb:.0f} MB, "
          f"{peak.processes} processes at most ({peak.samples} samples)")
    print("at the PSS peak, by command: " + ", ".join(
        f"{name} {mb:.0f} MB" for name, mb in sorted(peak.by_name.items(), key=lambda i: -i[1])))
    print(done.stdout.strip())
    if done.returncode not in (0, 1):
        print(done.stderr[-3000:], file=sys.stderr)


if __name__ == "__main__":
    main()
