"""Render the seed reports as HTML pages, DOCX, PDF, DOC and image-only PDF test fixtures.

The seeds in ``tests/fixtures/seeds/*.txt`` are plain text converted from real
政府信息公开工作年度报告, and ``tests/fixtures/gold/*.json`` holds their hand-checked values.
Real reports reach the parser as CMS web pages, Word files, text PDFs and scanned PDFs, so
this module renders every seed openly as each of those document kinds:

* the narrative (title, section headings, sub-headings, paragraphs, signature) is taken from
  the seed text;
* the three tables (二, 三, 四) are *not* taken from the seed text (which has lost its layout
  in conversion). They are re-drawn in the official 2021 layout (国办公开办函〔2021〕30号)
  with the exact printed labels and real row/column spans, and filled from the gold
  ``metrics`` (``None`` becomes an empty cell).

Because the tables are filled from gold, a parser run on any fixture should reproduce the
gold metrics exactly. Anything the fixtures add around the report (page chrome, 索引号,
invented publication dates, URL) is fixture material, not data from the real report.

Usage: ``python -m tests.mockserver.render OUT_DIR`` (from the project root) writes every kind. The
replica portals (``replicas/``) serve these renderings.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pdfplumber
import pypdfium2
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, Twips
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from PIL import Image

HTML_STYLES = ("trs", "word", "borderless")
COLUMN_NAME = "政府信息公开年报"
SOFFICE_TIMEOUT_S = 180
RASTER_SCALE = 2.0


def fixtures_dir() -> Path:
    """``tests/fixtures``: the seed texts (``seeds/``) and their hand-checked figures
    (``gold/``)."""
    return Path(__file__).resolve().parents[1] / "fixtures"


def seed_ids() -> list[str]:
    """Seeds that have both a text file and a gold record; only those can be rendered."""
    fixtures = fixtures_dir()
    return sorted(
        p.stem
        for p in (fixtures / "seeds").glob("*.txt")
        if (fixtures / "gold" / f"{p.stem}.json").exists()
    )


# ---------------------------------------------------------------------------------------------
# Table model: one description per table, drawn by both the HTML and the DOCX renderers, so
# that every kind carries the same labels, spans and values.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One printed cell at its top-left grid position, with its spans."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True)
class Table:
    """A table as a grid of ``n_rows`` x ``len(widths_cm)`` slots covered by ``cells``."""

    n_rows: int
    widths_cm: tuple[float, ...]
    cells: tuple[Cell, ...]
    font_pt: float

    def rows(self) -> list[list[Cell]]:
        """Cells grouped by the row they start in, left to right (the order HTML needs)."""
        out: list[list[Cell]] = [[] for _ in range(self.n_rows)]
        for cell in sorted(self.cells, key=lambda c: (c.row, c.col)):
            out[cell.row].append(cell)
        return out


T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_COLUMNS = ("natural", "business", "research", "ngo", "legal", "other_org", "total")
T3_ORG_LABELS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
# (group label or None, ((row key, label), ...)) in printed order below 三、本年度办理结果.
T3_RESULTS: tuple[tuple[str | None, tuple[tuple[str, str], ...]], ...] = (
    (None, (("granted", "（一）予以公开"),)),
    (None, (("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),)),
    (
        "（三）不予公开",
        (
            ("withheld.state_secret", "1.属于国家秘密"),
            ("withheld.prohibited", "2.其他法律行政法规禁止公开"),
            ("withheld.security_stability", "3.危及“三安全一稳定”"),
            ("withheld.third_party", "4.保护第三方合法权益"),
            ("withheld.internal_affairs", "5.属于三类内部事务信息"),
            ("withheld.process_info", "6.属于四类过程性信息"),
            ("withheld.enforcement_files", "7.属于行政执法案卷"),
            ("withheld.admin_query", "8.属于行政查询事项"),
        ),
    ),
    (
        "（四）无法提供",
        (
            ("unavailable.not_held", "1.本机关不掌握相关政府信息"),
            ("unavailable.needs_creation", "2.没有现成信息需要另行制作"),
            ("unavailable.unclear", "3.补正后申请内容仍不明确"),
        ),
    ),
    (
        "（五）不予处理",
        (
            ("not_processed.petition", "1.信访举报投诉类申请"),
            ("not_processed.duplicate", "2.重复申请"),
            ("not_processed.publication", "3.要求提供公开出版物"),
            ("not_processed.excessive", "4.无正当理由大量反复申请"),
            ("not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息"),
        ),
    ),
    (
        "（六）其他处理",
        (
            (
                "other.no_supplement",
                "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            ),
            (
                "other.unpaid_fee",
                "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            ),
            ("other.other", "3.其他"),
        ),
    ),
    (None, (("handled_total", "（七）总计"),)),
)
T4_RESULTS = ("upheld", "corrected", "other", "pending", "total")
T4_RESULT_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


def format_value(value: float | int | None) -> str:
    """Print a metric as a report would: integers plain, 万元 decimals as given, None blank."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table_2(metrics: dict[str, float | int | None]) -> Table:
    """Table 二 as printed: four captioned blocks sharing one 4-column grid."""
    cells: list[Cell] = []
    row = 0

    def caption(text: str) -> None:
        nonlocal row
        cells.append(Cell(row, 0, text, colspan=4))
        row += 1

    def header(*labels: str) -> None:
        nonlocal row
        cells.append(Cell(row, 0, "信息内容"))
        if len(labels) == 1:
            cells.append(Cell(row, 1, labels[0], colspan=3))
        else:
            cells.extend(Cell(row, 1 + i, label) for i, label in enumerate(labels))
        row += 1

    def data(label: str, *keys: str) -> None:
        nonlocal row
        cells.append(Cell(row, 0, label))
        if len(keys) == 1:
            cells.append(Cell(row, 1, format_value(metrics[keys[0]]), colspan=3))
        else:
            cells.extend(Cell(row, 1 + i, format_value(metrics[k])) for i, k in enumerate(keys))
        row += 1

    caption("第二十条第（一）项")
    header("本年制发件数", "本年废止件数", "现行有效件数")
    for label, stem in (("规章", "rules"), ("行政规范性文件", "normative")):
        data(label, *(f"active.{stem}.{c}" for c in ("issued", "repealed", "in_force")))
    caption("第二十条第（五）项")
    header("本年处理决定数量")
    data("行政许可", "active.licensing.decisions")
    caption("第二十条第（六）项")
    header("本年处理决定数量")
    data("行政处罚", "active.punishment.decisions")
    data("行政强制", "active.coercion.decisions")
    caption("第二十条第（八）项")
    header("本年收费金额（单位：万元）")
    data("行政事业性收费", "active.fees.amount")
    return Table(row, (4.8, 3.6, 3.6, 3.6), tuple(cells), 10.5)


