"""Find tables 二, 三 and 四 in a document and read every standard cell.

Every reader hands over rows of cells, so this works the same for HTML, DOCX, PDF, OCR and
converter text. A row's *label* is its last text cell and its *values* are the cells after it
(parent labels such as 三、本年度办理结果 or （三）不予公开 come first in the row, or in a row of
their own). Rows are matched to the standard rows by label patterns
(``nianbao.vocabulary.metrics``), with a context taken from the table headers so that 行政许可 in
table 二 and 其他 in table 三 are not confused with text elsewhere. Rows that lost cells in
extraction are kept aside, values in order, for :mod:`nianbao.parsers.repair`; nothing is
shifted or guessed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from nianbao.parsers.document import Document, Paragraph, Table
from nianbao.parsers.values import MISSING, CellValue, clean_label, is_value_text, read_cell
from nianbao.vocabulary.metrics import (
    ACTIVE_HEADERS_2019,
    ACTIVE_HEADERS_2021,
    APPLICANT_COLUMNS,
    REVIEW_KEYS,
    RowSpec,
    active_rows,
    request_rows,
)

# Header text of table 二's columns, mapped to canonical column names (for locality rows).
ACTIVE_COLUMN_NAMES = {
    "本年制发件数": "issued",
    "本年废止件数": "repealed",
    "现行有效件数": "in_force",
    "本年收费金额": "amount",
    "本年新制作数量": "made",
    "本年新公开数量": "published",
    "对外公开总数量": "total_public",
    "上一年项目数量": "prev_items",
    "本年增": "change",
    "处理决定数量": "decisions",
    "采购项目数量": "items",
    "采购总金额": "amount",
}
_SECTION_CONTEXT = [
    (re.compile(r"^[二2][、.．]?.*主动公开"), "二"),
    (re.compile(r"^[三3][、.．]?.*(申请|依申请)"), "三"),
    (re.compile(r"^[四4][、.．]?.*(复议|诉讼)"), "四"),
    (re.compile(r"^[五六56][、.．].*(?:问题|改进|其他需要|其他事项|需要报告)"), None),
]
_REQUESTS_START = re.compile(r"本年新收|上年结转")
_ORDINAL = re.compile(r"^[（(]?[一二三四五六七八九十\d]+[）)、.．]?")
_FORMAT_2019_ACTIVE = re.compile(r"对外管理服务事项$|^政府集中采购$")
_FORMAT_2021_REQUESTS = re.compile(r"不补正|缴纳费用|收费通知")
_OTHER_HANDLING = re.compile(r"其他处理$")


# Cell texts ("0", "", the standard labels) recur in every table and every report: read each once.
_read_cell = lru_cache(maxsize=8192)(read_cell)
_clean_label = lru_cache(maxsize=8192)(clean_label)
_is_value_text = lru_cache(maxsize=8192)(is_value_text)


@lru_cache(maxsize=4096)
def _spec_for(table: str, fmt: str, label: str) -> RowSpec | None:
    """The standard row of table 二 or 三 that ``label`` names, if any.

    Cached: each lookup tries every row pattern, and the same few hundred labels recur in
    every report.
    """
    specs = active_rows(fmt) if table == "二" else request_rows(fmt)
    return next((s for s in specs if s.matches(label)), None)


@lru_cache(maxsize=4096)
def _names_request_row(label: str) -> bool:
    """Whether ``label`` is a row of table 三 (either format): such a row moves the context."""
    return any(s.matches(label) for s in request_rows("2021") + request_rows("2019")[-3:])


# Table 三's parent labels, which PDF text prints beside their rows in pieces of one to three
# characters (本年 / 度办 / 理结 / 果, （五） / 不予处 / 理).
_PARENT_LABELS = (
    "三、本年度办理结果", "(三)不予公开", "(四)无法提供", "(五)不予处理", "(六)其他处理",
)
_BARE_ORDINAL = re.compile(r"^[（(]?[一二三四五六七八九十][）)]?[、.．]?$")


@lru_cache(maxsize=4096)
def _is_parent_piece(label: str) -> bool:
    t = label.replace("（", "(").replace("）", ")")
    return bool(_BARE_ORDINAL.match(t)) or (
        len(t) <= 3 and any(t in parent for parent in _PARENT_LABELS)
    )


@lru_cache(maxsize=4096)
def _narrative(label: str) -> bool:
    """A label counting something (全年共受理申请261件，其中予以公开) is narrative text: the
    standard labels carry digits only as ordinals (（六）1.申请人…, 果1.属于国家秘密)."""
    return bool(re.search(r"\d{2,}|\d\s*(?:件|条|个|次|万|元|人|%|余|多|年)", label))


@lru_cache(maxsize=4096)
def _names_row(table: str, label: str) -> bool:
    """Whether ``label`` names a standard row of table 二 or 三 in either format."""
    return any(_spec_for(table, fmt, label) is not None for fmt in ("2021", "2019"))


_KEEP = object()  # a label that leaves the context as it is


def _signals(label: str) -> tuple[object, tuple[str, ...]]:
    """What a heading or header label says: the context it moves to (``_KEEP`` if none; the
    last rule that applies wins) and the formats of table 二 it votes for."""
    context: object = _KEEP
    votes: tuple[str, ...] = ()
    if len(label) < 40:
        for pattern, ctx in _SECTION_CONTEXT:
            if pattern.match(label):
                context = ctx
    if ("第二十条" in label and len(label) <= 20) or label == "信息内容":
        context = "二"
    if label.startswith(ACTIVE_HEADERS_2021):
        votes += ("2021",)
        context = "二"
    if label.startswith(ACTIVE_HEADERS_2019):
        votes += ("2019",)
        context = "二"
    if "勾稽关系" in label or label in ("申请人情况", "自然人"):
        context = "三"
    if "行政复议" in label and len(label) <= 12:
        context = "四"
    return context, votes


# Header labels recur in every report, and each paragraph is tried too: remembered, up to a
# heading's length (a paragraph of narrative is read each time).
_label_signals = lru_cache(maxsize=4096)(_signals)
_REMEMBERED_LABEL = 200


@dataclass
class Row:
    labels: list[str]  # cleaned label cells, parents first
    values: list[CellValue]
    as_printed: list[CellValue] | None = None  # values with the blanks between them (streams)
    at_end: bool = False  # the document ends in this row (a truncated copy?)

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""

    def text(self) -> str:
        return "".join(self.labels)


@dataclass
class LostRow:
    """A row with fewer values than columns: its values in order, for the repair step."""

    key: str  # row key, e.g. requests.granted
    label: str
    slots: list[str]  # the metric keys its values belong to, in column order
    values: list[CellValue]
    as_printed: list[CellValue] | None = None  # blanks kept, when they fill the row exactly


@dataclass
class TableReading:
    active_format: str | None = None
    requests_format: str | None = None
    cells: dict[str, CellValue] = field(default_factory=dict)
    lost_rows: list[LostRow] = field(default_factory=list)
    found: set[str] = field(default_factory=set)  # tables seen: 二, 三, 四
    one_other_row: bool = False  # a 2021 table 三 printing （六）其他处理 as one row
    problems: list[str] = field(default_factory=list)


def _row(cells: list[str], positional: bool) -> Row:
    read = [_read_cell(c) for c in cells]
    last_label = max((i for i, c in enumerate(cells) if not _is_value_text(c)), default=-1)
    labels = [label for c in cells[: last_label + 1] if (label := _clean_label(c))]
    values = read[last_label + 1 :]
    if not positional:  # empties from converters are artefacts, not blanks
        values = [v for v in values if v.semantic != "EMPTY"]
    return Row(labels, values)


def _fit(values: list[CellValue], n: int, positional: bool) -> list[CellValue] | None:
    """The row's values for ``n`` columns, or None when cells were lost or are surplus.

    Surplus empty cells at either end (a spacer cell between the label and the numbers, a
    stray cell after them) are layout, not data."""
    vals = list(values)
    while len(vals) > n and vals[-1].semantic == "EMPTY":
        vals.pop()
    while len(vals) > n and vals[0].semantic == "EMPTY":
        vals.pop(0)
    if positional and len(vals) < n and all(v.semantic == "EMPTY" for v in vals):
        return vals + [CellValue("", "EMPTY", None)] * (n - len(vals))
    return vals if len(vals) == n else None


class _TableScan:
    """One pass over a document's blocks: follows the section context (二, 三, 四) from headings
    and headers, and collects each table's rows for reading at the end."""

    def __init__(self) -> None:
        self.out = TableReading()
        self.context: str | None = None
        self.active_columns: list[str] = []
        self.votes = {"2019": 0, "2021": 0}
        self.active_pending: list[tuple[Row, bool, list[str]]] = []
        self.request_pending: list[tuple[Row, bool]] = []
        self.review_values: list[CellValue] = []
        self.review_positional = True
        self.fragment: str | None = None  # label of a value-less row just seen (a cut row?)

    # -- context ---------------------------------------------------------------------------
    def paragraph(self, text: str) -> None:
        self._context_from(clean_label(text))

    def _context_from(self, label: str) -> None:
        """Move the context on a heading or header label (short ones only: not narrative)."""
        context, votes = _label_signals(label) if len(label) <= _REMEMBERED_LABEL else (
            _signals(label))
        if context is not _KEEP:
            self.context = context
        for fmt in votes:
            self.votes[fmt] += 1

    def header(self, row: Row) -> None:
        for label in row.labels:
            self._context_from(label)
        if self.context == "二":
            cols = [name for label in row.labels for h, name in ACTIVE_COLUMN_NAMES.items()
                    if label.startswith(h)]
            if cols:
                self.active_columns = cols

    # -- rows ------------------------------------------------------------------------------
    def row(self, row: Row, positional: bool) -> None:
        self.header(row)
        if not row.values or all(v.semantic == "EMPTY" for v in row.values):
            self._label_fragment(row)
            return
        if self.fragment and not row.labels and self.context in ("二", "三"):
            row.labels = [self.fragment]  # numbers on a line of their own under their label
        elif self.fragment and row.labels and self._completes(self.fragment, row.label):
            row.labels[-1] = self.fragment + row.label
        self.fragment = None
        if row.labels and _narrative(row.label):
            return  # a sentence of the text ending in a number (…其中予以公开 162件)
        self._tidy_labels(row)
        if self.context != "二" and _names_request_row(row.label):
            self.context = "三"
        if _REQUESTS_START.search(row.label):
            self.context = "三"
        if self.context == "二" and row.labels:
            self.active_pending.append((row, positional, self.active_columns))
        elif self.context == "三" and row.labels:
            self.request_pending.append((row, positional))
        elif self.context == "四" or (not row.labels and len(row.values) == 15):
            self.context = "四"
            self.review_values.extend(row.values)
            self.review_positional = self.review_positional and positional

    # -- rows cut in two ----------------------------------------------------------------------
    def _label_fragment(self, row: Row) -> None:
        """A row of label text only, which may be half of a row cut in two.

        A page break can cut a table row: the numbers and the start of the label stay on one
        page (3.补正后申请内容仍 0 0 0 …) and the rest of the label goes to the next (不明确), or
        the other way round. Converters break rows the same way. The two halves are one row
        when neither label names a standard row and together they do.
        """
        self.fragment = None
        if not row.labels:
            return
        pending = self._last_pending()
        if pending is not None and self._completes(pending.label, row.label):
            pending.labels[-1] = pending.label + row.label
        else:
            self.fragment = row.label

    def _tidy_labels(self, row: Row) -> None:
        """Labels as converters scatter them (PDF text, flattened tables), made whole again.

        A stream gathers every label since the last numbers, so one row may carry the end of
        the previous row's label (物 after 3.要求提供公开出版), pieces of the vertical parent
        label printed beside it (（五）, 不予处, 理) and its own label broken over lines
        (费通知要求缴纳费 / 用、行政机关不再处). The end of the previous label goes back to it; the
        parent's pieces are dropped; the row's own pieces are joined until they name a row.
        """
        if self.context not in ("二", "三") or not row.labels:
            return
        pending = self._last_pending()
        labels = list(row.labels)
        if pending is not None and len(labels) > 1:
            head = [x for x in labels[:-1] if not _is_parent_piece(x)][:2]
            for k in range(1, len(head) + 1):
                if self._completes(pending.label, "".join(head[:k])):
                    pending.labels[-1] = pending.label + "".join(head[:k])
                    for piece in head[:k]:
                        labels.remove(piece)
                    break
        kept = [x for x in labels if not _is_parent_piece(x)] or labels
        if not _names_row(self.context, kept[-1]):
            for k in range(2, min(len(kept), 4) + 1):
                joined = "".join(kept[-k:])
                if _names_row(self.context, joined):
                    kept = [*kept[:-k], joined]
                    break
        row.labels = kept

    def _last_pending(self) -> Row | None:
        if self.context == "二" and self.active_pending:
            return self.active_pending[-1][0]
        if self.context == "三" and self.request_pending:
            return self.request_pending[-1][0]
        return None

    def _completes(self, head: str, tail: str) -> bool:
        """Whether ``head + tail`` names a standard row of the current table and ``head``
        alone does not."""
        if self.context not in ("二", "三"):
            return False
        return not _names_row(self.context, head) and _names_row(self.context, head + tail)

    # -- table 二 ---------------------------------------------------------------------------
    def finish_active(self) -> None:
        if not self.active_pending:
            return
        self.out.found.add("二")
        labels = {r.label for r, _, _ in self.active_pending}
        if self.votes["2019"] > self.votes["2021"] or any(
            _FORMAT_2019_ACTIVE.search(lb) for lb in labels
        ):
            fmt = "2019"
        else:
            fmt = "2021"
        self.out.active_format = fmt
        for row, positional, columns in self.active_pending:
            spec = _spec_for("二", fmt, row.label)
            if spec is None:
                self._active_extra(row, positional, columns)
                continue
            self._assign(spec.key, [f"{spec.key}.{c}" for c in spec.columns], row, positional)

    def _active_extra(self, row: Row, positional: bool, columns: list[str]) -> None:
        """A row a locality added (e.g. 其他主动公开文件): kept under active.extra.*."""
        if not row.values or not columns:
            return
        label = _ORDINAL.sub("", row.label)
        key = f"active.extra.{label}"
        self._assign(key, [f"{key}.{c}" for c in columns], row, positional)

    # -- table 三 ---------------------------------------------------------------------------
    def finish_requests(self) -> None:
        if not self.request_pending:
            return
        self.out.found.add("三")
        labels = [r.label for r, _ in self.request_pending]
        fmt: str | None = None  # stays None when no （六） row shows which format it is
        if any(_FORMAT_2021_REQUESTS.search(lb) for lb in labels):
            fmt = "2021"
        elif any(_OTHER_HANDLING.search(r.label) and r.values for r, _ in self.request_pending):
            # （六）其他处理 as one row: the 2019 table 三 — or a 2021 one (its table 二 says
            # so) that did not split （六） into its three rows.
            fmt = self.out.active_format or "2019"
            self.out.one_other_row = fmt == "2021"
        self.out.requests_format = fmt
        for row, positional in _unstacked(self.request_pending, fmt or "2021"):
            if not row.values:
                continue  # a parent label such as （三）不予公开
            spec = self._request_spec(fmt or "2021", row)
            if spec is None and self.out.one_other_row and _OTHER_HANDLING.search(row.label):
                spec = _spec_for("三", "2019", row.label)
            if spec is None:
                self.out.problems.append(f"table 三: unrecognised row {row.text()!r}")
                continue
            slots = [f"{spec.key}.{c}" for c in APPLICANT_COLUMNS]
            self._assign(spec.key, slots, row, positional)

    def _request_spec(self, fmt: str, row: Row) -> RowSpec | None:
        # The row's own label first; only a row of values under a parent label (the 2019
        # 其他处理) falls back to the parent.
        for label in reversed(row.labels):
            spec = _spec_for("三", fmt, label)
            if spec is not None:
                return spec
        return None

    # -- table 四 ---------------------------------------------------------------------------
    def finish_review(self) -> None:
        if not self.review_values:
            return
        self.out.found.add("四")
        row = Row(["行政复议、行政诉讼"], self.review_values)
        self._assign("review", list(REVIEW_KEYS), row, self.review_positional)

    # -- common -----------------------------------------------------------------------------
    def _assign(self, row_key: str, slots: list[str], row: Row, positional: bool) -> None:
        if slots[0] in self.out.cells or any(lr.key == row_key for lr in self.out.lost_rows):
            self.out.problems.append(f"{row_key}: row appears twice; the first one is kept")
            return
        fitted = _fit(row.values, len(slots), positional)
        if fitted is None and row.at_end and len(row.values) > len(slots):
            fitted = row.values[: len(slots)]
            self.out.problems.append(
                f"{row_key}: the document ends after this row; "
                f"{len(row.values) - len(slots)} trailing value(s) ignored (truncated copy?)"
            )
        if fitted is not None:
            self.out.cells.update(zip(slots, fitted, strict=True))
            return
        values = [v for v in row.values if v.semantic != "EMPTY"]
        if len(values) < len(slots):
            as_printed = row.as_printed if row.as_printed and len(row.as_printed) == len(
                slots) else None
            self.out.lost_rows.append(LostRow(row_key, row.label, slots, values, as_printed))
            self.out.cells.update((s, MISSING) for s in slots)
        else:
            self.out.problems.append(
                f"{row_key}: {len(values)} values for {len(slots)} columns; not read"
            )
            self.out.cells.update((s, MISSING) for s in slots)


