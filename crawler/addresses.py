"""Which hosts nianbao may contact: no private, loopback or link-local address by default.

A report link on a portal could point anywhere, including into the network nianbao runs in;
every URL (and every redirect hop) is resolved and checked before it is fetched.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def forbidden_address(
    url: str, allowed: frozenset[str] = frozenset(), via_proxy: bool = False
) -> str | None:
    """Return why ``url`` must not be fetched, or None when it may be.

    ``allowed`` lists non-public hosts or addresses a site entry (or a test) opts into. With
    ``via_proxy`` a name that does not resolve here is left to the proxy, which resolves it;
    literal addresses and names that do resolve are still checked.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'} is not fetched"
    if not parts.hostname:
        return "URL has no host"
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        if via_proxy:
            return None
        return f"host {parts.hostname} does not resolve ({exc.strerror})"
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if parts.hostname in allowed or str(ip) in allowed:
            continue
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
            return f"host {parts.hostname} resolves to a non-public address ({ip})"
    return None