def table_3(metrics: dict[str, float | int | None]) -> Table:
    """Table 三 as printed: 3 header rows, 25 data rows, 三 and （三）–（六） as rowspan labels."""
    cells = [
        Cell(0, 0, T3_NOTE, rowspan=3, colspan=3),
        Cell(0, 3, "申请人情况", colspan=7),
        Cell(1, 3, "自然人", rowspan=2),
        Cell(1, 4, "法人或其他组织", colspan=5),
        Cell(1, 9, "总计", rowspan=2),
        *(Cell(2, 4 + i, label) for i, label in enumerate(T3_ORG_LABELS)),
    ]

    def values(row: int, key: str) -> list[Cell]:
        return [
            Cell(row, 3 + i, format_value(metrics[f"requests.{key}.{col}"]))
            for i, col in enumerate(T3_COLUMNS)
        ]

    row = 3
    for key, label in (
        ("new", "一、本年新收政府信息公开申请数量"),
        ("carried_over", "二、上年结转政府信息公开申请数量"),
    ):
        cells += [Cell(row, 0, label, colspan=3), *values(row, key)]
        row += 1
    n_result_rows = sum(len(items) for _, items in T3_RESULTS)
    cells.append(Cell(row, 0, "三、本年度办理结果", rowspan=n_result_rows))
    for group, items in T3_RESULTS:
        if group is None:
            key, label = items[0]
            cells += [Cell(row, 1, label, colspan=2), *values(row, key)]
            row += 1
            continue
        cells.append(Cell(row, 1, group, rowspan=len(items)))
        for key, label in items:
            cells += [Cell(row, 2, label), *values(row, key)]
            row += 1
    cells += [Cell(row, 0, "四、结转下年度继续办理", colspan=3), *values(row, "carried_forward")]
    return Table(row + 1, (1.3, 1.7, 3.8) + (1.25,) * 7, tuple(cells), 10.5)


def table_4(metrics: dict[str, float | int | None]) -> Table:
    """Table 四 as printed: 行政复议 (5 columns), 行政诉讼 (10, two groups of 5), one data row."""
    cells = [
        Cell(0, 0, "行政复议", colspan=5),
        Cell(0, 5, "行政诉讼", colspan=10),
        *(Cell(1, i, label, rowspan=2) for i, label in enumerate(T4_RESULT_LABELS)),
        Cell(1, 5, "未经复议直接起诉", colspan=5),
        Cell(1, 10, "复议后起诉", colspan=5),
    ]
    for group, start in (("litigation.direct", 5), ("litigation.after_review", 10)):
        cells += [Cell(2, start + i, label) for i, label in enumerate(T4_RESULT_LABELS)]
        cells += [
            Cell(3, start + i, format_value(metrics[f"{group}.{r}"]))
            for i, r in enumerate(T4_RESULTS)
        ]
    cells += [Cell(3, i, format_value(metrics[f"review.{r}"])) for i, r in enumerate(T4_RESULTS)]
    return Table(4, (1.04,) * 15, tuple(cells), 9.0)


