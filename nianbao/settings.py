"""Load ``config/settings.yaml`` once; every limit and politeness setting lives there.

Relative paths in the settings (``storage.database_url`` for SQLite, ``storage.archive_dir``)
are relative to the project root (the folder holding ``config/``), never to the current
directory: ``nianbao check`` run from ``/tmp`` reads the same database as from the checkout.
Paths given on the command line or in ``NIANBAO_DATABASE_URL`` are the user's own and keep
the usual meaning (relative to where the command runs).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@cache
def settings() -> dict:
    import yaml  # here, not at the top: ``nianbao --help`` needs no YAML

    # libyaml's loader where PyYAML was built with it: the pure-Python one takes ~0.1 s of CPU
    # for this file, at the start of every command. The same safe constructors either way.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    path = Path(os.environ.get("NIANBAO_SETTINGS", PROJECT_ROOT / "config" / "settings.yaml"))
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


def project_path(value: str | Path) -> Path:
    """A path from the settings, absolute: a relative one is taken from the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def archive_dir() -> Path:
    """Where the WARC files go (``storage.archive_dir``)."""
    return project_path(settings()["storage"]["archive_dir"])


def discovery_dir() -> Path:
    """Where ``nianbao discover`` writes candidates and coverage (``schedule.discover_dir``)."""
    return project_path(settings()["schedule"]["discover_dir"])
