"""How much memory the browser nianbao started is using (Chromium runs as many processes)."""

from __future__ import annotations

import os
from pathlib import Path


def _children(pid: int, table: dict[int, int]) -> set[int]:
    found = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in table.items():
            if parent in found and child not in found:
                found.add(child)
                grew = True
    return found


def browser_rss_mb() -> float:
    """Memory (MB) of every Chromium process descending from this one, as proportional set
    size: Chromium's processes share most of their pages, so adding up RSS overcounts."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        names[int(entry.name)] = name
    total_kb = 0
    for pid in _children(os.getpid(), parents) - {os.getpid()}:
        if "chrom" not in names.get(pid, ""):
            continue
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024
