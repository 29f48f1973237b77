"""Readers on files made here: a DOCX with merged cells built with python-docx, and what
LibreOffice, pypdfium2 and Pillow make of it (PDF, .doc, cid-only PDF, scanned PDF, PNG).

Every format must give the same table: the rows of the cells that start in them, merged cells
once, a blank cell kept blank where the reader can see the grid.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import pypdfium2
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree
from PIL import Image, ImageDraw

from nianbao.parsers.document import Paragraph, Table
from nianbao.parsers.errors import ParseError
from nianbao.parsers.readers import legacy
from nianbao.parsers.readers import pdf as pdf_reader
from nianbao.parsers.readers.docx import read_docx
from nianbao.parsers.readers.layout import Box, find_grids, group_lines, layout
from nianbao.parsers.readers.legacy import convert_to_docx
from nianbao.parsers.readers.ocr import read_image
from nianbao.parsers.readers.pdf import read_pdf
from nianbao.parsers.values import collapse
from tests.conftest import require_tool

LABEL = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
ROWS = [
    [LABEL, "申请人情况"],
    ["自然人", "法人或其他组织", "总计"],
    ["一、本年新收政府信息公开申请数量", "45", "6", "51"],
    ["二、上年结转政府信息公开申请数量", "0", "", "0"],
    ["结果纠正", "1", "2", "3"],
]
HEADING = "三、收到和处理政府信息公开申请情况"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
SENTENCE = "2023年，共发布各类信息5432条，其中HTTP GET请求12次。"


def make_docx() -> bytes:
    """A report fragment: title, heading, a table 三-like grid with a vertical merge, a
    horizontal span, a blank cell, a label broken over two lines, and a nested table."""
    d = docx.Document()
    d.add_heading("某某区人民政府2023年政府信息公开工作年度报告", level=1)
    d.add_paragraph("一、总体情况")
    d.add_paragraph("2023年，共发布各类信息 5432 条，其中 HTTP GET 请求 12 次。")
    d.add_paragraph(HEADING)
    t = d.add_table(rows=5, cols=4)
    t.style = "Table Grid"
    t.cell(0, 0).merge(t.cell(1, 0)).text = LABEL
    t.cell(0, 1).merge(t.cell(0, 3)).text = "申请人情况"
    for col, text in enumerate(["自然人", "法人或其他组织", "总计"], start=1):
        t.cell(1, col).text = text
    for row, values in ((2, ROWS[2]), (3, ROWS[3])):
        for col, text in enumerate(values):
            t.cell(row, col).text = text
    run = t.cell(4, 0).paragraphs[0].add_run("结果")
    run.add_break()
    run.add_text("纠正")
    for col, text in enumerate(["1", "2", "3"], start=1):
        t.cell(4, col).text = text
    d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    d.core_properties.modified = dt.datetime(2024, 1, 20, 8, 0)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def soffice_convert(data: bytes, suffix: str, target: str, tmp: Path) -> bytes:
    soffice = require_tool("soffice", "LibreOffice converts the test DOCX to PDF and .doc")
    src = tmp / f"report.{suffix}"
    src.write_bytes(data)
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(tmp),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return (tmp / f"report.{target.split(':')[0]}").read_bytes()


def norm(text: str) -> str:
    """OCR reads full-width brackets and punctuation either way."""
    return text.translate(str.maketrans("（）：，", "():,"))


@pytest.fixture(scope="module")
def docx_bytes() -> bytes:
    return make_docx()


@pytest.fixture(scope="module")
def pdf_bytes(docx_bytes: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return soffice_convert(docx_bytes, "docx", "pdf", tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def doc_bytes(docx_bytes: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return soffice_convert(docx_bytes, "docx", "doc:MS Word 97", tmp_path_factory.mktemp("doc"))


@pytest.fixture(scope="module")
def page_image(pdf_bytes: bytes) -> Image.Image:
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return pdf[0].render(scale=200 / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


# --- DOCX -------------------------------------------------------------------------------------


def test_collapse_joins_chinese_and_keeps_latin_spaces():
    assert collapse("结果\n纠正") == "结果纠正"
    text = " 共发布 5432 条，其中 HTTP  GET 请求\t12 次 "
    assert collapse(text) == "共发布5432条，其中HTTP GET请求12次"


def test_docx_blocks_in_order_with_merged_cells_once(docx_bytes: bytes):
    doc = read_docx(docx_bytes)
    assert doc.kind == "docx"
    assert doc.title_hint == "某某区人民政府2023年政府信息公开工作年度报告"
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Paragraph"] * 4 + ["Table", "Paragraph"]
    assert doc.blocks[2] == Paragraph(SENTENCE)
    assert doc.blocks[3] == Paragraph(HEADING)
    table = doc.blocks[4]
    assert isinstance(table, Table) and table.positional
    assert table.rows == ROWS
    assert (doc.dates[0].source, doc.dates[0].value) == ("docx:modified", "2024-01-20")


def test_docx_nested_table_is_flattened_into_its_cell():
    d = docx.Document()
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "外层"
    inner = t.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "内"
    inner.cell(0, 1).text = "表"
    out = io.BytesIO()
    d.save(out)
    assert read_docx(out.getvalue()).tables[0].rows == [["外层", "内表"]]


def test_docx_vmerge_continuation_row_without_restart_value():
    """``<w:vMerge/>`` with no val continues; ``w:val="restart"`` starts a merged cell."""
    d = docx.Document()
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "甲", "乙"
    t.cell(1, 1).text = "丙"
    for row, val in ((0, "restart"), (1, None)):
        merge = OxmlElement("w:vMerge")
        if val:
            merge.set(qn("w:val"), val)
        t.cell(row, 0)._tc.get_or_add_tcPr().append(merge)
    out = io.BytesIO()
    d.save(out)
    assert read_docx(out.getvalue()).tables[0].rows == [["甲", "乙"], ["丙"]]


def _with_members(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """``data`` (a DOCX) with members replaced by name; None drops one."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: replace.get(n, zf.read(n)) for n in zf.namelist()}
    return _zip({n: v for n, v in members.items() if v is not None})


