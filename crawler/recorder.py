"""The crawl run as the database records it: started, per-site counts, failures, what was
observed of each place, finished.

One component owns the run (a Scrapy extension), so the spider, the middlewares and the
pipeline only report what happened; whatever stops the crawl — the end of the work, a timeout,
SIGTERM — the run is closed with its statistics and its observations.

An observation is what a verdict of ``missing`` may rest on, so it says only what was seen:
for each place (a configured column, or the homepage of a site without one) whether its list
was reached, whether every page of it was read, how many entries it held, and if not, why not
(the failure vocabulary of ``crawler/failures.py`` plus ``column-moved``,
``column-not-found`` and ``interrupted``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from nianbao.crawler import meta
from nianbao.crawler.families import ListPage
from nianbao.crawler.meta import Role
from nianbao.crawler.services import services, stopping_on_database_failure
from nianbao.crawler.vantage import Ways

ENTRIES_KEPT = 50  # entries an observation keeps for the next run's "moved?" comparison
PLACE_ROLES = (Role.LIST, Role.FEED, Role.DISCOVER)


@dataclass
class Place:
    """One place where a site lists its reports, as this run sees it."""

    site_id: str
    column_url: str  # the configured column, or the homepage discovery starts at
    discovery: bool  # the site has no column: its column is looked for from the homepage
    url: str | None = None  # where the list was read (None: nowhere yet)
    outstanding: int = 0  # its list and discovery pages requested and not yet settled
    pages: set[str] = field(default_factory=set)
    entries: dict[str, str] = field(default_factory=dict)  # entry URL -> title, in list order
    truncated: bool = False  # the list had more pages than NIANBAO_MAX_LIST_PAGES
    troubles: list[tuple[str, str]] = field(default_factory=list)  # pages of it not read
    unreached: tuple[str, str] | None = None  # why its own first page could not be read
    moved: str | None = None  # why the configured column no longer holds the list
    rediscovering: bool = False  # the column is being looked for again from the homepage
    seen_at: datetime | None = None  # when its last page settled

    @property
    def reached(self) -> bool:
        return self.url is not None


class CrawlRecorder:
    """Starts the crawl run when the spider opens; at close, records one observation per
    place and finishes the run."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.run_id: int | None = None
        self.site_stats: dict[str, Counter] = defaultdict(Counter)
        self.places: dict[tuple[str, str], Place] = {}
        self.ways = Ways.from_settings(crawler.settings)  # the vantage of each site's region

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.dropped, signal=signals.request_dropped)
        crawler.signals.connect(recorder.closed, signal=signals.spider_closed)
        return recorder

    @property
    def store(self):
        return services(self.crawler).store

    # -- the run -----------------------------------------------------------------------------

    def opened(self) -> None:
        """Mark runs of these sites that a killed crawler left 'running' as interrupted,
        register the sites, and start this run."""
        with stopping_on_database_failure(self.crawler):
            sites = services(self.crawler).sites
            self.store.interrupted_runs_cleanup(sites=list(sites))
            for site in sites.values():
                self.store.upsert_site(site.id, site.name, site.region, site.raw,
                                       [i.as_dict() for i in site.issuers])
                self.site_stats[site.id]["started"] = 1
            self.run_id = self.store.start_run(list(sites))

    def closed(self, reason: str) -> None:
        """Record the observations and the run's per-site statistics; a run that did not end
        by itself is 'interrupted', with the reason Scrapy gives (timeout, shutdown…), or
        'failed' when its archive or its database failed (a database that still fails leaves
        the run 'running', for the next crawl of these sites to mark interrupted)."""
        if self.run_id is not None:
            with stopping_on_database_failure(self.crawler):
                self._finish(self.run_id, reason)

    def _finish(self, run_id: int, reason: str) -> None:
        crawl = services(self.crawler)
        for place in self.places.values():
            site = crawl.sites.get(place.site_id)
            vantage = self.ways.of(site.region if site else None).vantage
            self.store.record_observation(run_id=run_id, vantage=vantage,
                                          **observation(place, self._robots(place)))
        received = self.crawler.stats.get_value("downloader/response_bytes", 0)
        stats: dict[str, dict] = {k: dict(v) for k, v in self.site_stats.items()}
        status = "finished"
        if reason in crawl.failures:
            status = "failed"
            stats["_close_reason"] = {"reason": reason, "detail": crawl.failures[reason]}
        elif reason != "finished":
            status = "interrupted"
            stats["_close_reason"] = {"reason": reason}
        self.store.finish_run(run_id, status, stats, received)

    def count(self, site_id: str, key: str, n: int = 1) -> None:
        self.site_stats[site_id][key] += n

    def fail(self, site_id: str, url: str, reason: str, detail: str) -> None:
        """A URL that could not be fetched or used, with its reason; the crawl goes on (unless
        the database cannot take the record: then it stops, with that reason)."""
        self.count(site_id, "errors")
        self.count(site_id, f"error:{reason}")
        with stopping_on_database_failure(self.crawler):
            self.store.record_failure(self.run_id, site_id, url, reason, detail)

    # -- places ------------------------------------------------------------------------------

    def open_place(self, site_id: str, column_url: str, discovery: bool) -> Place:
        place = Place(site_id, column_url, discovery)
        self.places[(site_id, column_url)] = place
        return place

    def place_of(self, request: Request) -> Place | None:
        """The place a list, feed or discovery request serves (None for other requests)."""
        if request.meta.get(meta.ROLE) not in PLACE_ROLES:
            return None
        return self.places.get((request.meta.get(meta.SITE), request.meta.get(meta.PLACE)))

    def requested(self, request: Request) -> Request:
        """A page of a place is asked for; it stays outstanding until read, failed or
        dropped."""
        if place := self.place_of(request):
            place.outstanding += 1
        return request

    def read(self, response: Response, page: ListPage, drawn_later: bool = False) -> None:
        """A list page was read; ``drawn_later``: only its browser rendering will tell."""
        place = self._settle(response.request)
        if place is None or drawn_later:
            return
        place.url = place.url or response.meta.get(meta.LIST_URL) or response.url
        place.pages.add(response.url)
        for link in page.items:
            place.entries.setdefault(link.url, link.text)
        place.truncated |= page.truncated

    def passed(self, request: Request) -> None:
        """A discovery page that is not the column was read."""
        self._settle(request)

    def page_failed(self, request: Request, reason: str, detail: str) -> None:
        """A page of a place could not be read (its failure is recorded separately)."""
        place = self._settle(request)
        if place is None:
            return
        if self.is_first_page(place, request) and not place.reached:
            place.unreached = (reason, detail)
        elif request.meta.get(meta.ROLE) != Role.DISCOVER:
            place.troubles.append((reason, f"{request.url}: {detail}"))

    def dropped(self, request: Request) -> None:
        """A page the scheduler dropped as a duplicate: settled, nothing to read."""
        place = self._settle(request)
        if place is not None and self.is_first_page(place, request) and not place.reached:
            place.unreached = ("duplicate", f"{request.url} is crawled for another place")

    def column_moved(self, request: Request, why: str) -> None:
        """The configured column no longer holds the list (404, soft 404, a redirect off it)."""
        place = self._settle(request)
        if place is not None:
            place.moved = why

    def is_first_page(self, place: Place, request: Request) -> bool:
        """The page that decides whether the place was reached: the column's first page, or
        the homepage discovery (or rediscovery) starts at."""
        if request.meta.get(meta.ROLE) == Role.DISCOVER:
            return request.meta.get(meta.HOPS, 0) == 0
        return (not place.discovery and not place.rediscovering
                and request.meta.get(meta.LIST_PAGE, 0) == 0
                and request.meta.get(meta.LIST_URL) == place.column_url)

    def start_rediscovery(self, place: Place) -> None:
        """Forget what the configured column showed; the homepage is searched again."""
        place.rediscovering = True
        place.url, place.unreached = None, None
        place.pages.clear()
        place.entries.clear()
        place.troubles.clear()
        place.truncated = False

    def _settle(self, request: Request) -> Place | None:
        place = self.place_of(request)
        if place is not None:
            place.outstanding -= 1
            place.seen_at = datetime.now(UTC)
        return place

    def _robots(self, place: Place) -> str | None:
        from nianbao.crawler.robots import RobotsMiddleware

        robots = self.crawler.get_downloader_middleware(RobotsMiddleware)
        return robots.how_read(place.url or place.column_url) if robots else None


