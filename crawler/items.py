"""What the spider hands to the pipeline: one fetched document, archived, not yet parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class FetchedDocument:
    """A detail page or attachment as fetched, with where its bytes sit in the WARC archive.

    ``body`` is exactly the payload that was archived at ``warc``: parsing it and reading the
    pointer back give the same bytes, which is what makes an archived copy citable.
    """

    site_id: str
    url: str
    role: str  # meta.Role.DETAIL or meta.Role.ATTACHMENT
    body: bytes
    content_type: str | None
    status: int
    fetched_at: datetime
    warc: dict
    list_entry: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    unchanged: str | None = None  # a meta.Unchanged when answered from the archive
    rendered: bool = False
    encoding: str | None = None  # the site's encoding override (sites.yaml ``encoding``)
    links: list[str] = field(default_factory=list)
    # a detail page's links to follow as the spider read them (``freshness.page_reading``),
    # kept with the URL's state so that an unchanged page is not read again
    followed: dict[str, Any] | None = None
    page_dates: list[dict] = field(default_factory=list)  # dates on the page linking to it
    previous: Any = None  # the URL's stored state (ResourceState) its request was made with
    known: bool | None = None  # whether the store knew the URL then (None: not looked up)