def _stream_rows(cells: list[str]) -> list[Row]:
    """Regroup cells whose row boundaries cannot be trusted: a row is labels, then values.

    Converter text puts cells one per line, one per paragraph, between pipes, or several to a
    line; but in every layout a row's label comes before its numbers, so consecutive labels
    (parents, headers) gather until numbers follow, and the next label starts a new row.
    """
    rows: list[Row] = []
    labels: list[str] = []
    printed: list[CellValue] = []

    def emit() -> None:
        values = [v for v in printed if v.semantic != "EMPTY"]
        while printed and printed[-1].semantic == "EMPTY":
            printed.pop()
        rows.append(Row(labels, values, list(printed)))

    for cell in _split_label_and_numbers(cells):
        value = _read_cell(cell)
        if not _is_value_text(cell):
            if any(v.semantic != "EMPTY" for v in printed):
                emit()
                labels = []
            printed = []
            if label := _clean_label(cell):
                labels.append(label)
        elif labels or value.semantic != "EMPTY":
            printed.append(value)
    if labels or printed:
        emit()
        rows[-1].at_end = True
    return rows


def _unstacked(pending: list[tuple[Row, bool]], fmt: str) -> list[tuple[Row, bool]]:
    """Rows whose labels a converter printed one after another and whose numbers then came
    together (1.属于国家秘密 / 2.其他法律行政法规禁止公开 / 14 numbers): one row per label, seven
    numbers each, when every one of those labels names a row of table 三."""
    out: list[tuple[Row, bool]] = []
    width = len(APPLICANT_COLUMNS)
    for row, positional in pending:
        m = len(row.values) // width
        if (
            not positional and m >= 2 and len(row.values) == m * width and len(row.labels) >= m
            and all(_spec_for("三", fmt, label) for label in row.labels[-m:])
        ):
            for i, label in enumerate(row.labels[-m:]):
                out.append((Row([label], row.values[i * width : (i + 1) * width]), positional))
        else:
            out.append((row, positional))
    return out


