"""Load ``config/settings.yaml`` once; every limit and politeness setting lives there."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@cache
def settings() -> dict:
    import yaml  # here, not at the top: ``nianbao --help`` needs no YAML

    path = Path(os.environ.get("NIANBAO_SETTINGS", PROJECT_ROOT / "config" / "settings.yaml"))
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)