def _titled_docx(style_id: str, style_name: str | None = None) -> bytes:
    """A body paragraph, then the title styled ``style_id``; ``style_name``: the styles part
    gives that id this name (as Chinese Word names heading 1's id "1")."""
    d = docx.Document()
    d.add_paragraph("正文在前")
    title = d.add_paragraph("某某县2023年政府信息公开工作年度报告")
    if style_name is not None:
        style = d.styles.add_style("Custom", WD_STYLE_TYPE.PARAGRAPH)
        style.element.set(qn("w:styleId"), style_id)
        style.element.find(qn("w:name")).set(qn("w:val"), style_name)
    p_pr = title._p.get_or_add_pPr()
    p_style = OxmlElement("w:pStyle")
    p_style.set(qn("w:val"), style_id)
    p_pr.insert(0, p_style)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("style_id", "style_name", "title"), [
    ("Title", None, True),  # Word's own id: the styles part is not needed
    ("Heading1", None, True),
    ("1", "heading 1", True),  # Chinese Word's id of heading 1, named in the styles part
    ("a3", "Title", True),
    ("a5", "Body Text", False),
])
def test_docx_title_by_style(style_id, style_name, title):
    doc = read_docx(_titled_docx(style_id, style_name))
    assert doc.title_hint == ("某某县2023年政府信息公开工作年度报告" if title else None)
    assert doc.notes == []


def test_docx_broken_styles_part_is_noted_only_where_the_title_needs_it():
    """A styles part that is not XML: the body is read all the same; where a paragraph's
    style must be looked up there, a note says the title was found by Word's own ids only."""
    broken = {"word/styles.xml": b"<w:styles"}
    needed = read_docx(_with_members(_titled_docx("1", "heading 1"), broken))
    assert needed.title_hint is None
    assert needed.paragraphs[:1] == ["正文在前"]
    assert len(needed.notes) == 1
    assert needed.notes[0].startswith("docx: DOCX member word/styles.xml is not well-formed")
    assert needed.notes[0].endswith("the title is found by Word's own style ids only")
    unneeded = read_docx(_with_members(_titled_docx("Title"), broken))
    assert unneeded.title_hint == "某某县2023年政府信息公开工作年度报告"
    assert unneeded.notes == []
    missing = read_docx(_with_members(_titled_docx("1", "heading 1"), {"word/styles.xml": None}))
    assert (missing.title_hint, missing.notes) == (None, [])


