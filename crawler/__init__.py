"""Fetching: the Scrapy project that finds reports on portals, and the one-off polite fetch."""
