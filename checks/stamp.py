"""What an evaluation of a whole sites file is computed from, told without judging anything.

``stamp`` reads it (the sites file's bytes, the deadline rules, the day and year judged,
``LOGIC`` and the store's state) before an evaluation; the evaluation leaves it on the
``verdicts`` table, and ``listed`` gives that table as the evaluation printed it while the
stamp still holds. This module imports no ORM class and reads no sites file, so
``nianbao check`` after the day's evaluation starts and streams fast (``listed_bare``: without
SQLAlchemy either).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

from nianbao.storage.verdict_listing import bare_listing, listing, store_state

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from nianbao.checks.deadlines import DeadlineRules
    from nianbao.storage.bare import Bare

# Raised whenever what a verdict says, or how it is printed, changes: every stored evaluation
# and site fingerprint then stops matching.
LOGIC = "observed-verdicts/2"


def stamp(engine: Engine, sites_file: bytes, rules: DeadlineRules, as_of: date,
          year: int | None) -> str:
    """The stamp of an evaluation of the sites file ``sites_file`` (its bytes)."""
    with engine.connect() as connection:
        state = store_state(connection)
    return _stamp(state, sites_file, rules, as_of, year)


def _stamp(state: tuple[int, ...], sites_file: bytes, rules: DeadlineRules, as_of: date,
           year: int | None) -> str:
    text = repr((LOGIC, hashlib.sha1(sites_file).hexdigest(), repr(rules), as_of, year, state))
    return hashlib.sha1(text.encode()).hexdigest()


def listed(engine: Engine, value: str, form: str) -> Iterator[bytes] | None:
    """The stored evaluation stamped ``value``, each verdict in its ``form`` (``as_json`` or
    ``as_csv``, see ``nianbao.checks.verdict_text``), in its order; None when the stored
    verdicts are not that evaluation's."""
    return listing(engine, value, form)


def listed_bare(bare: Bare, sites_file: bytes, rules: DeadlineRules, as_of: date,
                year: int | None, form: str) -> Iterator[bytes] | None:
    """``listed(engine, stamp(engine, sites_file, …), form)`` through the bare driver, the
    stamp read in the listing's own snapshot; ``bare`` is closed when it ends (or at once
    when there is no listing)."""
    return bare_listing(bare, lambda state: _stamp(state, sites_file, rules, as_of, year), form)