def test_docx_body_outside_the_wordprocessingml_namespace_has_no_blocks():
    """A ``document.xml`` in no namespace is not WordprocessingML: nothing is read from it
    (and nothing fails on the way)."""
    data = _with_members(_titled_docx("Title"), {
        "word/document.xml": b"<document><body><p><r><t>x</t></r></p></body></document>"})
    assert read_docx(data).blocks == []


def test_docx_text_box_paragraphs_once_and_apart():
    """A text box (``mc:AlternateContent``): its paragraphs each start a line, its
    ``mc:Fallback`` copy is skipped, tabs and breaks are kept."""
    d = docx.Document()
    p = d.add_paragraph("框前")
    box = etree.fromstring(
        f'<w:r xmlns:w="{W_NS}" xmlns:mc="{MC_NS}"><mc:AlternateContent>'
        '<mc:Choice Requires="wps"><w:drawing><w:txbxContent>'
        "<w:p><w:r><w:t>A1</w:t><w:tab/><w:t>B2</w:t><w:br/><w:t>C3</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>D4</w:t></w:r></w:p>"
        "</w:txbxContent></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>FALLBACK</w:t></w:r></w:p>"
        "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>")
    p._p.append(box)
    p._p.append(etree.fromstring(f'<w:r xmlns:w="{W_NS}"><w:t>框后</w:t></w:r>'))
    out = io.BytesIO()
    d.save(out)
    texts = read_docx(out.getvalue()).paragraphs
    assert texts == ["框前A1 B2 C3 D4框后"]  # tab, break and paragraph: a space each


