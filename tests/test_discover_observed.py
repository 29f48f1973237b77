"""``observed this cycle`` in discovery's coverage: a division counts when a site of its region
was read completely within ``schedule.observed_cycle_days`` — not earlier, not partly.

The observations are stored as crawls store them (``Store.record_observation``) in the
database ``nianbao discover`` is given; the walk is over the replica nation on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from nianbao.settings import settings
from nianbao.storage.db import connect, migrate
from nianbao.storage.store import Store
from tests.mockserver.nation import Nation

ROOT = Path(__file__).resolve().parents[1]


def test_observed_this_cycle_counts_complete_recent_observations(tmp_path):
    cycle = int(settings()["schedule"]["observed_cycle_days"])
    now = datetime.now(UTC)
    within, before = now - timedelta(days=cycle - 1), now - timedelta(days=cycle + 1)
    # site id, region, when observed, reached, complete
    observations = [
        ("d330100", "330100", within, True, True),    # counts
        ("d330100", "330100", now, True, True),       # the same division: counted once
        ("d330102", "330102", before, True, True),    # read completely, before this cycle
        ("d330000", "330000", now, True, False),      # this cycle, but not read completely
        ("d330000", "330000", within, False, False),  # not reached
        ("d140100", "140100", now, True, True),       # another province
    ]
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = connect(db)
    migrate(engine)
    store = Store(engine)
    for site_id in dict.fromkeys(o[0] for o in observations):
        region = next(o[1] for o in observations if o[0] == site_id)
        store.upsert_site(site_id, site_id, region, {"id": site_id}, [])
    run = store.start_run(sorted({o[0] for o in observations}))
    for site_id, _, when, reached, complete in observations:
        store.record_observation(run_id=run, site_id=site_id, column_url=f"http://{site_id}/",
                                 url=None, observed_at=when, reached=reached, complete=complete)
    engine.dispose()

    with Nation(("330000",), per_level=1) as nation:
        seeds = tmp_path / "provinces.yaml"
        seeds.write_text(yaml.safe_dump({"provinces": nation.seeds()}, allow_unicode=True),
                         encoding="utf-8")
        sites = tmp_path / "sites.yaml"
        sites.write_text("sites: []\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "nianbao.commands.cli", "discover", "--seeds", str(seeds),
             "--sites", str(sites), "--out", str(tmp_path / "out"), "--db", db,
             "--archive", str(tmp_path / "warc"), "--proxy", nation.proxy_url],
            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    [row] = json.loads((tmp_path / "out" / "coverage.json").read_text(encoding="utf-8"))
    assert row["province"] == "330000"
    assert row["columns_found"] == len(nation.govs) == 3  # every division has its column
    assert row["observed"] == 1  # only 330100: read completely within the cycle
    assert "observed" in done.stdout.splitlines()[0]
    assert done.stdout.splitlines()[1].split()[-1] == "1"
