"""Scrapy settings for nianbao's spider: polite by default, every value from
``config/settings.yaml`` (``scrapy.cfg`` points here; ``nianbao crawl`` sets the per-run values,
``scrapy crawl reports -s NAME=VALUE`` overrides any of them).

Settings that follow from others — per-site download slots, the proxy for Chromium too, the
browser's request filter — are derived by ``crawler/addon.py`` once all overrides are in.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _default_settings

from nianbao.settings import PROJECT_ROOT
from nianbao.settings import settings as _settings

_conf = _settings()
_fetch = _conf["fetch"]
_crawl = _conf["crawl"]
_storage = _conf["storage"]

BOT_NAME = "nianbao"
SPIDER_MODULES = ["nianbao.crawler.spiders"]
NEWSPIDER_MODULE = "nianbao.crawler.spiders"

USER_AGENT = _fetch["user_agent"]
ROBOTSTXT_OBEY = _fetch["obey_robots_txt"]
DOWNLOAD_TIMEOUT = _fetch["timeout_seconds"]
RETRY_TIMES = _fetch["retries"]
CONCURRENT_REQUESTS = _fetch["concurrency_total"]
CONCURRENT_REQUESTS_PER_DOMAIN = _fetch["concurrency_per_host"]
DOWNLOAD_DELAY = _fetch["delay_seconds"]
# Read by nianbao's SiteThrottle (crawler/throttle.py), which replaces Scrapy's AutoThrottle.
AUTOTHROTTLE_ENABLED = _fetch["autothrottle"]
AUTOTHROTTLE_START_DELAY = _fetch["autothrottle_start_delay_seconds"]
AUTOTHROTTLE_TARGET_CONCURRENCY = _fetch["autothrottle_target_concurrency"]
AUTOTHROTTLE_MAX_DELAY = _fetch["autothrottle_max_delay_seconds"]
# Lists are bounded by NIANBAO_MAX_LIST_PAGES and discovery by NIANBAO_MAX_DISCOVERY_HOPS;
# Scrapy's depth limit would silently cut long ``?page=N`` lists (page N is N links deep).
DEPTH_LIMIT = 0
CLOSESPIDER_TIMEOUT = int(_crawl["max_run_minutes"]) * 60
DOWNLOAD_MAXSIZE = int(_conf["parse"]["max_file_mb"]) * 2**20
# Scrapy starts this many asyncio tasks for *every* response to process what its callback
# yields (default 100): a detail page yields one item and a list page a page of requests, so
# 100 cost more CPU than the callbacks themselves. Items of different responses still run
# concurrently; parsing is bounded by the parse pool (parse.workers).
CONCURRENT_ITEMS = 8
COOKIES_ENABLED = True
# Scrapy checks each callback for a generator that returns a value by reading and parsing its
# source with ``ast``, for every response: its cache is keyed weakly by the bound method, and
# each request holds a bound method of its own, so the answer is forgotten as requests end.
# nianbao's callbacks return no value (``ruff``'s and the tests' business, not every crawl's).
WARN_ON_GENERATOR_RETURN_VALUE = False

# Connections go to the addresses the address guard checked (no second DNS answer).
TWISTED_DNS_RESOLVER = "nianbao.crawler.resolver.PinnedResolver"

# Scrapy 2.19 starts a code-executing RemoteControl server and the Telnet console by default.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# ...and both are left out of Scrapy's base extensions: Scrapy imports every extension it lists
# (even one set to None in EXTENSIONS) only to hear it is off, and the remote control's aiohttp
# server and the console's twisted.conch cost about half a second of every crawl's start.
_NOT_STARTED = ("scrapy.extensions.remote_control.RemoteControl",
                "scrapy.extensions.telnet.TelnetConsole")
EXTENSIONS_BASE = {name: order for name, order in _default_settings.EXTENSIONS_BASE.items()
                   if name not in _NOT_STARTED}
FEED_EXPORT_ENCODING = "utf-8"

ADDONS = {"nianbao.crawler.addon.NianbaoAddon": 0}
DOWNLOADER_MIDDLEWARES = {
    "nianbao.crawler.progress.LedgerDownloaderMiddleware": 1,
    "nianbao.crawler.middlewares.GuardMiddleware": 50,
    "nianbao.crawler.platforms.PlatformSlotMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "nianbao.crawler.robots.RobotsMiddleware": 100,
    "nianbao.crawler.middlewares.EncodingMiddleware": 820,
    "nianbao.crawler.render.RenderMiddleware": 830,
    "nianbao.crawler.freshness.FreshnessMiddleware": 840,
    "nianbao.crawler.middlewares.ArchiveMiddleware": 970,
}
SPIDER_MIDDLEWARES = {"nianbao.crawler.progress.LedgerSpiderMiddleware": 1,
                      "nianbao.crawler.services.DatabaseFailureMiddleware": 1000}
ITEM_PIPELINES = {"nianbao.crawler.pipelines.StorePipeline": 300}
# The services first: the recorder and the progress display read them. nianbao's SiteThrottle
# takes the place of Scrapy's AutoThrottle (crawler/throttle.py).
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "nianbao.crawler.throttle.SiteThrottle": 0,
    "nianbao.crawler.services.CrawlServices": 100,
    "nianbao.crawler.recorder.CrawlRecorder": 200,
    "nianbao.crawler.progress.Progress": 500,
}

# Chromium only for requests that ask for it (meta "playwright"), Playwright started at the
# first of them (crawler/handler.py); the rest use Scrapy's own HTTP client. Debian's chromium:
# Playwright's browser download is not reachable here.
DOWNLOAD_HANDLERS = {
    "http": "nianbao.crawler.handler.LazyPlaywrightHandler",
    "https": "nianbao.crawler.handler.LazyPlaywrightHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("NIANBAO_CHROMIUM", "/usr/bin/chromium"),
    "headless": True,
    # No traffic of Chromium's own (updates, accounts, safe browsing, pings, DNS prefetch):
    # the only requests leaving the browser are a page's, each judged by crawler/browser_guard.
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--no-pings", "--disable-domain-reliability", "--dns-prefetch-disable",
             "--disable-client-side-phishing-detection", "--disable-default-apps",
             "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
             "--safebrowsing-disable-auto-update", "--disable-breakpad"],
}
# Not PLAYWRIGHT_CONTEXTS: a startup context launches Chromium (one per download handler, http
# and https) before the first request, even for a crawl that renders nothing. RenderMiddleware
# sends these options with each browser request instead.
NIANBAO_BROWSER_CONTEXT = {"ignore_https_errors": True, "user_agent": USER_AGENT,
                           "service_workers": "block"}
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = _crawl["browser_max_pages"]
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = _crawl["render_timeout_seconds"] * 1000

# What to crawl, and where it goes (``nianbao crawl`` sets these from its options).
NIANBAO_SITES_FILE = str(PROJECT_ROOT / "config" / "sites.yaml")
NIANBAO_SITES: list[str] = []  # site ids; empty = every site in the file
NIANBAO_DATABASE_URL = None  # None: $NIANBAO_DATABASE_URL, else storage.database_url
NIANBAO_ARCHIVE_DIR = _storage["archive_dir"]
NIANBAO_WARC_MAX_MB = _storage["warc_max_mb"]

NIANBAO_MAX_PAGES_PER_SITE = _crawl["max_pages_per_site"]
NIANBAO_MAX_LIST_PAGES = _crawl["max_list_pages"]
NIANBAO_MAX_DISCOVERY_HOPS = _crawl["max_depth"]
NIANBAO_VANTAGE = os.environ.get("NIANBAO_VANTAGE") or _crawl.get("vantage")
NIANBAO_REVALIDATE_DAYS = _crawl["revalidate_days"]
# Unchanged documents whose rows are written in one transaction (crawler/states.py): a recrawl
# answered by 304s spent a fifth of its time on a transaction per document.
NIANBAO_KEPT_BATCH = 100
NIANBAO_RENDER_TIMEOUT = _crawl["render_timeout_seconds"]
NIANBAO_BROWSER_MEMORY_MB = _crawl["browser_memory_mb"]
NIANBAO_ALLOWED_PRIVATE_HOSTS = _fetch.get("allowed_private_hosts") or []
NIANBAO_PROXY = os.environ.get("NIANBAO_PROXY") or _crawl.get("proxy")
NIANBAO_REGIONS = _crawl.get("regions") or {}  # per-region proxy and vantage (crawler/vantage.py)
# The queue a worker's crawl leaves heavy parses to (crawler/deferred.py); None: parse them here.
NIANBAO_PARSE_QUEUE = os.environ.get("NIANBAO_PARSE_QUEUE") or None
# Chromium's browser-wide proxy, which only its own background traffic uses (pages have a
# context proxy, crawler/addon.py): an address where nothing listens, so none of it leaves.
NIANBAO_BROWSER_NULL_PROXY = "http://127.0.0.1:9"
# Platforms (crawler/platforms.py): hosts and domains that share one politeness budget.
NIANBAO_PLATFORM_GROUPS = _fetch.get("platform_groups") or {}

