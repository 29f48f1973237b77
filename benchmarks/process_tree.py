"""Memory and CPU of a whole process tree (a crawl, its parse workers, converters, a browser),
sampled from /proc while it runs: the peak of the summed PSS (each shared page split between
the processes sharing it) and of the summed RSS (shared pages counted in each process), and the
CPU time each process had used when last seen. The parse workers are children of a forkserver
that outlives its waits, so no ``wait4`` of the crawl counts them: only /proc sees them."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB; (0, 0) once it is gone."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time one process has used so far; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


@dataclass
class TreePeak:
    pss_mb: float = 0.0
    rss_mb: float = 0.0
    processes: int = 0
    samples: int = 0
    by_name: dict[str, float] = field(default_factory=dict)  # PSS MB per command at the peak
    root: int = 0  # the command's own process
    cpu_s: dict[int, float] = field(default_factory=dict)  # by pid, as last seen
    sampler_cpu_s: float = 0.0  # what the sampling itself cost (a thread of the caller)

    def cpu_below_root(self) -> float:
        """CPU seconds of every process under the command's own (up to their last sample)."""
        return sum(seconds for pid, seconds in self.cpu_s.items() if pid != self.root)


def run_sampled(command: list[str], *, interval: float = 0.1, **popen) -> tuple[
        subprocess.CompletedProcess, TreePeak, float]:
    """Run ``command`` to its end, sampling its tree; (result, peaks, wall seconds)."""
    peak = TreePeak()
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)
    peak.root = proc.pid
    done = threading.Event()

    def sample() -> None:
        began = time.thread_time()
        while not done.is_set():
            pids = descendants(proc.pid)
            for pid in pids:
                if (seconds := cpu_seconds(pid)) is not None:
                    peak.cpu_s[pid] = seconds
            sizes = [memory_kb(pid) for pid in pids]
            if sum(s[0] for s in sizes) / 1024 > peak.pss_mb:
                peak.by_name = {}
                for pid, size in zip(pids, sizes, strict=True):
                    name = command_name(pid)
                    peak.by_name[name] = peak.by_name.get(name, 0) + size[0] / 1024
            peak.pss_mb = max(peak.pss_mb, sum(s[0] for s in sizes) / 1024)
            peak.rss_mb = max(peak.rss_mb, sum(s[1] for s in sizes) / 1024)
            peak.processes = max(peak.processes, sum(1 for s in sizes if s[1]))
            peak.samples += 1
            peak.sampler_cpu_s = time.thread_time() - began
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr), peak, wall