def _declare_sizes(data: bytes, sizes: dict[str, int], *, stored: bool = False) -> bytes:
    """Rewrite central-directory uncompressed sizes, as a zip bomb would declare them
    (``stored``: the compressed sizes too, so no compression ratio gives it away)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        name = bytes(out[pos + 46 : pos + 46 + name_len]).decode()
        if name in sizes:
            struct.pack_into("<I", out, pos + 24, sizes[name])
            if stored:
                struct.pack_into("<I", out, pos + 20, sizes[name])
        pos = out.find(b"PK\x01\x02", pos + 46)
    return bytes(out)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", "not a DOCX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "legacy .doc"),
        (_zip({"word/other.xml": b"<x/>"}), "no word/document.xml"),
        (
            _declare_sizes(_zip({"word/document.xml": b"<x/>"}), {"word/document.xml": 65 << 20}),
            "declares",
        ),
        (
            _declare_sizes(
                _zip({"word/document.xml": b"<x/>", **{f"m{i}": b"x" for i in range(5)}}),
                {f"m{i}": 60 << 20 for i in range(5)},
                stored=True,
            ),
            "uncompressed",
        ),
        (_zip({"word/document.xml": b"<x/>", "pad.bin": b"\0" * (2 << 20)}), "compresses"),
    ],
)
def test_docx_rejects_non_docx_and_zip_bombs(data: bytes, message: str):
    with pytest.raises(ParseError) as err:
        read_docx(data)
    assert err.value.reason == "unreadable"
    assert message in err.value.message


# --- layout (no OCR needed) -------------------------------------------------------------------


def test_layout_joins_wrapped_prose_and_keeps_headings_apart():
    h = 16.0

    def line(text: str, x0: float, top: float) -> list[Box]:
        return [Box(text, x0, top, x0 + h * len(text), top + h)]

    lines = [
        line("三、收到和处理政府信息公开申请情况", 32, 0),
        line("本年度共收到申请五十一件，其中自然人", 32, 28),
        line("四十五件，法人六件。", 0, 56),
        line("（一）予以公开", 32, 84),
    ]
    edges = (0.0, 32 + h * 18)
    assert layout(lines, edges) == [
        Paragraph(HEADING),
        Paragraph("本年度共收到申请五十一件，其中自然人四十五件，法人六件。"),
        Paragraph("（一）予以公开"),
    ]


def test_layout_turns_aligned_segments_into_an_unruled_table():
    def seg(text: str, x0: float, top: float) -> Box:
        return Box(text, x0, top, x0 + 10 * len(text), top + 10)

    boxes = [seg("行政处罚", 0, 0), seg("1264", 200, 1), seg("行政强制", 0, 20), seg("0", 200, 19)]
    (table,) = layout(group_lines(boxes), (0.0, 240.0))
    assert table == Table([["行政处罚", "1264"], ["行政强制", "0"]], positional=False)


def test_find_grids_reads_merged_cells_from_ruled_lines():
    """A 3x3 grid: the top row's second cell spans two columns, and the first column's cell
    in the middle row merges with the one below it."""
    image = Image.new("L", (700, 400), 255)
    draw = ImageDraw.Draw(image)
    xs, ys = (50, 250, 450, 650), (50, 150, 250, 350)
    for y in ys:
        x_from = xs[1] if y == ys[2] else xs[0]  # no rule under the merged first-column cell
        draw.line([(x_from, y), (xs[-1], y)], fill=0, width=2)
    for x in xs:
        y_from = ys[1] if x == xs[2] else ys[0]  # no rule inside the spanning top-right cell
        draw.line([(x, y_from), (x, ys[-1])], fill=0, width=2)
    draw.line([(xs[0], ys[0]), (xs[0], ys[-1])], fill=0, width=2)
    ((bbox, rows),) = find_grids(image, text_height=30)
    assert [len(row) for row in rows] == [2, 3, 2]
    assert rows[0][1][2] > 640  # the spanning cell reaches the right edge
    assert rows[1][0][3] > 340  # the merged first-column cell reaches the bottom rule
    assert bbox[0] <= 50 and bbox[2] >= 650


# --- PDF --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_pdf_text_layer_gives_the_docx_table(pdf_bytes: bytes):
    doc = read_pdf(pdf_bytes)
    assert doc.kind == "pdf"
    assert doc.notes == []
    assert HEADING in doc.paragraphs
    assert SENTENCE in doc.paragraphs
    (table,) = doc.tables
    assert table.positional
    assert table.rows == ROWS
    index = doc.blocks.index(table)
    assert doc.blocks[index - 1] == Paragraph(HEADING)
    assert doc.blocks[index + 1] == Paragraph("四、政府信息公开行政复议、行政诉讼情况")


@pytest.mark.slow
def test_pdf_table_cut_by_page_breaks_is_joined_without_repeated_header(tmp_path: Path):
    d = docx.Document()
    d.add_paragraph(HEADING)
    t = d.add_table(rows=120, cols=3)
    t.style = "Table Grid"
    header = t.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeat on each page
    for col, text in enumerate(["事项", "本年", "上年"]):
        header.cells[col].text = text
    for i in range(1, 120):
        for col, text in enumerate([f"第{i}项", str(i), str(2 * i)]):
            t.cell(i, col).text = text
    out = io.BytesIO()
    d.save(out)
    data = soffice_convert(out.getvalue(), "docx", "pdf", tmp_path)
    assert len(pypdfium2.PdfDocument(data)) >= 3
    doc = read_pdf(data)
    (table,) = doc.tables
    assert table.rows == read_docx(out.getvalue()).tables[0].rows
    assert len(table.rows) == 120
    assert any(
        re.fullmatch(r"pdf: [2-9] table\(s\) cut by a page break joined", n) for n in doc.notes
    )


@pytest.mark.slow
def test_pdf_glyphs_are_pdfplumbers_chars_and_its_tables_unchanged(pdf_bytes: bytes):
    """The reader reads glyphs from pdfminer's layout, not from pdfplumber's per-glyph dicts:
    the same glyphs, and pdfplumber still finds the same ruled tables, edges and images."""
    import pdfplumber

    with (
        pdfplumber.open(io.BytesIO(pdf_bytes)) as ours,
        pdfplumber.open(io.BytesIO(pdf_bytes)) as plain,
    ):
        assert len(ours.pages) == len(plain.pages)
        for mine, theirs in zip(ours.pages, plain.pages, strict=True):
            assert pdf_reader._chars(mine) == [
                (c["text"], c["x0"], c["top"], c["x1"], c["bottom"]) for c in theirs.chars
            ]
            assert mine.edges == theirs.edges
            assert mine.images == theirs.images
            assert [(t.bbox, t.cells) for t in mine.find_tables()] == [
                (t.bbox, t.cells) for t in theirs.find_tables()
            ]


def test_table_rows_takes_the_glyphs_inside_each_cell_in_page_order():
    """Rows look only at the glyphs near them: the same cells' texts as testing every glyph
    against every cell, whatever the order of the glyphs, merged cells and odd coordinates."""
    import random

    from nianbao.parsers.readers.layout import inside, join_glyphs, table_rows

    rng = random.Random(12)
    nan = float("nan")
    for _ in range(200):
        glyphs = [
            Box(rng.choice("一二三45"), x, y, x + rng.uniform(1, 9), y + rng.uniform(1, 9))
            for x, y in ((rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(60))
        ]
        glyphs += [Box("六", nan, nan, 5, 5), Box("七", 5, nan, 9, 9), Box("八", nan, 5, 9, 9)]
        rng.shuffle(glyphs)
        rows = []
        for _ in range(rng.randint(0, 6)):
            top = rng.uniform(-5, 100)
            rows.append([
                (x0, top, x0 + rng.uniform(0, 40), top + rng.uniform(0, 40))
                for x0 in (rng.uniform(-5, 100) for _ in range(rng.randint(0, 4)))
            ])
        rows.append([(nan, 0.0, 50.0, 50.0), (0.0, 10.0, 60.0, 90.0)])
        naive = [
            [collapse("\n".join(join_glyphs(line) for line in group_lines(
                [g for g in glyphs if inside(g, cell)]))) for cell in row]
            for row in rows
        ]
        assert table_rows(rows, glyphs) == naive


@pytest.mark.slow
def test_pdf_uses_pdfium_when_pdfminer_sees_only_cid(pdf_bytes: bytes, monkeypatch):
    monkeypatch.setattr(pdf_reader, "_plumber_glyphs", lambda page: ([], 500))
    doc = read_pdf(pdf_bytes)
    assert any("pdfium" in note for note in doc.notes)
    assert doc.tables[0].rows == ROWS
    assert HEADING in doc.paragraphs


@pytest.mark.slow
def test_pdf_without_tounicode_is_ocred_inside_the_pdf_grid(pdf_bytes: bytes):
    """Stripping /ToUnicode leaves pdfminer with (cid:N) and pdfium with glyph ids."""
    assert b"/ToUnicode" in pdf_bytes
    doc = read_pdf(pdf_bytes.replace(b"/ToUnicode", b"/ToUnicodX"))
    assert doc.kind == "pdf-ocr"
    assert any("neither pdfminer nor pdfium" in note for note in doc.notes)
    assert re.search(r"ocr: \d+ boxes, mean score 0\.9\d|1\.00", doc.notes[-1])
    (table,) = doc.tables
    assert table.positional
    assert [[norm(c) for c in row] for row in table.rows] == [
        [norm(c) for c in row] for row in ROWS
    ]
    assert HEADING in doc.paragraphs


@pytest.mark.slow
def test_image_only_pdf_is_ocred_with_its_ruled_table(page_image: Image.Image):
    scanned = io.BytesIO()
    page_image.save(scanned, "PDF", resolution=200)
    doc = read_pdf(scanned.getvalue())
    assert doc.kind == "pdf-ocr"
    assert "pdf: no text layer on pages 1; OCR'd" in doc.notes
    (table,) = doc.tables
    assert table.positional
    assert [[norm(c) for c in row] for row in table.rows] == [
        [norm(c) for c in row] for row in ROWS
    ]
    assert HEADING in doc.paragraphs
    assert "2023年，共发布各类信息5432条，其中HTTP GET请求12次。" in doc.paragraphs


@pytest.mark.parametrize("cut", [0, 200, 5000])
def test_truncated_pdf_is_unreadable(cut: int):
    data = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" * 100
    with pytest.raises(ParseError) as err:
        read_pdf(data[:cut])
    assert err.value.reason == "unreadable"
    assert err.value.message.startswith("PDF is corrupt or truncated")


@pytest.mark.slow
def test_password_protected_pdf_is_unreadable(docx_bytes: bytes, tmp_path: Path):
    options = (
        '{"EncryptFile":{"type":"boolean","value":"true"},'
        '"DocumentOpenPassword":{"type":"string","value":"secret"}}'
    )
    data = soffice_convert(docx_bytes, "docx", f"pdf:writer_pdf_Export:{options}", tmp_path)
    with pytest.raises(ParseError) as err:
        read_pdf(data)
    assert (err.value.reason, err.value.message) == (
        "unreadable",
        "PDF is encrypted: it needs a password",
    )


@pytest.mark.slow
def test_half_a_real_pdf_is_unreadable(pdf_bytes: bytes):
    with pytest.raises(ParseError) as err:
        read_pdf(pdf_bytes[: len(pdf_bytes) // 2])
    assert err.value.reason == "unreadable"


# --- images -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_png_is_ocred_into_paragraphs_and_table(page_image: Image.Image):
    png = io.BytesIO()
    page_image.save(png, "PNG")
    doc = read_image(png.getvalue())
    assert doc.kind == "image"
    assert re.fullmatch(r"ocr: \d+ boxes, mean score (0\.9\d|1\.00)", doc.notes[0])
    assert doc.paragraphs[:2] == ["某某区人民政府2023年政府信息公开工作年度报告", "一、总体情况"]
    assert [row[1:] for row in doc.tables[0].rows[2:]] == [r[1:] for r in ROWS[2:]]


def test_image_errors_are_parse_errors(monkeypatch):
    with pytest.raises(ParseError) as err:
        read_image(b"\x89PNG\r\n\x1a\nnot really")
    assert err.value.reason == "unreadable"
    big = io.BytesIO()
    Image.new("L", (400, 400), 255).save(big, "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ParseError) as err:
        read_image(big.getvalue())
    assert err.value.reason == "too-large"


# --- legacy formats ---------------------------------------------------------------------------


@pytest.mark.slow
def test_doc_converts_to_the_same_table(doc_bytes: bytes):
    assert doc_bytes.startswith(b"\xd0\xcf\x11\xe0")
    doc = read_docx(convert_to_docx(doc_bytes, ".doc"))
    assert doc.tables[0].rows == ROWS
    assert HEADING in doc.paragraphs


@pytest.mark.slow
def test_concurrent_conversions_each_succeed(doc_bytes: bytes):
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: convert_to_docx(doc_bytes, "doc"), range(3)))
    assert [read_docx(r).tables[0].rows for r in results] == [ROWS] * 3


@pytest.mark.slow
def test_conversion_timeout_and_garbage(doc_bytes: bytes):
    require_tool("soffice", "LibreOffice converts .doc files")
    with pytest.raises(ParseError) as err:
        convert_to_docx(doc_bytes, "doc", timeout=0.2)
    assert err.value.reason == "timeout"
    with pytest.raises(ParseError) as err:
        convert_to_docx(b"\x00\x01garbage" * 100, "doc")
    assert err.value.reason == "unreadable"
    with pytest.raises(ParseError) as err:
        convert_to_docx(b"", "doc")
    assert err.value.reason == "unreadable"


def test_missing_libreoffice_is_reported(monkeypatch):
    monkeypatch.setattr(legacy.shutil, "which", lambda name: None)
    with pytest.raises(ParseError) as err:
        convert_to_docx(b"{\\rtf1 x}", "rtf")
    assert err.value.reason == "converter-missing"
    assert "libreoffice-writer-nogui" in err.value.message
