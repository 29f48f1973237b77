"""The README's screenshots of the web app: ``docs/screenshots/*.png``.

Over a database built by ``python -m tests.webdata DIR`` (a replica crawl with one revised
report), served by the real app, photographed in Chromium and reduced to a 64-colour palette
so the images stay small:

    .venv/bin/python -m tests.webdata /tmp/webdb
    .venv/bin/python scripts/web_screenshots.py /tmp/webdb docs/screenshots
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image
from playwright.sync_api import sync_playwright
from sqlalchemy import text

from nianbao.storage.db import open_existing
from nianbao.web.app import create_app

PORT = 18765


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    engine = open_existing(f"sqlite:///{source / 'nianbao.sqlite'}")
    server = uvicorn.Server(uvicorn.Config(create_app(engine, source / "archive", {}),
                                           host="127.0.0.1", port=PORT, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with engine.connect() as conn:
        report = conn.execute(text("SELECT report_id FROM versions WHERE kind = 'revised' "
                                   "LIMIT 1")).scalar()
        version = conn.execute(text("SELECT max(id) FROM versions WHERE report_id = :r"),
                               {"r": report}).scalar()
        issuer = conn.execute(text("SELECT issuer_id FROM reports WHERE id = :r"),
                              {"r": report}).scalar()
    pages = {"overview": "/", "compliance": "/compliance", "report": f"/reports/{report}",
             "diff": f"/reports/{report}/diff", "archived": f"/versions/{version}/archive",
             "issuer": f"/issuers/{issuer}", "events": "/events"}
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        for name, path in pages.items():
            page.goto(f"http://127.0.0.1:{PORT}{path}")
            page.wait_for_load_state("networkidle")
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            Image.open(target).convert("RGB").quantize(64).save(target, optimize=True)
        browser.close()
    server.should_exit = True
    engine.dispose()


if __name__ == "__main__":
    main()
