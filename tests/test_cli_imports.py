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
         "apprise", "warcio", "playwright", "pdfplumber", "docx", "numpy",
         "asyncio", "ssl", "logging")  # the standard library's heaviest (asyncio ~25 ms)


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
    assert commands == ["nianbao.commands.cli"]


def test_a_parse_run_leaves_the_parser_to_its_workers(tmp_path) -> None:
    """``nianbao parse`` reads its files and prints the records; the readers, lxml and
    trafilatura are imported by the parse workers only (the command's own process would pay
    for them a second time, beside the workers' start)."""
    from tests.mockserver import render

    page = tmp_path / "report.html"
    page.write_text(render.render_html(render.seed_ids()[0], style="word"), encoding="utf-8")
    code = (
        "import contextlib, io, json, sys\n"
        "from nianbao.commands.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    status = main(['parse', '--json', {str(page)!r}])\n"
        "print(json.dumps([status, json.loads(out.getvalue())['format'],\n"
        "                  sorted(m for m in sys.modules if m.startswith('nianbao.parsers.')),\n"
        "                  sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    status, fmt, parsers, loaded = probe(code)
    assert status == 0 and fmt in ("2019", "2021")  # the page was parsed, by a worker
    assert not {"lxml", "trafilatura"} & set(loaded), loaded
    assert "nianbao.parsers.pipeline" not in parsers and not any(
        m.startswith("nianbao.parsers.readers") for m in parsers), parsers


def test_a_command_builds_only_its_own_parser() -> None:
    """``nianbao crawl`` (and every other command) reads its arguments with its own module's
    subparsers alone, the same as the full command line's, and imports no other command."""
    code = (
        "import json, sys\n"
        "from nianbao.commands.cli import GROUPS, build_parser\n"
        "def helps(parser):\n"
        "    sub = next(a for a in parser._actions if a.dest == 'command')\n"
        "    return {name: p.format_help() for name, p in sub.choices.items()}\n"
        "full = helps(build_parser())\n"
        "same = all(helps(build_parser(only=GROUPS[w]))[w] == full[w] for w in GROUPS)\n"
        "for name in [m for m in sys.modules if m.startswith('nianbao.commands.')]:\n"
        "    del sys.modules[name]\n"
        "from nianbao.commands.cli import build_parser\n"
        "args = build_parser(only='crawl').parse_args(['crawl', '--site', 'x'])\n"
        "print(json.dumps([same, sorted(full), args.site, args.func.__module__,\n"
        "                  sorted(m for m in sys.modules if m.startswith('nianbao.commands.'))]))\n"
    )
    same, words, site, module, commands = probe(code)
    assert same and set(words) > {"parse", "crawl", "enqueue", "feed", "archive"}
    assert site == ["x"] and module == "nianbao.commands.crawl"
    assert commands == ["nianbao.commands.cli", "nianbao.commands.crawl"]
