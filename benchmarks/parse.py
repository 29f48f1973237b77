"""Parsing speed per input kind on the five seed reports and their renderings.

Prints reports/second (one core, in-process, no subprocess sandbox) for plain text, HTML
(three CMS styles), DOCX and text-layer PDF, and — as the named baseline measured in the same
run — how fast lxml alone parses the same HTML pages. The ratio says what our whole pipeline
(decode, DOM tables, trafilatura main text, table reading, repair, checks) costs over a bare
HTML parse.

    .venv/bin/python benchmarks/parse.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from nianbao.parsers.pipeline import parse_bytes  # noqa: E402
from tests.mockserver import render  # noqa: E402


def rate(docs: list[bytes], work: Callable[[bytes], object], seconds: float) -> float:
    """Documents per second, cycling over ``docs`` for at least ``seconds``."""
    for d in docs:  # warm-up: imports, caches
        work(d)
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or n < len(docs):
        work(docs[n % len(docs)])
        n += 1
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    ids = render.seed_ids()
    inputs: dict[str, list[bytes]] = {
        "text (seed)": [(render.fixtures_dir() / "seeds" / f"{i}.txt").read_bytes() for i in ids],
    }
    for style in ("trs", "word", "borderless"):
        inputs[f"html ({style})"] = [render.render_html(i, style=style).encode() for i in ids]
    inputs["html (gbk, undeclared)"] = [render.render_gbk_html(i) for i in ids]
    with tempfile.TemporaryDirectory() as tmp:
        docx = []
        for i in ids:
            render.render_docx(i, Path(tmp) / f"{i}.docx")
            docx.append((Path(tmp) / f"{i}.docx").read_bytes())
        inputs["docx"] = docx
        if shutil.which("soffice"):
            pdfs = []
            for i in ids:
                render.render_pdf(i, Path(tmp) / f"{i}.pdf")
                pdfs.append((Path(tmp) / f"{i}.pdf").read_bytes())
            inputs["pdf (text layer)"] = pdfs

    baseline = rate(inputs["html (trs)"], lxml.html.document_fromstring, args.seconds)
    print(f"{'input kind':26} {'reports/s':>10} {'ms/report':>10} {'× lxml-only time':>17}")
    print(f"{'baseline: lxml parse only':26} {baseline:10.1f} {1000 / baseline:10.2f} {1:17.1f}")
    for kind, docs in inputs.items():
        r = rate(docs, lambda d: parse_bytes(d, "benchmark"), args.seconds)
        print(f"{kind:26} {r:10.1f} {1000 / r:10.2f} {baseline / r:17.1f}")


if __name__ == "__main__":
    main()