def recorder(crawler: Crawler) -> CrawlRecorder:
    """The crawl's recorder; an error naming the setting when the extension is not enabled."""
    found = crawler.get_extension(CrawlRecorder)
    if found is None:
        raise RuntimeError("nianbao.crawler.recorder.CrawlRecorder is not in EXTENSIONS")
    return found


def observation(place: Place, robots: str | None) -> dict:
    """The observation of one place, as ``Store.record_observation`` takes it."""
    reason, detail = _why_not(place)
    if place.reached:
        seen = (f"{len(place.pages)} list page(s), {len(place.entries)} entries"
                + (f" at {place.url}" if place.url != place.column_url else ""))
        detail = f"{detail}; {seen}" if detail else seen
    if place.moved:
        detail = f"the column moved ({place.moved}); {detail}"
    if robots and robots != "robots.txt read" and (reason or "robots.txt could not" in robots):
        detail = f"{detail}; {robots}"
    return {
        "site_id": place.site_id, "column_url": place.column_url, "url": place.url,
        "observed_at": place.seen_at or datetime.now(UTC), "reached": place.reached,
        "complete": place.reached and reason is None, "moved": bool(place.moved),
        "reason": reason, "list_pages": len(place.pages), "items": len(place.entries),
        "detail": detail[:1000],
        "entries": ([{"url": url, "title": title}
                     for url, title in list(place.entries.items())[:ENTRIES_KEPT]]
                    if place.reached else None),
    }


def _why_not(place: Place) -> tuple[str | None, str]:
    """(reason, detail): why the place was not reached or not read completely."""
    if not place.reached:
        if place.moved:
            found = ("the homepage did not lead to it again" if place.rediscovering
                     else "the site has no homepage to look for it from")
            return "column-moved", found
        if place.unreached:
            return place.unreached
        if place.outstanding > 0:
            return "interrupted", "the crawl stopped before the list was read"
        if place.discovery:
            return "column-not-found", "no 年报 column was found from the homepage"
        return "column-not-found", "the column page led to no list"
    if place.troubles:
        reason, detail = place.troubles[0]
        more = len(place.troubles) - 1
        return reason, detail + (f" (and {more} more list page(s) not read)" if more else "")
    if place.truncated:
        return "budget", "the list has more pages than crawl.max_list_pages allows"
    if place.outstanding > 0:
        return "interrupted", "the crawl stopped before every list page was read"
    return None, ""