# ---------------------------------------------------------------------------------------------
# Narrative: the seed text cut into blocks, with the text of sections 二–四 (the tables)
# replaced by the tables drawn from gold.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One body element: ``title``, ``heading``, ``subheading``, ``para``, ``signature`` or
    ``table`` (then ``table`` is set)."""

    kind: str
    text: str = ""
    table: Table | None = None


@dataclass(frozen=True)
class Report:
    """Everything a renderer needs for one seed."""

    seed_id: str
    title: str
    issuer: str
    report_year: int
    published: datetime
    blocks: tuple[Block, ...]


SECTION_KEYWORDS = {
    "一": ("总体情况",),
    "二": ("主动公开",),
    "三": ("收到和处理", "依申请"),
    "四": ("行政复议", "行政诉讼"),
    "五": ("存在的主要问题", "问题"),
    "六": ("其他需要报告",),
}
TABLE_SECTIONS = {"二": table_2, "三": table_3, "四": table_4}
HEADING_RE = re.compile(r"^([一二三四五六])、(.{2,38})$")
SUBHEADING_RE = re.compile(r"^（[一二三四五六七八九十]+）.{1,28}$")
DATE_LINE_RE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
# Artefacts of the seeds' text conversion, not report content: Word bookmarks rendered as
# text, and Markdown autolinks around URLs.
BOOKMARK_RE = re.compile(r"\[bookmark: [^\]]*\]")
AUTOLINK_RE = re.compile(r"<(https?://[^>\s]+)>")
SENTENCE_END = tuple("。；：！？”）)…!?;:")


def section_of(line: str) -> str | None:
    """The numeral of a report section heading, or None; table rows like 一、本年新收… are not
    headings because they lack the section's keyword."""
    m = HEADING_RE.match(line)
    if m and "\t" not in line and any(k in m.group(2) for k in SECTION_KEYWORDS[m.group(1)]):
        return m.group(1)
    return None


def join_broken(paras: list[str]) -> list[str]:
    """Re-join paragraphs that PDF-to-text split at a page break (a long line that stops
    mid-sentence, e.g. "共发布各类信息 5432" / "条，其中…")."""
    out: list[str] = []
    for para in paras:
        if out and len(out[-1]) >= 30 and not out[-1].endswith(SENTENCE_END):
            out[-1] += para
        else:
            out.append(para)
    return out


def narrative_blocks(lines: Sequence[str], signers: set[str]) -> list[Block]:
    """Paragraph lines of one section → blocks; short numbered lines are sub-headings and an
    issuer name or a bare date is the signature."""
    blocks: list[Block] = []
    paras: list[str] = []

    def flush() -> None:
        blocks.extend(Block("para", p) for p in join_broken(paras))
        paras.clear()

    for line in lines:
        if SUBHEADING_RE.match(line) or (len(line) <= 16 and line.endswith("方面")):
            flush()
            blocks.append(Block("subheading", line))
        elif line in signers or DATE_LINE_RE.match(line):
            flush()
            blocks.append(Block("signature", line))
        else:
            paras.append(line)
    flush()
    return blocks


def title_lines(preamble: Sequence[str]) -> list[str]:
    """The short lines opening the report (e.g. organ name, then "2023年…年度报告")."""
    out: list[str] = []
    for line in preamble:
        if len(line) > 40:
            break
        out.append(line)
    return out


def published_at(seed_id: str, gold: dict) -> datetime:
    """Gold ``published_date`` at a plausible office hour; for seeds without one, an INVENTED
    fixed date: late March of report_year+1 for a government's own report (due 31 Mar), late
    January for a department (due 31 Jan). Day and time come from a hash of the seed id so
    that they never change between runs."""
    h = int(hashlib.sha1(seed_id.encode()).hexdigest(), 16)
    hour, minute = 8 + h % 9, (h >> 8) % 60
    if gold.get("published_date"):
        day = date.fromisoformat(gold["published_date"])
    else:
        government = re.search(r"(人民政府|[区县市旗])$", gold["issuer"]) is not None
        day = date(gold["report_year"] + 1, 3 if government else 1, 20 + (h >> 16) % 10)
    return datetime(day.year, day.month, day.day, hour, minute)


