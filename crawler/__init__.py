"""Fetching: the Scrapy project that finds reports on portals, and the one-off polite fetch.

Scrapy's cookie middleware splits cookie domains with tldextract, which by default downloads
the Public Suffix List on first use and keeps it under ``~/.cache``: offline that prints a
page of tracebacks per crawl, and online it reaches a third-party host on every fresh machine.
tldextract ships a snapshot of the list; the two variables below (its documented switches,
read when Scrapy's middleware is imported) make it use that snapshot, with no disk cache. An
operator who wants a fresher list sets them in the environment (e.g. to a local file).
"""

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("TLDEXTRACT_CACHE", "")
