"""The command line starts fast because each command imports its heavy modules itself: building
the parser (all that ``nianbao --help`` does) imports none of them."""

from __future__ import annotations

import json
import subprocess
import sys


def probe(code: str) -> object:
    """What a fresh interpreter running ``code`` prints, as JSON."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


HEAVY = ("yaml", "sqlalchemy", "scrapy", "twisted", "lxml", "trafilatura", "apscheduler",
         "apprise", "warcio", "playwright", "pdfplumber", "docx", "numpy")


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import json, sys\n"
        "from nianbao.commands.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    loaded = set(probe(code))
    assert "nianbao" in loaded  # the probe did import the command line
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_still_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "nianbao.commands.cli", "--help"],
                          capture_output=True, text=True, check=True)
    for command in ("parse", "crawl", "reports", "check", "demo", "schedule", "run",
                    "subscribe", "feed"):
        assert command in done.stdout


def test_a_parse_run_builds_only_the_parse_command() -> None:
    """``nianbao parse`` reads its arguments without importing the other commands' modules."""
    code = (
        "import json, sys\n"
        "from nianbao.commands.cli import build_parser\n"
        "args = build_parser(only_parse=True).parse_args(['parse', '--json', 'a.html'])\n"
        "print(json.dumps([args.inputs, args.json, sorted(m for m in sys.modules\n"
        "                  if m.startswith('nianbao.commands.'))]))\n"
    )
    inputs, as_json, commands = probe(code)
    assert inputs == ["a.html"] and as_json
    assert commands == ["nianbao.commands.cli", "nianbao.commands.summary"]
