"""Scrapy's DNS resolver, answering with the addresses the address guard checked.

The guard (``crawler/addresses.py``) resolves a request's host and checks every address; if
Scrapy's download handler then asked DNS again, a name with a zero TTL could answer an
internal address the second time (DNS rebinding). Names the guard passed are answered from
its pins; anything else (a proxy's own name) is resolved as Scrapy's default resolver does.
"""

from __future__ import annotations

import ipaddress

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer

from nianbao.crawler.addresses import pinned


class PinnedResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout=()):
        for address in pinned(name):
            if ipaddress.ip_address(address).version == 4:  # the interface is IPv4 only
                return defer.succeed(address)
        return super().getHostByName(name, timeout)
