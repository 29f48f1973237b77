"""What a list family does: read one page of a column's list into its entries and the requests
for the rest of the list.

A family never builds callbacks: the spider gives every list request the same callback and
carries the place (site, column) along; a family only says which pages come next and with
which of its own meta (role, page number, paging state, rendering).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from scrapy import Request
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.links import Link, is_attachment, page_links
from nianbao.vocabulary.titles import title_kind


@dataclass
class ListPage:
    """One page of a list: its entries (every link the list shows), the requests for further
    pages, and whether the list has more pages than the page budget lets nianbao read.

    ``feed`` marks entries that come one per record from a list's data endpoint; on an HTML
    page the list's own entries are told from the page's other links by ``items``."""

    entries: list[Link] = field(default_factory=list)
    more: list[Request] = field(default_factory=list)
    truncated: bool = False
    feed: bool = False

    @property
    def items(self) -> list[Link]:
        """The entries the list holds (reports or not), without navigation links: on an HTML
        page the links shown with a date — a list entry nearly always is — else those titled
        like a report or a look-alike, or pointing at a document."""
        if self.feed:
            return self.entries
        dated = [link for link in self.entries if link.date]
        return dated or [link for link in self.entries
                         if title_kind(link.text) != "other" or is_attachment(link.url)]


class ListError(Exception):
    """A list page that cannot be read (``reason`` is the failure code stored for it)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Reading:
    """What a family needs besides the response: the place's column URL, the site's list
    selector (``selectors.list_links``) and the page budget (``NIANBAO_MAX_LIST_PAGES``)."""

    column: str
    list_links: str | None
    max_pages: int


class Family:
    """A CMS family's list: detection from a column page, reading, paging."""

    name: ClassVar[str]

    def detect(self, response: TextResponse, column: str) -> bool:
        """True when this column page is one of this family's lists."""
        return False

    def read(self, response: Response, reading: Reading) -> ListPage:
        raise NotImplementedError

    def list_ended(self, request: Request, status: int) -> bool:
        """True when a failed page (HTTP ``status``) only marks the end of the list."""
        return False


def html_links(response: Response, reading: Reading) -> list[Link]:
    """The links of an HTML list page (inside ``selectors.list_links`` when the site has one)."""
    if not isinstance(response, TextResponse):
        return []
    return page_links(response.selector, response.url, reading.list_links)


def page_number(response: Response) -> int:
    return response.meta.get(meta.LIST_PAGE, 0)


class Single(Family):
    """A list of one page (``pagination: none``), or of a family nianbao does not know."""

    name = "none"

    def read(self, response: Response, reading: Reading) -> ListPage:
        return ListPage(html_links(response, reading))
