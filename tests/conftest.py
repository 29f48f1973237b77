"""Shared test helpers: where ../shared is, and how a missing tool is reported.

Locally a test whose tool (LibreOffice, Chromium, PostgreSQL…) is missing skips with a message
naming it; in CI (``CI`` set) the same situation fails, so nothing is skipped silently there.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NIANBAO_SHARED", ROOT.parent / "shared"))


def require_tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why})"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must install it (see .ci/run)")
    pytest.skip(message)


def seed_ids() -> list[str]:
    return sorted(p.stem for p in (SHARED / "seeds").glob("*.txt"))


def gold(seed_id: str) -> dict:
    return json.loads((SHARED / "gold" / f"{seed_id}.json").read_text(encoding="utf-8"))


def metric_mismatches(record: dict, expected: dict) -> list[tuple[str, object, object]]:
    """Keys whose parsed value differs from the expected one (type included: 0 is not 0.0)."""
    out = []
    for key, want in expected.items():
        got = record["metrics"].get(key, "<absent>")
        if got != want or type(got) is not type(want):
            out.append((key, want, got))
    return out
