"""A DNS-rebinding resolver for tests: one name answers a first address once, then another.

``python -c CODE args…`` with ``CODE = rebinding.RUN`` runs nianbao's CLI in a process whose
system resolver (``socket.getaddrinfo`` / ``gethostbyname``, what Scrapy, Twisted and the
standard library all end in) answers ``$NIANBAO_TEST_REBIND`` = ``name=first,then``: the
first lookup of ``name`` gets ``first``, every later one ``then`` — what an attacker's DNS
server with a zero TTL does. Other names resolve normally. With
``$NIANBAO_TEST_CHROMIUM_ANSWER``, Chromium's resolver (which Python's cannot reach) answers
that address for the name: the browser's lookup is the second, different answer.
"""

from __future__ import annotations

import os
import socket
import threading

RUN = ("import sys\nfrom tests.mockserver import rebinding\nrebinding.install()\n"
       "from nianbao.commands.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def install() -> None:
    name, _, answers = os.environ["NIANBAO_TEST_REBIND"].partition("=")
    chromium = os.environ.get("NIANBAO_TEST_CHROMIUM_ANSWER")
    if chromium:  # Chromium's own resolver answers this instead (its second lookup)
        from nianbao.crawler import settings

        settings.PLAYWRIGHT_LAUNCH_OPTIONS["args"].append(
            f"--host-resolver-rules=MAP {name} {chromium}")
    first, then = answers.split(",")
    real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname
    lock = threading.Lock()
    asked = [0]

    def answer() -> str:
        with lock:
            asked[0] += 1
            return first if asked[0] == 1 else then

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host == name:
            return real_getaddrinfo(answer(), port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    def gethostbyname(host):
        return answer() if host == name else real_gethostbyname(host)

    socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
