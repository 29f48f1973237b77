"""What differs between two versions of one report, figure by figure.

This is what a journalist reads when a report was quietly revised: which figure moved, from what
to what. A metric absent from a record and a metric that is ``null`` mean the same (no value),
so only real value changes are listed; 3 and 3.0 are the same figure.
"""

from __future__ import annotations

from typing import Any

DESCRIPTIVE_FIELDS = ("format", "title")


def record_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{key, before, after}]``: format and title first, then metrics in key order."""
    changes = [
        {"key": key, "before": before.get(key), "after": after.get(key)}
        for key in DESCRIPTIVE_FIELDS
        if before.get(key) != after.get(key)
    ]
    old, new = before.get("metrics") or {}, after.get("metrics") or {}
    changes.extend(
        {"key": key, "before": old.get(key), "after": new.get(key)}
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    )
    return changes