def load_report(seed_id: str, metrics: dict[str, float | int | None] | None = None) -> Report:
    """Seed text + gold → the report to render (see the module docstring for what comes
    from where). ``metrics`` replaces the gold metrics in the tables (a revised report)."""
    fixtures = fixtures_dir()
    gold = json.loads((fixtures / "gold" / f"{seed_id}.json").read_text(encoding="utf-8"))
    text = (fixtures / "seeds" / f"{seed_id}.txt").read_text(encoding="utf-8")
    text = AUTOLINK_RE.sub(r"\1", BOOKMARK_RE.sub("", text))
    lines = [ln.strip() for ln in text.splitlines()]

    starts = [(i, s) for i, ln in enumerate(lines) if (s := section_of(ln))]
    missing = set(TABLE_SECTIONS) - {s for _, s in starts}
    if missing:
        raise ValueError(f"{seed_id}: no section heading for table(s) {sorted(missing)}")

    preamble = [ln for ln in lines[: starts[0][0]] if ln]
    head = title_lines(preamble)
    if "年度报告" in "".join(head):
        title = re.sub(r"\s+", "", "".join(head))
        blocks = [Block("title", ln) for ln in head]
    else:
        # No title in the seed text (it was an image or lost in conversion): build it from
        # gold. The stray short lines before the first paragraph are fragments of that lost
        # title (seed 000 has just "2023") and are dropped.
        title = f"{gold['issuer']}{gold['report_year']}年政府信息公开工作年度报告"
        blocks = [Block("title", title)]
    signers = {gold["issuer"], *gold.get("issuer_aliases", ())}
    blocks += narrative_blocks(preamble[len(head) :], signers)

    ends = [i for i, _ in starts[1:]] + [len(lines)]
    for (start, numeral), end in zip(starts, ends, strict=True):
        blocks.append(Block("heading", lines[start]))
        if numeral in TABLE_SECTIONS:
            blocks.append(Block("table", table=TABLE_SECTIONS[numeral](metrics or gold["metrics"])))
        else:
            blocks += narrative_blocks([ln for ln in lines[start + 1 : end] if ln], signers)

    return Report(
        seed_id=seed_id,
        title=title,
        issuer=gold["issuer"],
        report_year=gold["report_year"],
        published=published_at(seed_id, gold),
        blocks=tuple(blocks),
    )


def seed_number(seed_id: str, digits: int) -> int:
    """A stable pseudo-random number for invented identifiers (article id, 索引号)."""
    return int(hashlib.sha1(seed_id.encode()).hexdigest()[-12:], 16) % 10**digits


