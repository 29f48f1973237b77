"""Start-up time of the command line: ``nianbao --help`` against a bare ``python -c pass``
(the named baseline), run in turns in the same run, medians and the ratio printed.

    .venv/bin/python benchmarks/cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

NIANBAO = Path(sys.executable).with_name("nianbao")


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    commands = {"baseline: python -c pass": [sys.executable, "-c", "pass"],
                "nianbao --help": [str(NIANBAO), "--help"],
                "nianbao parse --help": [str(NIANBAO), "parse", "--help"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        wall(command)  # warm-up: file cache
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(wall(command))
    base = statistics.median(times["baseline: python -c pass"])
    print(f"{'command':28} {'median s':>9} {'min s':>7} {'× baseline':>11}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:28} {median:9.3f} {min(values):7.3f} {median / base:11.1f}")
    help_median = statistics.median(times["nianbao --help"])
    print(f"target (issue 12): nianbao --help < 0.25 s: {help_median:.3f} s "
          f"[{'ok' if help_median < 0.25 else 'NOT MET'}]")


if __name__ == "__main__":
    main()
