"""The main job end to end: `nianbao run` crawls the replica portals, records events, judges
deadlines and alerts a subscriber's local JSON webhook; a silent revision on a replica then
yields exactly one `revised_report` alert naming the changed figure (plus the `failed_checks`
alert its unbalanced table deserves), and a rerun sends nothing.
"""

from __future__ import annotations

import os
import subprocess

from sqlalchemy import create_engine, text

from tests.test_alerts import Webhook
from tests.test_crawl import NIANBAO, ROOT, replica, replica_site_ids, test_settings

__all__ = ["replica", "test_settings"]  # module-scoped fixtures shared with test_crawl


def nianbao(args: list[str], settings) -> subprocess.CompletedProcess:
    env = {**os.environ, "NIANBAO_SETTINGS": str(settings)}
    done = subprocess.run([*NIANBAO, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def events(db: str) -> list[tuple[str, str]]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, dedupe_key FROM events ORDER BY id")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def test_run_alerts_once_and_a_revision_alerts_once_with_its_figure(replica, test_settings,
                                                                      tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    hook = Webhook()
    hook.up()
    try:
        nianbao(["subscribe", "add", "newsroom", hook.url, "--db", db], test_settings)
        run = ["run", "--db", db, "--archive", str(tmp_path / "archive"), "--proxy",
               replica.proxy_url, "--as-of", "2024-04-15"]
        for site_id in replica_site_ids(replica):
            run += ["--site", site_id]

        done = nianbao(run, test_settings)
        first = events(db)
        kinds = [kind for kind, _ in first]
        assert kinds.count("new_report") == len(replica.manifest()["reports"]), done.stdout
        assert "missing_report" in kinds
        assert len(hook.received) == len(first), "one alert per event"

        replica.revise("000", "requests.new.total", 52)
        nianbao(run, test_settings)
        second = events(db)
        added = [kind for kind, _ in second[len(first):]]
        # One revision; 52 new requests no longer balance the table, which is its own event.
        assert sorted(added) == ["failed_checks", "revised_report"]
        assert len(hook.received) == len(second)
        revised = [m for m in hook.received[len(first):] if "年报被修改" in m["title"]]
        assert len(revised) == 1
        body = revised[0]["title"] + revised[0]["message"]
        assert "晋城市城区人民政府" in body and "51" in body and "52" in body, body
        print(body)

        nianbao(run, test_settings)
        assert events(db) == second and len(hook.received) == len(second), "nothing twice"
    finally:
        replica.revise("000", "requests.new.total", 51)
        hook.down()
