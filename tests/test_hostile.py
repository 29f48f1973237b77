"""Hostile and broken inputs: each ends with exit 2 (or ``format: unknown``) and a clear reason,
within a time and memory bound, and never with a traceback."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from tests.conftest import FIXTURES

TIME_BOUND_S = 60
MEMORY_BOUND_MB = 1500
_RUN = (
    "import resource, sys\n"
    "from nianbao.commands.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "rss = max(resource.getrusage(r).ru_maxrss for r in "
    "(resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    "print(f'MAXRSS_KB {rss}', file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def run_parse(*args: str) -> tuple[int, str, str, float, int]:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, "parse", *args],
        capture_output=True, text=True, timeout=TIME_BOUND_S * 2,
    )
    elapsed = time.monotonic() - start
    lines = proc.stderr.splitlines()
    rss_kb = int(next(ln.split()[1] for ln in lines if ln.startswith("MAXRSS_KB")))
    stderr = "\n".join(ln for ln in lines if not ln.startswith("MAXRSS_KB"))
    return proc.returncode, proc.stdout, stderr, elapsed, rss_kb


def assert_refused(path: Path, reason: str, *extra: str) -> str:
    code, out, err, elapsed, rss_kb = run_parse(str(path), *extra)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert len(err.strip().splitlines()) == 1, err  # one line per bad input
    assert reason in err, err
    assert elapsed < TIME_BOUND_S
    assert rss_kb < MEMORY_BOUND_MB * 1024
    return err


def test_missing_file(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nope.pdf", "missing: no such file")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_bytes(b"")
    assert_refused(tmp_path / "empty.html", "unreadable: the file is empty")


def test_random_bytes(tmp_path: Path) -> None:
    rng = random.Random(7)
    (tmp_path / "noise.doc").write_bytes(bytes(rng.getrandbits(8) for _ in range(200_000)))
    assert_refused(tmp_path / "noise.doc", "unreadable: not a document")


def test_truncated_pdf(tmp_path: Path) -> None:
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
        b"4 0 obj<</Length 200>>stream\nBT /F1 12 Tf 72 700 Td (annual rep"
    )
    (tmp_path / "cut.pdf").write_bytes(pdf)
    assert_refused(tmp_path / "cut.pdf", "unreadable:")


def test_docx_zip_bomb(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b"\0" * (200 * 2**20))
    (tmp_path / "bomb.docx").write_bytes(buf.getvalue())
    assert (tmp_path / "bomb.docx").stat().st_size < 2**20
    assert_refused(tmp_path / "bomb.docx", "unreadable:")


def test_hundred_megabyte_text(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        line = "三、收到和处理政府信息公开申请情况\t0\t0\n".encode()
        for _ in range(100 * 2**20 // len(line) + 1):
            f.write(line)
    assert path.stat().st_size >= 100 * 2**20
    assert_refused(path, "too-large:")


def test_deeply_nested_html(tmp_path: Path) -> None:
    html = "<html><body>" + "<div>" * 10_000 + "二、主动公开" + "</div>" * 10_000 + "</body></html>"
    (tmp_path / "nested.html").write_text(html)
    assert_refused(tmp_path / "nested.html", "unreadable: HTML nests tags deeper")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def test_xml_entity_bomb_in_docx(tmp_path: Path) -> None:
    body = BILLION_LAUGHS + (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", body)
    (tmp_path / "lol.docx").write_bytes(buf.getvalue())
    code, _, err, elapsed, rss_kb = run_parse(str(tmp_path / "lol.docx"), "--json")
    assert code == 2 and "Traceback" not in err
    assert "unreadable" in err or "not-a-report" in err
    assert elapsed < TIME_BOUND_S and rss_kb < MEMORY_BOUND_MB * 1024


def test_xml_entity_bomb_in_html(tmp_path: Path) -> None:
    (tmp_path / "lol.html").write_text(BILLION_LAUGHS + "<html><body><p>&lol9;</p></body></html>")
    err = assert_refused(tmp_path / "lol.html", "not-a-report:")
    assert "no standard tables" in err


def test_non_report_page(tmp_path: Path) -> None:
    page = (
        "<html><head><meta name='ArticleTitle' content='某县2023年政府网站工作年度报表'></head>"
        "<body><h1>某县2023年政府网站工作年度报表</h1><table><tr><td>网站名称</td>"
        "<td>某县人民政府</td></tr><tr><td>总访问量</td><td>12345</td></tr></table></body></html>"
    )
    (tmp_path / "wzndbb.html").write_text(page)
    code, out, err, *_ = run_parse(str(tmp_path / "wzndbb.html"), "--json")
    assert code == 2 and "政府网站工作年度报表" in err
    assert '"format": "unknown"' in out


def test_per_document_timeout_kills_the_parse(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1600, 1200), "white")
    ImageDraw.Draw(img).text((50, 50), "annual report 2023", fill="black")
    img.save(tmp_path / "scan.png")
    assert_refused(tmp_path / "scan.png", "timeout: parsing took longer than 0.05 s",
                   "--timeout", "0.05")


def test_bad_inputs_do_not_stop_the_good_ones(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    seed = next((FIXTURES / "seeds").glob("003_*.txt"))
    code, out, err, *_ = run_parse(str(tmp_path / "empty.txt"), str(seed), "--json")
    assert code == 2
    assert len(out.strip().splitlines()) == 1 and '"report_year": 2023' in out
    assert err.count("\n") == 0 and "empty" in err


def test_good_input_exits_zero() -> None:
    seed = next((FIXTURES / "seeds").glob("002_*.txt"))
    code, out, err, *_ = run_parse(str(seed))
    assert code == 0 and err == "" and "曲沃县人民政府" in out
