"""The HTTP server class the tests' replica portals, proxies and receivers run on.

A crawl opens up to eight connections to a host at once (a browser, more through a proxy), and
socketserver's default listen backlog is 5: the kernel dropped the SYNs beyond it and each
dropped client retried a second later (its first retransmit), so a crawl stalled a second at a
time — seen as 1.0 s gaps between a list page's first eight entries and the rest in
``benchmarks/crawl.py``. A real portal's server keeps a far deeper backlog; so do these.
"""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class ReplicaHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with a deep listen backlog; its threads never hold up exit."""

    daemon_threads = True
    request_queue_size = 128
