"""The crawl's reads and writes of URL states in batches: what a recrawl does for every one of
its requests, where one query or transaction each cost more than the rest of a 304's handling.

- ``SiteStates``: the states of a site's URLs, read in one query at the site's first request.
  Each is handed out once, for the request it was read for; any other lookup (a URL the site
  did not have, or asked for again in the same crawl, after this crawl may have changed its
  state) asks the store, as a lookup per request did.
- ``KeptBatch``: unchanged documents' version touches and state renewals, written in one
  transaction per ``size``. Whatever is pending is written before any other write of the
  pipeline, and when the spider closes (before the run is recorded as finished); a crash loses
  at most one batch of renewals, which leaves the states as they were before this crawl (still
  valid: the next crawl asks with the older validators).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nianbao.storage.store import Kept, ResourceState, Store


class SiteStates:
    """URL states, read a site at a time (see the module docstring)."""

    def __init__(self, store: Store):
        self.store = store
        self._sites: dict[str, dict[str, ResourceState]] = {}

    def state(self, url: str, site_id: str | None) -> ResourceState | None:
        """The URL's state as the store holds it, for a request about to be sent."""
        if site_id:
            states = self._sites.get(site_id)
            if states is None:
                states = self._sites[site_id] = self.store.resources_of(site_id)
            found = states.pop(url, None)
            if found is not None:
                return found
        return self.store.resource(url)


class KeptBatch:
    """Pending ``Store.keep_versions`` rows (see the module docstring)."""

    def __init__(self, store: Store, size: int):
        self.store = store
        self.size = max(1, size)
        self.pending: list[Kept] = []

    def keep(self, version_id: int | None, seen_at: datetime, url: str, site_id: str,
             kind: str, state: dict[str, Any] | None) -> None:
        self.pending.append(Kept(version_id, seen_at, url, site_id, kind, state))
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            kept, self.pending = self.pending, []
            self.store.keep_versions(kept)
