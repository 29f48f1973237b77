"""``nianbao demo`` as a new user meets it: from an empty folder, offline, with only the
installed package — its own portal, no tests, no LibreOffice, no network, no traceback."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nianbao.commands.crawl import failure_lines, summary_lines
from nianbao.commands.demo.plan import Plan
from nianbao.commands.demo.portal import DemoPortal
from tests.conftest import ROOT, require_tool

# Runs the demo under an audit hook that records every file opened and every name resolved,
# so the test sees what the demo reads and whom it would contact, not only what it prints.
AUDITED_DEMO = textwrap.dedent("""
    import json, sys
    opened, resolved = set(), set()

    def hook(event, args):
        if event == "open" and isinstance(args[0], str):
            opened.add(args[0])
        elif event == "socket.getaddrinfo":
            resolved.add(str(args[0]))

    sys.addaudithook(hook)
    from nianbao.commands.cli import main
    code = main(["demo", "--workdir", sys.argv[1]])
    with open(sys.argv[2], "w") as f:
        json.dump({"opened": sorted(opened), "resolved": sorted(resolved)}, f)
    sys.exit(code)
""")


def nianbao(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao.commands.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """One audited demo run from an empty folder with an empty home directory."""
    require_tool("chromium", "the crawler starts Chromium with every crawl")
    folder = tmp_path_factory.mktemp("empty")
    home = tmp_path_factory.mktemp("home")
    audit = folder.parent / "audit.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIANBAO_", "TLDEXTRACT_"))}
    env.update(HOME=str(home), PYTHONPATH="")
    done = subprocess.run([sys.executable, "-c", AUDITED_DEMO, "data/demo", str(audit)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    print(done.stdout, done.stderr, sep="\n")
    return {"done": done, "folder": folder, "home": home,
            "db": f"sqlite:///{folder / 'data' / 'demo' / 'nianbao.sqlite'}",
            "audit": json.loads(audit.read_text()) if audit.exists() else None}


def test_demo_runs_from_an_empty_folder_without_a_traceback(demo):
    done = demo["done"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "Public Suffix" not in done.stderr
    assert "real failures: none" in done.stdout
    assert "failures planted on purpose (expected): 4" in done.stdout


def test_demo_reads_nothing_outside_the_package_and_contacts_no_one(demo):
    audit = demo["audit"]
    assert audit is not None, demo["done"].stderr[-3000:]
    outside = [p for p in audit["opened"] if Path(p).is_absolute() and (
        Path(p).is_relative_to(ROOT / "tests") or Path(p).is_relative_to(demo["home"])
        or (Path(p).is_relative_to(ROOT.parent) and not Path(p).is_relative_to(ROOT)))]
    assert outside == []
    names = [host for host in audit["resolved"] if host not in ("localhost", "127.0.0.1")
             and not host.replace(".", "").isdigit()]
    assert names == [], "the demo resolved host names: it must work offline"


def test_demo_stores_every_report_of_its_portal(demo):
    listing = nianbao("reports", "--db", demo["db"], "--json", cwd=demo["folder"])
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    plan = Plan.load("http://portal")
    assert {(r["site"], r["issuer"], r["report_year"]) for r in rows} == set(plan.reports)
    assert {r["format"] for r in rows} == {"2021"}


def test_demo_compliance_shows_what_its_portal_set_up(demo):
    plan = Plan.load("http://portal")
    sites = demo["folder"] / "data" / "demo" / "sites.yaml"
    check = nianbao("check", "--db", demo["db"], "--sites", str(sites), "--as-of",
                    str(plan.as_of), "--json", cwd=demo["folder"])
    assert check.returncode == 0, check.stderr
    verdicts = {(v["site_id"], v["issuer"], v["report_year"]): v
                for v in map(json.loads, check.stdout.splitlines())}
    for expected in plan.verdicts:
        verdict = verdicts[(expected["site"], expected["issuer"], expected["year"])]
        assert verdict["status"] == expected["status"], verdict
    others = [v["status"] for key, v in verdicts.items()
              if key not in {(e["site"], e["issuer"], e["year"]) for e in plan.verdicts}]
    assert others and set(others) == {"on_time"}


def test_portal_serves_its_files_and_nothing_else():
    with DemoPortal() as portal:
        host, port = portal.server.server_address[:2]

        def get(path: str, **headers: str) -> http.client.HTTPResponse:
            connection = http.client.HTTPConnection(host, port, timeout=10)
            connection.request("GET", path, headers=headers)
            return connection.getresponse()

        column = get("/jccq/xxgk/zfxxgknb/")
        body = column.read()
        assert column.status == 200 and "createPageHTML" in body.decode()
        assert column.getheader("Content-Type") == "text/html"
        assert get("/jccq/xxgk/zfxxgknb/", **{"If-None-Match": column.getheader("ETag")}
                   ).status == 304
        attachment = get("/jiyuan/uploadfiles/202403/482915.pdf")
        assert attachment.getheader("Content-Type") == "application/pdf"
        assert attachment.read().startswith(b"%PDF")
        for path in ("/jccq/xxgk/zfxxgknb/202203/t20220328_1021337.shtml", "/../plan.yaml",
                     "/%2e%2e/plan.yaml", "/..%2fsites.yaml"):
            missing = get(path)
            assert missing.status == 404 and b"plan" not in missing.read(), path


def test_planted_failures_are_labelled_and_real_ones_listed():
    plan = Plan.load("http://127.0.0.1:8000")
    dead = {"site_id": "jccq", "reason": "http-404", "detail": "HTTP 404",
            "url": "http://127.0.0.1:8000/jccq/xxgk/zfxxgknb/202203/t20220328_1021337.shtml"}
    real = {**dead, "url": "http://127.0.0.1:8000/jccq/xxgk/zfxxgknb/other.shtml"}
    lines = failure_lines([dead, real], plan.planted_as)
    assert lines[0] == "  failures planted on purpose (expected): 1"
    assert "dead link" in lines[1]
    assert lines[2:] == ["  real failures: 1", f"    jccq http-404: {real['url']} (HTTP 404)"]
    assert plan.unmet([dead]) == list(plan.planted[1:])
    run = {"id": 1, "status": "finished", "bytes_received": 10,
           "stats": {"jccq": {"pages": 3, "new": 1}}}
    assert summary_lines(run, [dead, real])[1:] == [
        "  jccq                   pages=3 new=1 revised=0 another_copy=0 unchanged=0 failures=2",
        "  failures: http-404 2"]


def test_version_is_the_package_version():
    from nianbao import __version__

    done = nianbao("--version", cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == f"nianbao {__version__}"
