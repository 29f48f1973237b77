"""A job for probing the scheduler itself: it appends one line to a file per run.

It lives in a module (not in a test) because APScheduler 3 stores jobs as importable
references, exactly as it stores nianbao's own jobs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def append_line(path: str, text: str) -> None:
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(f"{text} {datetime.now().isoformat()}\n")