_LABEL_AND_NUMBERS = re.compile(
    r"^(.*?[^\d\s+\-,.])\s+((?:[+\-]?\d[\d,]*(?:\.\d+)?\s+)*[+\-]?\d[\d,]*(?:\.\d+)?)$"
)


def _split_label_and_numbers(cells: list[str]) -> list[str]:
    """``行政许可  41485`` on one line (PDF text, a flattened table) is a label cell and a value
    cell — when the label names a standard row; other text ending in a number stays text."""
    out: list[str] = []
    for cell in cells:
        text = cell.rstrip()
        if text[-1:].isdigit() and (parts := _label_and_numbers(text)):
            out.extend(parts)
        else:
            out.append(cell)
    return out


@lru_cache(maxsize=8192)
def _label_and_numbers(text: str) -> tuple[str, ...] | None:
    m = _LABEL_AND_NUMBERS.match(text.strip())
    if m and any(_names_row(t, _clean_label(m.group(1))) for t in ("二", "三")):
        return (m.group(1), *m.group(2).split())
    return None


def read_tables(doc: Document) -> TableReading:
    reader = _TableScan()
    stream: list[str] = []  # cells of non-positional blocks, read as one stream
    # Paragraphs join the stream when the document's tables are converter text (or absent):
    # there, a cell may well stand on a line of its own.
    paragraphs_are_cells = not doc.tables or any(not t.positional for t in doc.tables)

    def flush_stream() -> None:
        for row in _stream_rows(stream):
            reader.row(row, positional=False)
        stream.clear()

    for block in doc.blocks:
        if isinstance(block, Table) and block.positional:
            flush_stream()
            for cells in block.rows:
                reader.row(_row(cells, True), positional=True)
        elif isinstance(block, Table):
            stream.extend(c for cells in block.rows for c in cells)
        elif isinstance(block, Paragraph):
            if paragraphs_are_cells:
                stream.append(block.text)
            else:
                reader.paragraph(block.text)
    flush_stream()
    reader.finish_active()
    reader.finish_requests()
    reader.finish_review()
    return reader.out
