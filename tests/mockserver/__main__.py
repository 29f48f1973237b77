"""``python -m tests.mockserver [--port N]``: run the replica server in the foreground (for
manual use), printing its proxy URL first; ``--manifest`` prints the answer key."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Sequence

from tests.mockserver.proxy import ReplicaServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replicas", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--manifest", action="store_true", help="print the manifest and exit")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)
    server = ReplicaServer(args.port, verbose=not args.quiet)
    if args.manifest:
        json.dump(server.manifest(), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    with server:
        print(server.proxy_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
