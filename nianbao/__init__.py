"""nianbao: crawl, archive, parse and check Chinese government information-disclosure reports."""

__version__ = "0.1.0"