def fixture_url(seed_id: str) -> str:
    """The page's invented URL path in TRS WCM form ``/YYYYMM/tYYYYMMDD_<n>.shtml``, dated on
    the publication date, for tests to pass as ``source`` (URL date evidence)."""
    pub = load_report(seed_id).published
    return f"/{pub:%Y%m}/t{pub:%Y%m%d}_{1_000_000 + seed_number(seed_id, 6)}.shtml"


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Escape text content."""
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    """Escape an attribute value."""
    return html.escape(text, quote=True)


def plain_block(block: Block, bordered: bool) -> str:
    """A block as a TRS rich-text editor stores it: ``<p>`` with inline styles, headings as
    bold paragraphs, tables with or without ``border=1``."""
    if block.table is not None:
        return plain_table(block.table, bordered)
    if block.kind == "title":
        return f'<p style="text-align: center;"><strong>{esc(block.text)}</strong></p>'
    if block.kind in ("heading", "subheading"):
        return f'<p style="text-indent: 2em;"><strong>{esc(block.text)}</strong></p>'
    if block.kind == "signature":
        return f'<p style="text-align: right;">{esc(block.text)}</p>'
    return f'<p style="text-indent: 2em; line-height: 2em;">{esc(block.text)}</p>'


def plain_table(table: Table, bordered: bool) -> str:
    """A table with real rowspan/colspan; ``bordered`` selects ``border=1`` vs no border at all."""
    border = 'border="1"' if bordered else 'border="0"'
    collapse = "border-collapse: collapse; " if bordered else ""
    opening = (
        f'<table {border} cellspacing="0" cellpadding="0" align="center" '
        f'style="{collapse}width: 100%;">'
    )
    rows = []
    for cells in table.rows():
        tds = []
        for c in cells:
            spans = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                f' colspan="{c.colspan}"' if c.colspan > 1 else ""
            )
            tds.append(f'<td align="center" valign="middle"{spans}>{esc(c.text)}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return opening + "\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


ASCII_RUN_RE = re.compile(r"([!-~]+)")


def word_runs(text: str, style: str) -> str:
    """Text as Word's "save as web page" writes it: CJK in one span, ASCII runs (digits,
    URLs) in ``lang=EN-US`` spans, spaces as ``&nbsp;``."""
    parts = []
    for i, piece in enumerate(ASCII_RUN_RE.split(text)):
        if not piece:
            continue
        body = esc(piece).replace(" ", "&nbsp;")
        parts.append(f"<span lang=EN-US>{body}</span>" if i % 2 else body)
    return f"<span style='{style}'>{''.join(parts)}<span lang=EN-US><o:p></o:p></span></span>"


WORD_LINE = "line-height:28.0pt;mso-line-height-rule:exactly"
WORD_EMPTY_P = "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>"


def word_block(block: Block) -> str:
    """A block as pasted from a Word HTML export (``MsoNormal``, ``mso-`` styles, ``<o:p>``)."""
    if block.table is not None:
        return word_table(block.table)
    font = "font-size:16.0pt;font-family:仿宋_GB2312;mso-hansi-font-family:宋体"
    if block.kind == "title":
        runs = word_runs(block.text, "font-size:22.0pt;font-family:方正小标宋简体")
        return f"<p class=MsoNormal align=center style='text-align:center;{WORD_LINE}'>{runs}</p>"
    if block.kind == "signature":
        runs = word_runs(block.text, font)
        return f"<p class=MsoNormal align=right style='text-align:right;{WORD_LINE}'>{runs}</p>"
    indent = f"text-indent:32.0pt;mso-char-indent-count:2.0;{WORD_LINE}"
    if block.kind == "heading":
        runs = word_runs(block.text, "font-size:16.0pt;font-family:黑体;mso-hansi-font-family:黑体")
        return f"{WORD_EMPTY_P}\n<p class=MsoNormal style='{indent}'><b>{runs}</b></p>"
    if block.kind == "subheading":
        runs = word_runs(block.text, "font-size:16.0pt;font-family:楷体_GB2312")
        return f"<p class=MsoNormal style='{indent}'><b>{runs}</b></p>"
    return f"<p class=MsoNormal style='{indent}'>{word_runs(block.text, font)}</p>"


def word_table(table: Table) -> str:
    """Word's table markup: ``border=0`` on the table, each cell's borders only in its CSS
    (no top/left border where the neighbour draws it), widths in px and pt."""
    px_per_cm, pt_per_cm = 37.8, 28.35
    total = sum(table.widths_cm)
    font = f"font-size:{table.font_pt:.1f}pt;font-family:宋体;mso-bidi-font-family:宋体"
    rows = []
    for r, cells in enumerate(table.rows()):
        tds = []
        for c in cells:
            width = sum(table.widths_cm[c.col : c.col + c.colspan])
            border = "border:solid windowtext 1.0pt;" + "".join(
                f"border-{side}:none;mso-border-{side}-alt:solid windowtext .5pt;"
                for side, inner in (("top", c.row > 0), ("left", c.col > 0))
                if inner
            )
            spans = (f" rowspan={c.rowspan}" if c.rowspan > 1 else "") + (
                f" colspan={c.colspan}" if c.colspan > 1 else ""
            )
            content = (
                word_runs(c.text, font)
                if c.text
                else f"<span lang=EN-US style='{font}'><o:p>&nbsp;</o:p></span>"
            )
            tds.append(
                f"<td width={round(width * px_per_cm)}{spans} valign=middle "
                f"style='width:{width * pt_per_cm:.1f}pt;{border}"
                f"mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'>"
                f"<p class=MsoNormal align=center style='text-align:center'>{content}</p></td>"
            )
        flags = ";mso-yfti-firstrow:yes" if r == 0 else ""
        flags += ";mso-yfti-lastrow:yes" if r == table.n_rows - 1 else ""
        rows.append(f"<tr style='mso-yfti-irow:{r}{flags};height:20.0pt'>" + "".join(tds) + "</tr>")
    return (
        f"<div align=center><table class=MsoNormalTable border=0 cellspacing=0 cellpadding=0 "
        f"width={round(total * px_per_cm)} style='width:{total * pt_per_cm:.1f}pt;"
        "border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;"
        "mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>\n"
        + "\n".join(rows)
        + "\n</table></div>\n"
        + WORD_EMPTY_P
    )


def site_name(issuer: str) -> str:
    """The portal the report sits on: a district/county named bare (四方台区) gets its
    government's name; other organs are used as they are."""
    return f"{issuer}人民政府" if re.search(r"[区县市旗]$", issuer) else issuer


PAGE_CSS = """
body { margin: 0; font-family: "Microsoft YaHei", sans-serif; font-size: 14px; }
.header, .footer { background: #1d5aa3; color: #fff; padding: 12px 40px; }
.nav a, .footer a { color: #fff; margin-right: 18px; text-decoration: none; }
.main { width: 1000px; margin: 0 auto; }
.xxgk-info { width: 100%; border: 1px solid #cfd8e3; background: #f5f8fc; margin: 16px 0; }
.xxgk-info th { width: 90px; text-align: right; font-weight: normal; color: #666; }
.article-title { text-align: center; font-size: 24px; color: #1d5aa3; }
.article-info { text-align: center; color: #888; border-bottom: 1px dashed #ccc; }
.article-info span { margin: 0 12px; }
"""


