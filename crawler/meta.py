"""Request meta keys the spider, the middlewares and the pipeline exchange, written down once.

A request carries what it is for (its ``ROLE``), the site and the place (column or homepage) it
serves, and what the middlewares learnt on the way (a challenge, a browser rendering, an answer
from the archive). Scrapy's own keys (``proxy``, ``download_timeout``, ``dont_obey_robotstxt``,
``redirect_urls``) and scrapy-playwright's (``playwright*``) keep their names and are not listed.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a request is for on a report's journey."""

    DISCOVER = "discover"  # a page on the way from a homepage to the 年报 column
    LIST = "list"  # a page of a column's list, as HTML
    FEED = "feed"  # a list's data endpoint (Hanweb dataproxy.jsp, gkmlpt JSON API)
    DETAIL = "detail"  # a report's page
    ATTACHMENT = "attachment"  # a file a detail page or a list links to (PDF, DOC, image…)
    SOLVE = "solve"  # a browser visit that passes an anti-bot challenge for a host


# -- set by the spider ------------------------------------------------------------------------
SITE = "site_id"  # id of the site entry the request belongs to
ROLE = "role"  # a Role
PLACE = "place"  # the configured column (or the homepage) a list/discovery page serves
LIST_URL = "list_url"  # the column page the list was found on (a moved place: its new URL)
FAMILY = "family"  # the list family reading this place (crawler/families)
LIST_PAGE = "list_page"  # 0-based page number within the list
FEED_STATE = "feed_state"  # a family's paging state for its data endpoint
HOPS = "hops"  # links followed from the homepage (discovery)
LIST_ENTRY = "list_entry"  # what the linking list said about a document (title|date)
PAGE_DATES = "page_dates"  # dates stated by the detail page that links an attachment
RENDER = "render"  # fetch this page with Chromium
WAIT_FOR = "wait_for"  # CSS selector Chromium waits for before reading the page

# -- set by the middlewares -------------------------------------------------------------------
REGION = "region"  # the division a request without a site entry is for (discovery): its way out
GUARD_FOR = "guard_for"  # a request of Scrapy's own (robots.txt) judged by this site's allowance
BUDGET_COUNTED = "budget_counted"  # the guard has charged this request to its site's budget
RENDERED = "rendered"  # the response is Chromium's DOM, not the server's bytes
RENDERED_BY = "rendered_by"  # which browser made it, for the archive
CHALLENGE = "challenge"  # the kind of anti-bot challenge met on the way
CHALLENGE_WAITS = "challenge_waits"  # times the request waited for a host's challenge cookies
BROWSER_RULES = "browser_rules"  # the address allowance Chromium's requests are judged by
BROWSER_GUARDED = "browser_guarded"  # the page's request guard is in place (browser_guard.py)
BROWSER_REFUSED = "browser_refused"  # what the page's guard refused: [Refusal]
BROWSER_PAGE = "browser_page"  # the Playwright page of a browser request, even if it failed
SETTLE = "settle"  # (timeout, wait_for): the browser page is waited for inside its download
SETTLED = "settled_html"  # the page's DOM once settled, read inside the download
BROWSER_RETRIED = "browser_retried"  # a browser request tried again after its navigation timed out
SOLVE_FOR = "solve_for"  # the request a SOLVE visit is made for
SOLVE_ANY = "solve_any"  # pass challenges in Chromium without a site entry (discovery's pages)
PREVIOUS = "previous"  # the URL's stored state when the request was sent (ResourceState)
KNOWN = "known"  # (url, whether the store had a state for it): the freshness lookup's answer
UNCHANGED = "unchanged"  # Unchanged.CONFIRMED or Unchanged.ASSUMED: answered from the archive
WARC = "warc"  # where the response's payload sits in the archive (a WarcPointer dict)
CONFIRMED_BODY = "confirmed_body"  # a 304's archived body, as the archive read it to cite it
FETCHED_AT = "fetched_at"  # when it was archived

# -- set by the progress ledger (crawler/progress.py) ------------------------------------------
WORK = "work"  # (site id, token) of the open work a request belongs to; retries carry it on


class Unchanged(StrEnum):
    """Why a response was answered from the archive instead of the wire."""

    CONFIRMED = "confirmed"  # the server said 304 Not Modified
    ASSUMED = "assumed"  # not asked: same list entry, no validators, checked recently
