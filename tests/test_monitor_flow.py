"""The main job end to end on the replica portals: versions stored by a bare `nianbao crawl`
(what a `nianbao run` killed between its crawl and its later stages leaves behind) carry their
events already, and the next `nianbao run` alerts them — the sites' first crawl as one baseline
digest per site, per the baseline rule; a silent revision found by the next crawl yields exactly
one `revised_report` alert naming the changed figure (plus the `failed_checks` alert its
unbalanced table deserves); nothing is ever sent twice.
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


def events(db: str) -> list[tuple[str, str, str, bool]]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT kind, site_id, dedupe_key, baseline FROM events ORDER BY id")).all()
    engine.dispose()
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


def test_crawled_versions_are_alerted_by_the_next_run_once(replica, test_settings, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    hook = Webhook()
    hook.up()
    try:
        nianbao(["subscribe", "add", "newsroom", hook.url, "--db", db], test_settings)
        sites = [arg for site_id in replica_site_ids(replica) for arg in ("--site", site_id)]
        where = ["--db", db, "--archive", str(tmp_path / "archive"), "--proxy",
                 replica.proxy_url, *sites]
        run = ["run", *where, "--as-of", "2024-04-15"]

        nianbao(["crawl", *where], test_settings)
        first = events(db)
        kinds = [kind for kind, *_ in first]
        assert kinds.count("new_report") == len(replica.manifest()["reports"])
        assert all(baseline for *_, baseline in first), "a site's first crawl is its baseline"
        assert hook.received == []  # a crawl alone sends nothing

        done = nianbao(run, test_settings)
        titles = [m["title"] for m in hook.received]
        digests = sorted(t.split("：")[0] for t in titles if t.startswith("【开始监测】"))
        with_baseline = sorted({site for _, site, _, baseline in events(db) if baseline})
        assert digests == [f"【开始监测】{site}" for site in with_baseline], done.stdout
        # News beside the baseline: longgang's second column, which the replica does not
        # serve, answered 404 and could not be rediscovered.
        news = [(kind, site) for kind, site, _, baseline in events(db) if not baseline]
        assert news == [("column_moved", "longgang")], news
        assert sorted(t for t in titles if not t.startswith("【开始监测】")) == [
            "【年报栏目已迁移】longgang"]
        sent = len(hook.received)

        replica.revise("000", "requests.new.total", 52)
        nianbao(["crawl", *where], test_settings)
        added = [kind for kind, _, _, baseline in events(db) if not baseline]
        assert sorted(added) == ["column_moved", "failed_checks", "revised_report"]
        assert len(hook.received) == sent  # stored with their events, not yet delivered

        nianbao(run, test_settings)
        new = hook.received[sent:]
        assert sorted(m["title"] for m in new) == [
            "【年报数据未通过校验】晋城市城区人民政府 2023年度",
            "【年报被修改】晋城市城区人民政府 2023年度"]
        revised = next(m for m in new if "年报被修改" in m["title"])
        body = revised["title"] + revised["message"]
        assert "晋城市城区人民政府" in body and "51" in body and "52" in body, body
        assert "修改前存档：" in body and "发现修改：" in body
        assert len(hook.received) == sent + 2, "each event alerted once"
    finally:
        replica.revise("000", "requests.new.total", 51)
        hook.down()
