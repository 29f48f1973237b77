"""Scrapy settings for nianbao's spiders: polite by default (see config/settings.yaml)."""

from nianbao.settings import settings as _settings

_fetch = _settings()["fetch"]

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = _fetch["user_agent"]
ROBOTSTXT_OBEY = _fetch["obey_robots_txt"]
DOWNLOAD_TIMEOUT = _fetch["timeout_seconds"]
RETRY_TIMES = _fetch["retries"]
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Scrapy 2.19 starts a code-executing RemoteControl server and the Telnet console by default.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