def report_body(report: Report, style: str) -> str:
    """The report as the CMS editor stores it (what goes inside the page's article element)."""
    if style not in HTML_STYLES:
        raise ValueError(f"style must be one of {HTML_STYLES}, not {style!r}")
    if style == "word":
        body = "\n".join(word_block(b) for b in report.blocks)
        return f"<div class=WordSection1 style='layout-grid:15.6pt'>\n{body}\n</div>"
    return "\n".join(plain_block(b, bordered=style == "trs") for b in report.blocks)


def page_html(report: Report, style: str, declare_charset: bool) -> str:
    """The whole CMS detail page around the report body."""
    body = report_body(report, style)
    site = site_name(report.issuer)
    pub = report.published
    index_no = (
        f"{seed_number(report.seed_id, 9):09d}/{pub.year}-{seed_number(report.seed_id, 5):05d}"
    )
    previous = f"{report.issuer}{report.report_year - 1}年政府信息公开工作年度报告"
    charset = (
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        if declare_charset
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
{charset}<title>{esc(report.title)}_{esc(site)}</title>
<meta name="SiteName" content="{attr(site)}">
<meta name="ColumnName" content="{COLUMN_NAME}">
<meta name="ColumnType" content="信息公开年报">
<meta name="ArticleTitle" content="{attr(report.title)}">
<meta name="PubDate" content="{pub:%Y-%m-%d %H:%M}">
<meta name="ContentSource" content="{attr(report.issuer)}">
<meta name="Keywords" content="政府信息公开,年度报告">
<style>{PAGE_CSS}</style>
</head>
<body>
<!-- fixture: rendered by replicas/render.py from seed {report.seed_id}; page chrome,
     索引号 and URL are invented -->
<div class="header">
  <div class="logo">{esc(site)}</div>
  <ul class="nav">
    <li><a href="/">首页</a></li>
    <li><a href="/zwgk/">政务公开</a></li>
    <li><a href="/zfxxgk/">政府信息公开</a></li>
    <li><a href="/zwfw/">政务服务</a></li>
    <li><a href="/hdjl/">互动交流</a></li>
  </ul>
</div>
<div class="main">
  <div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zfxxgk/">政府信息公开</a>
    &gt; <a href="/zfxxgk/zfxxgknb/">{COLUMN_NAME}</a></div>
  <table class="xxgk-info" cellspacing="0" cellpadding="4">
    <tr><th>索引号：</th><td>{index_no}</td><th>发布机构：</th><td>{esc(report.issuer)}</td></tr>
    <tr><th>名　　称：</th><td colspan="3">{esc(report.title)}</td></tr>
    <tr><th>发布日期：</th><td>{pub:%Y-%m-%d}</td><th>主题分类：</th><td>{COLUMN_NAME}</td></tr>
  </table>
  <div class="article">
    <h1 class="article-title">{esc(report.title)}</h1>
    <div class="article-info"><span>发布日期：{pub:%Y-%m-%d}</span>
      <span>来源：{esc(report.issuer)}</span><span>浏览次数：<em id="hits">0</em></span>
      <span>字号：<a href="javascript:void(0)">大</a> <a href="javascript:void(0)">中</a>
      <a href="javascript:void(0)">小</a></span></div>
    <div class="TRS_Editor">
{body}
    </div>
    <div class="article-tools"><a href="javascript:window.print()">【打印本页】</a>
      <a href="javascript:window.close()">【关闭窗口】</a></div>
    <div class="prev-next">上一篇：<a href="../index.shtml">{esc(previous)}</a></div>
  </div>
</div>
<div class="footer">
  <p><a href="/wzdt/">网站地图</a><a href="/lxwm/">联系我们</a><a href="/sybz/">使用帮助</a></p>
  <p>主办单位：{esc(site)}办公室　版权所有：{esc(site)}</p>
  <p>建议使用1366×768分辨率浏览本网站</p>
</div>
<script>
  document.getElementById("hits").textContent = "1024";
</script>
</body>
</html>
"""


def render_html(seed_id: str, *, style: str = "trs") -> str:
    """The report as a CMS detail page (UTF-8, declared in a Content-Type meta). ``style``: ``trs``
    (bordered tables, ``<p>`` paragraphs), ``word`` (Word HTML export pasted into the
    editor) or ``borderless`` (tables with no border at all)."""
    return page_html(load_report(seed_id), style, declare_charset=True)


def render_gbk_html(seed_id: str, *, style: str = "trs") -> bytes:
    """The page as an old portal serves it: GB18030-encoded (GBK bytes for every character
    in the current seeds) with no charset declared anywhere, so a parser must sniff it."""
    return page_html(load_report(seed_id), style, declare_charset=False).encode("gb18030")


# ---------------------------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------------------------


def add_run(paragraph: Paragraph, text: str, font: str, size_pt: float, bold: bool = False) -> None:
    """A run whose East Asian font is set too (python-docx's ``font.name`` only sets the Latin
    slots, and a CJK document names its fonts in ``w:eastAsia``)."""
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size_pt)
    if bold:
        run.bold = True
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def docx_table(doc: Document, table: Table, *, keep_rows_whole: bool = True) -> DocxTable:
    """The table with Word's own merged cells (``gridSpan``/``vMerge`` via ``cell.merge``).

    ``keep_rows_whole=False`` lets a row break across pages, as Word allows by default: a
    page break may then cut a row's label from its numbers."""
    n_cols = len(table.widths_cm)
    out = doc.add_table(rows=table.n_rows, cols=n_cols)
    out.style = "Table Grid"
    out.alignment = WD_TABLE_ALIGNMENT.CENTER
    out.autofit = False
    # Word and LibreOffice lay a table out from its grid (w:tblGrid); the per-cell widths
    # alone leave python-docx's equal split in place. Widths are whole twips because the .doc
    # format stores cell edges in twips: fractional ones round apart row by row and the
    # exported table grows a sliver column.
    widths = [Twips(round(w * 1440 / 2.54)) for w in table.widths_cm]
    for col, width in zip(out.columns, widths, strict=True):
        col.width = width
    for row in out.rows:
        # Keep each row on one page (Word: untick "allow row to break across pages"), so a
        # page break splits the table between rows, not through a row's label and numbers.
        if keep_rows_whole:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for col, cell in enumerate(row.cells):
            cell.width = widths[col]
    for c in table.cells:
        cell = out.cell(c.row, c.col)
        if c.rowspan > 1 or c.colspan > 1:
            cell = cell.merge(out.cell(c.row + c.rowspan - 1, c.col + c.colspan - 1))
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        para = cell.paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.first_line_indent = Pt(0)
        para.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        add_run(para, c.text, "宋体", table.font_pt)
    return out


def render_docx(seed_id: str, path: str | Path) -> Path:
    """The report as a Word document laid out like a 公文 (A4, GB/T 9704 margins, 仿宋 body,
    黑体 headings), with the tables' row labels and header groups as merged cells."""
    return write_docx(load_report(seed_id), path)


def write_docx(report: Report, path: str | Path, *, keep_rows_whole: bool = True) -> Path:
    """``report`` as the Word document described in ``render_docx`` (``keep_rows_whole``: see
    :func:`docx_table`)."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    # python-docx's template carries its own author, comment and 2013 dates; a real file
    # carries the issuer and dates near publication, and a parser may read these as evidence.
    # Core-property times are UTC; publication times are Beijing time (UTC+8).
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = report.title, report.issuer, report.issuer
    props.comments = ""
    props.created = props.modified = report.published - timedelta(hours=8)
    props.revision = 1
    # python-docx's template declares en-US East Asian text; a Chinese Word file declares
    # zh-CN, which LibreOffice uses to pick Chinese glyph forms for its CJK fallback font.
    doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang")).set(
        qn("w:eastAsia"), "zh-CN"
    )
    normal = doc.styles["Normal"].paragraph_format
    normal.space_after, normal.line_spacing_rule = Pt(0), WD_LINE_SPACING.SINGLE

    for block in report.blocks:
        if block.table is not None:
            docx_table(doc, block.table, keep_rows_whole=keep_rows_whole)
            continue
        para = doc.add_paragraph()
        fmt = para.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28)
        if block.kind == "title":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.line_spacing = Pt(36)
            add_run(para, block.text, "方正小标宋简体", 22)
        elif block.kind == "signature":
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            add_run(para, block.text, "仿宋_GB2312", 16)
        else:
            fmt.first_line_indent = Pt(32)
            font = {"heading": "黑体", "subheading": "楷体_GB2312"}.get(block.kind, "仿宋_GB2312")
            add_run(para, block.text, font, 16, bold=block.kind == "subheading")
    path = Path(path)
    doc.save(str(path))
    return path


# ---------------------------------------------------------------------------------------------
# LibreOffice conversions and rasterisation
# ---------------------------------------------------------------------------------------------


def soffice_convert(src: Path, target: str, dest: Path) -> Path:
    """Convert ``src`` with headless LibreOffice (``target`` is a ``--convert-to`` argument
    such as ``pdf`` or ``doc:MS Word 97``) and move the result to ``dest``. Each call gets its
    own throw-away user profile so that parallel calls and a desktop LibreOffice don't lock
    each other out."""
    ext = target.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        profile, outdir = Path(tmp, "profile"), Path(tmp, "out")
        cmd = [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(src),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_S)
        produced = outdir / f"{src.stem}.{ext}"
        if done.returncode != 0 or not produced.is_file() or produced.stat().st_size == 0:
            raise RuntimeError(
                f"soffice --convert-to {target} {src} failed (exit {done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(produced), dest)
    return dest


def convert_seed(seed_id: str, target: str, path: str | Path) -> Path:
    """Render the seed's DOCX in a scratch folder and convert it to ``target``."""
    with tempfile.TemporaryDirectory(prefix="nianbao-fx-") as tmp:
        docx_path = render_docx(seed_id, Path(tmp, f"{seed_id}.docx"))
        return soffice_convert(docx_path, target, Path(path))


def render_pdf(seed_id: str, path: str | Path) -> Path:
    """The report as a text PDF (text layer, ruled tables), as Word → PDF export makes it."""
    return convert_seed(seed_id, "pdf", path)


def render_doc(seed_id: str, path: str | Path) -> Path:
    """The report as a legacy Word 97–2003 ``.doc``, still common as an attachment."""
    return convert_seed(seed_id, "doc:MS Word 97", path)


def rasterise_pdf(src: Path, dest: Path) -> Path:
    """Re-save ``src`` as page images only, like a scanned report, and prove that no text
    layer is left (the point of this fixture is that only OCR can read it)."""
    pdf = pypdfium2.PdfDocument(str(src))
    try:
        images: list[Image.Image] = [
            page.render(scale=RASTER_SCALE).to_pil().convert("RGB") for page in pdf
        ]
    finally:
        pdf.close()
    dest.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        dest, "PDF", save_all=True, append_images=images[1:], resolution=72 * RASTER_SCALE
    )
    with pdfplumber.open(dest) as check:
        if any(page.chars for page in check.pages):
            raise RuntimeError(f"{dest} still has a text layer")
    return dest


