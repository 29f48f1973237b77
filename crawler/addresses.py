"""Which hosts nianbao may contact: only globally routable unicast addresses by default.

A report link on a portal could point anywhere, including into the network nianbao runs in
(a cloud's instance metadata at 169.254.169.254 or, on Alibaba Cloud, 100.100.100.200). Every
URL — Scrapy's requests and their redirect hops, robots.txt, Chromium's requests, one-off
fetches — is resolved and checked here, with the one per-site decision ``allowed`` (the
process-wide ``--allow-host`` plus the site entry's own ``allow_private``).

An address is public when :mod:`ipaddress` calls it global and it is neither multicast nor in
a range that ``is_global`` misses (carrier-grade NAT 100.64.0.0/10, the IETF protocol block
192.0.0.0/24); IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are
judged by the IPv4 address they carry.

The addresses a name resolved to when it was checked are remembered (``pinned``), so the
connection goes to the address that was checked, not to a second, different DNS answer
(DNS rebinding): ``crawler/resolver.py`` gives them to Scrapy, ``crawler/single_fetch.py``
connects to them directly.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NOT_GLOBAL = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT; Alibaba Cloud metadata
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_pins: dict[str, tuple[str, ...]] = {}
_pins_lock = threading.Lock()


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client behind the Teredo relay
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None when it is."""
    inner = _embedded_v4(ip)
    if inner is not None:
        why = address_problem(inner)
        return f"{why} carried in {ip}" if why else None
    if ip.is_multicast:
        return "multicast"
    if any(ip in net for net in _NOT_GLOBAL if net.version == ip.version):
        return "not globally routable"
    if not ip.is_global:
        if ip.is_loopback:
            return "loopback"
        if ip.is_link_local:
            return "link-local"
        return "not globally routable"
    return None


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (a literal address resolves to itself)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def check_host(host: str, port: int, allowed: Iterable[str] = frozenset(),
               via_proxy: bool = False) -> tuple[str | None, tuple[str, ...]]:
    """(why ``host`` must not be contacted or None, the addresses that were checked).

    ``allowed`` lists non-public hosts or addresses a site entry (or a test) opts into. With
    ``via_proxy`` a name that does not resolve here is left to the proxy, which resolves it;
    literal addresses and names that do resolve are still checked.
    """
    allowed = frozenset(a.lower() for a in allowed)
    host = host.lower().rstrip(".")
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        if via_proxy:
            return None, ()
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"host {host} does not resolve ({reason})", ()
    for address in addresses:
        if host in allowed or address in allowed:
            continue
        why = address_problem(ipaddress.ip_address(address))
        if why:
            return f"host {host} resolves to a non-public address ({address}: {why})", ()
    with _pins_lock:
        _pins[host] = tuple(addresses)
    return None, tuple(addresses)


def forbidden_address(url: str, allowed: Iterable[str] = frozenset(),
                      via_proxy: bool = False) -> str | None:
    """Return why ``url`` must not be fetched, or None when it may be."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'} is not fetched"
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return f"URL has a bad port ({exc})"
    if not host:
        return "URL has no host"
    why, _ = check_host(host, port or (443 if parts.scheme == "https" else 80), allowed,
                        via_proxy)
    return why


def pinned(host: str) -> tuple[str, ...]:
    """The addresses ``host`` was checked at (empty if it never passed the guard here)."""
    with _pins_lock:
        return _pins.get(host.lower().rstrip("."), ())


def allowance(process_wide: Iterable[str], site_allowed: Iterable[str] = ()) -> frozenset[str]:
    """The one allowance a request of a site is judged with: ``--allow-host`` / settings hosts
    and the site entry's ``allow_private``."""
    return frozenset(process_wide) | frozenset(site_allowed)
