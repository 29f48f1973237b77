"""A database and archive filled by crawling the replica portals, for the web app's tests,
its screenshots and the pywb check: ``nianbao run`` twice through the replica proxy, with a
silent revision of one report between the runs (its 本年新收申请 total becomes 52), so there
are two versions to compare, 304 revisits to replay, events, observations and verdicts.

A hostile title is then written into one stored version and issuer (what a malicious portal
could serve): every page and export must show it as text.

``python -m tests.webdata DIR`` builds one in DIR (and keeps the replica running until Enter
when ``--serve`` is given, for screenshots by hand).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from nianbao.sites import load_sites
from tests.conftest import ROOT

NIANBAO = [sys.executable, "-m", "nianbao.commands.cli"]
REVISED = ("000", "requests.new.total", 52)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&=HYPERLINK("http://e")'


@dataclass(frozen=True)
class WebData:
    db: str
    archive: Path
    settings: Path
    revised_report_id: int
    hostile_report_id: int
    before: int
    after: int


def test_settings(directory: Path) -> Path:
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["fetch"].update(delay_seconds=0, timeout_seconds=10, retries=1)
    conf["crawl"].update(render_timeout_seconds=10)
    path = directory / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def _run(replica, settings: Path, db: str, archive: Path) -> None:
    args = [*NIANBAO, "run", "--db", db, "--archive", str(archive), "--proxy",
            replica.proxy_url]
    for site in replica.served_sites(load_sites(ROOT / "config" / "sites.yaml")):
        args += ["--site", site.id]
    env = {**os.environ, "NIANBAO_SETTINGS": str(settings)}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: alerts found nowhere to go


def build(replica, directory: Path) -> WebData:
    from tests.test_crawl import gold_value

    directory.mkdir(parents=True, exist_ok=True)
    settings = test_settings(directory)
    db, archive = f"sqlite:///{directory / 'nianbao.sqlite'}", directory / "archive"
    _run(replica, settings, db, archive)
    before = gold_value(*REVISED[:2])
    replica.revise(*REVISED)
    try:
        _run(replica, settings, db, archive)
    finally:
        replica.revise(REVISED[0], REVISED[1], before)
    engine = create_engine(db)
    with engine.begin() as conn:
        revised = conn.execute(text(
            "SELECT report_id FROM versions WHERE kind = 'revised' ORDER BY id")).scalars().all()
        hostile = conn.execute(text(
            "SELECT v.report_id, r.issuer_id FROM versions v JOIN reports r ON r.id = v.report_id"
            " WHERE v.report_id NOT IN (SELECT report_id FROM versions WHERE kind = 'revised')"
            " ORDER BY v.id LIMIT 1")).one()
        conn.execute(text("UPDATE versions SET title = :t WHERE report_id = :r"),
                     {"t": HOSTILE + "年度报告", "r": hostile[0]})
        conn.execute(text("UPDATE issuers SET name = :t WHERE id = :i"),
                     {"t": HOSTILE + "人民政府", "i": hostile[1]})
        conn.execute(text("UPDATE verdicts SET issuer = :t WHERE issuer_id = :i"),
                     {"t": HOSTILE + "人民政府", "i": hostile[1]})
        conn.execute(text("UPDATE events SET payload = json_set(payload, '$.issuer', :i, "
                          "'$.title', :t) WHERE issuer_id = :id AND json_type(payload, "
                          "'$.issuer') IS NOT NULL"),
                     {"i": HOSTILE + "人民政府", "t": HOSTILE + "年度报告", "id": hostile[1]})
    engine.dispose()
    assert len(revised) == 1, revised
    return WebData(db, archive, settings, revised[0], hostile[0], before, REVISED[2])


if __name__ == "__main__":
    from tests.mockserver.proxy import ReplicaServer

    target = Path(sys.argv[1])
    with ReplicaServer(cache_dir=target / "renderings") as server:
        assert server.wait_ready()
        print(build(server, target))
        if "--serve" in sys.argv:
            input("replica running; Enter to stop")
