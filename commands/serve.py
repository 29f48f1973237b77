"""``nianbao serve``: the web app (pages, API, feeds, exports) over the database and archive."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from nianbao.settings import archive_dir, settings


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: settings or NIANBAO_DATABASE_URL)")
    parser.add_argument("--archive", type=Path, help="WARC directory (default: settings)")
    parser.add_argument("--host", help="address to listen on (default: web.host)")
    parser.add_argument("--port", type=int, help="port (default: web.port)")
    parser.add_argument("--hash-token", action="store_true",
                        help="read a token from the terminal and print the web.users value "
                             "for it, then exit")


def cmd_serve(args: argparse.Namespace) -> int:
    from nianbao.web.auth import hash_token

    if args.hash_token:
        print(hash_token(getpass.getpass("token: ")))
        return 0
    import uvicorn

    from nianbao.storage.db import DatabaseMissing, open_existing
    from nianbao.storage.labels import sync_labels
    from nianbao.web.app import create_app

    conf = dict(settings().get("web") or {})
    try:
        engine = open_existing(args.db)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    sync_labels(engine)
    app = create_app(engine, args.archive or archive_dir(), conf)
    host, port = args.host or conf.get("host", "127.0.0.1"), args.port or conf.get("port", 8000)
    print(f"nianbao serve: http://{host}:{port}/", file=sys.stderr)
    uvicorn.run(app, host=host, port=int(port), log_level="warning", server_header=False)
    engine.dispose()
    return 0