def render_pdf_rows_split(seed_id: str, path: str | Path) -> Path:
    """The text PDF with rows allowed to break across pages (Word's default), so that a
    page break can leave a row's numbers on one page and the rest of its label on the next."""
    with tempfile.TemporaryDirectory(prefix="nianbao-fx-") as tmp:
        docx_path = write_docx(load_report(seed_id), Path(tmp, f"{seed_id}.docx"),
                               keep_rows_whole=False)
        return soffice_convert(docx_path, "pdf", Path(path))


def render_image_pdf(seed_id: str, path: str | Path) -> Path:
    """The report as an image-only PDF (the text PDF's pages rendered at scale 2.0)."""
    with tempfile.TemporaryDirectory(prefix="nianbao-fx-") as tmp:
        return rasterise_pdf(render_pdf(seed_id, Path(tmp, f"{seed_id}.pdf")), Path(path))


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------


def render_all(
    out_dir: str | Path, *, image_seeds: Iterable[str] | None = None
) -> dict[str, dict[str, Path]]:
    """Write every kind for every seed to ``out_dir/<seed_id>/`` and return the paths by seed
    and kind. The image PDF (the slowest and largest) is made only for ``image_seeds``
    (default: all). The DOCX is converted once per target rather than re-rendered."""
    wanted_images = set(seed_ids() if image_seeds is None else image_seeds)
    result: dict[str, dict[str, Path]] = {}
    for seed_id in seed_ids():
        folder = Path(out_dir, seed_id)
        folder.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for style in HTML_STYLES:
            paths[f"html_{style}"] = folder / f"{style}.html"
            paths[f"html_{style}"].write_text(render_html(seed_id, style=style), encoding="utf-8")
        paths["html_gbk"] = folder / "gbk.html"
        paths["html_gbk"].write_bytes(render_gbk_html(seed_id))
        paths["docx"] = render_docx(seed_id, folder / "report.docx")
        paths["pdf"] = soffice_convert(paths["docx"], "pdf", folder / "report.pdf")
        paths["doc"] = soffice_convert(paths["docx"], "doc:MS Word 97", folder / "report.doc")
        if seed_id in wanted_images:
            paths["image_pdf"] = rasterise_pdf(paths["pdf"], folder / "image.pdf")
        result[seed_id] = paths
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m tests.mockserver.render OUT_DIR [--image-seeds ID ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument(
        "--image-seeds", nargs="*", metavar="SEED_ID", help="seeds to rasterise (default: all)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = render_all(args.out_dir, image_seeds=args.image_seeds)
    for seed_id, paths in result.items():
        print(seed_id, " ".join(f"{kind}={p.name}" for kind, p in paths.items()))
    print(f"rendered {len(result)} seeds in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
