"""Place cells lost in text extraction, using only the table's own identities.

A converter that drops a merged cell leaves a row with six numbers for seven columns, and
nothing says which column lost its number. Every way of putting the lost cell(s) back is
tried; the identities of the format (row totals, 一+二 = （七）+四, （七） = Σ results, group
totals of table 四) then decide. Only when exactly one completed table satisfies every identity
with non-negative whole numbers are the cells filled, and each is listed in ``repairs`` with the
rule. Otherwise the row stays ``null`` and the checks fail: never a guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from nianbao.parsers.tables import LostRow

Identity = tuple[str, list[str], list[str]]  # (id, left keys, right keys): Σ left = Σ right
Grid = dict[str, float | int | None]

MAX_COMBINATIONS = 50_000
MAX_LOST_PER_ROW = 2


@dataclass
class _Option:
    grid: Grid  # the row's slots, lost ones filled when the row's own total decides them
    unknown: set[str]  # lost slots still open
    gaps: list[str]  # every slot that may be the lost one for this reading


@dataclass
class Candidate:
    placed: dict[str, float | int]  # every slot of the lost rows
    lost_slots: dict[str, list[str]]  # row key -> slots that had no number


def _row_options(row: LostRow, identities: Sequence[Identity]) -> list[_Option]:
    """Each distinct way of completing the row on its own (its total decides the lost cell).

    Placements that read the same once completed (a row of zeros) collapse into one option,
    remembering every slot that may have lost its cell.
    """
    n_lost = len(row.slots) - len(row.values)
    own = [i for i in identities if set(i[1] + i[2]) <= set(row.slots)]
    options: dict[tuple, _Option] = {}
    for gaps in itertools.combinations(range(len(row.slots)), n_lost):
        it = iter(row.values)
        grid: Grid = {s: (None if i in gaps else next(it).value) for i, s in enumerate(row.slots)}
        unknown = {row.slots[i] for i in gaps}
        if _solve(grid, unknown, own) == "contradiction":
            continue
        signature = tuple((s, grid[s]) for s in row.slots)
        option = options.setdefault(signature, _Option(dict(grid), set(unknown), []))
        option.gaps.extend(row.slots[i] for i in gaps if row.slots[i] not in option.gaps)
    return list(options.values())


def _solve(grid: Grid, unknown: set[str], identities: Sequence[Identity]) -> str:
    """Fill unknowns from identities with one unknown each.

    Returns ``solved``, ``contradiction`` or ``open`` (consistent so far, unknowns left).
    """
    progress = True
    while progress:
        progress = False
        for _, left, right in identities:
            keys = left + right
            open_keys = [k for k in keys if k in unknown]
            if any(grid.get(k) is None and k not in unknown for k in keys):
                continue  # a blank or unread cell: this identity cannot speak
            if len(open_keys) == 1:
                k = open_keys[0]
                lsum = sum(grid[x] for x in left if x != k)
                rsum = sum(grid[x] for x in right if x != k)
                value = (rsum - lsum) if k in left else (lsum - rsum)
                if value < 0 or value != int(value):
                    return "contradiction"
                grid[k] = int(value)
                unknown.discard(k)
                progress = True
            elif not open_keys and sum(grid[x] for x in left) != sum(grid[x] for x in right):
                return "contradiction"
    return "open" if unknown else "solved"


def place_lost_cells(
    lost_rows: list[LostRow], grid: Grid, identities: Sequence[Identity]
) -> tuple[dict[str, float | int], list[dict], list[str]]:
    """Return (values placed, repairs, reasons it could not) for the lost rows."""
    if not lost_rows:
        return {}, [], []
    if any(len(r.slots) - len(r.values) > MAX_LOST_PER_ROW for r in lost_rows):
        return {}, [], ["too many cells lost in one row to place them"]
    per_row = [_row_options(r, identities) for r in lost_rows]
    total = 1
    for options in per_row:
        total *= len(options)
    if total > MAX_COMBINATIONS:
        return {}, [], [f"{total} ways to place the lost cells: too many to decide"]

    solutions: dict[tuple, Candidate] = {}
    undetermined = 0
    for combo in itertools.product(*per_row):
        trial = dict(grid)
        unknown: set[str] = set()
        lost_slots: dict[str, list[str]] = {}
        for row, option in zip(lost_rows, combo, strict=True):
            trial.update(option.grid)
            unknown.update(option.unknown)
            lost_slots[row.key] = option.gaps
        outcome = _solve(trial, unknown, identities)
        if outcome == "open":
            undetermined += 1
        if outcome != "solved":
            continue
        placed = {s: trial[s] for r in lost_rows for s in r.slots}
        signature = tuple(sorted(placed.items()))
        cand = solutions.setdefault(signature, Candidate(placed, {k: [] for k in lost_slots}))
        for key, gaps in lost_slots.items():
            for g in gaps:
                if g not in cand.lost_slots[key]:
                    cand.lost_slots[key].append(g)

    if undetermined:
        return {}, [], [f"lost cells not placed: {undetermined} placements leave them undetermined"]
    if len(solutions) != 1:
        why = "no placement satisfies" if not solutions else f"{len(solutions)} placements satisfy"
        return {}, [], [f"lost cells not placed: {why} the identities"]

    (cand,) = solutions.values()
    repairs = []
    for row in lost_rows:
        slots = cand.lost_slots[row.key]
        raw = " ".join(v.raw or "" for v in row.values).strip()
        rule = (
            f"row {row.label!r} had {len(row.values)} of {len(row.slots)} cells ({raw}); "
            "exactly one placement satisfies the row total and the column identities"
        )
        if len(slots) == 1:
            repairs.append({"key": slots[0], "value": cand.placed[slots[0]], "rule": rule})
        else:  # the row reads the same whichever position lost its cell (e.g. all zeros)
            values = {cand.placed[s] for s in slots}
            repairs.append({
                "key": row.key,
                "value": values.pop() if len(values) == 1 else None,
                "cells": slots,
                "rule": rule + "; the row is the same whichever of these cells was lost",
            })
    return cand.placed, repairs, []
