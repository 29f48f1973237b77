"""Who wrote the report, for which year, when it was published, and its six sections.

The title and the issuer come from :mod:`nianbao.parsers.attribution` (the evidence and its
ranking are described there); this module finds the title among the page's first lines, keeps
every date with its source, and splits the text into its six sections. The report year is the
year the report covers, never the publication year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from nianbao.parsers import attribution
from nianbao.parsers.document import DateEvidence, Document, Paragraph
from nianbao.parsers.values import normalise_text
from nianbao.vocabulary import dates, sections
from nianbao.vocabulary.titles import lookalike_reason

_DATE = re.compile(r"((?:19|20)\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")


@dataclass
class Metadata:
    title: str | None = None
    issuer: str | None = None
    issuer_source: str | None = None
    report_year: int | None = None
    year_source: str | None = None
    dates: list[DateEvidence] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    lookalike: str | None = None


def iso_date(y: str | int, m: str | int, d: str | int) -> str | None:
    """``YYYY-MM-DD``, or None for a year outside 1990–2100 or a day the calendar does not have
    (a page may print 2月30日)."""
    try:
        day = date(int(y), int(m), int(d))
    except ValueError:
        return None
    return day.isoformat() if 1990 <= day.year <= 2100 else None


_BOX_LINE = re.compile(
    r"^(?:索引号|发布机构|组配分类|主题分类|生成日期|成文日期|公开方式|文号|发文字号|发文机关|"
    r"信息类别|信息索取号|效力属性|标题|名称|信息名称|关键字|关键词|所属机构|发文日期|分类)"
)


def _title_like(line: str) -> bool:
    return bool(line) and len(line) <= 70 and not _SENTENCE_MARK.search(line) and not (
        attribution.NOT_TITLE_START.match(line) or _BOX_LINE.match(line)
    )


_SENTENCE_MARK = re.compile(r"[。；;]|[，,].*[，,]")
_DOCUMENT_WORD = re.compile(r"报告|报表|年报|解读|图解|预算|决算")
_HEADING_TWO = re.compile(r"^[二2][、.．]")
_YEAR_ALONE = re.compile(r"(19|20)\d{2}")
_NUMBERED_HEADING = re.compile(r"^[一二三四五六七八九十][、.．]")
# A title run into its first sentence: 某某局2024年…年度报告根据《条例》…
_SENTENCE_AFTER_TITLE = re.compile(r"根据|依据|按照|由|是|本")


def _title_candidates(
    doc: Document, lines: list[str], box: dict[str, str]
) -> list[tuple[str, str]]:
    """(title, where it was read) for every line or pair of lines that reads as the report's
    title, in page order, chrome skipped: a title split over two or three lines, a title run
    into the first sentence, a line naming only the issuer above the report's name."""
    found: list[tuple[str, str]] = []
    hint = normalise_text(doc.title_hint or "")
    if hint and attribution.REPORT_NAME.search(hint) and not attribution.is_chrome(hint):
        found.append((hint, "page title"))
    for key in ("标题", "名称", "信息名称", "关键字", "关键词"):
        value = normalise_text(box.get(key, ""))
        if attribution.REPORT_NAME.search(value):
            found.append((value, f"box:{key}"))
    body = [ln.strip("|") for ln in lines[:20] if ln and not attribution.is_chrome(ln)]
    for i, line in enumerate(body):
        m = attribution.REPORT_NAME.search(line)
        if m and _title_like(line[: m.end()]) and (
            _title_like(line) or _SENTENCE_AFTER_TITLE.match(line, m.end())
        ):
            title = line if _title_like(line) else line[: m.end()]
            if attribution.issuer_in_title(title) is None and i > 0 and _names_organ(body[i - 1]):
                found.append((body[i - 1] + title, "title"))
            found.append((title, "title"))
        elif _title_like(line) and len(line) <= 40:
            for k in (1, 2):
                joined = "".join(body[i : i + k + 1])
                jm = attribution.REPORT_NAME.search(joined)
                if jm and jm.start() < len(line) < jm.end() and len(joined) - jm.end() <= 8 and all(
                    _title_like(x) and len(x) <= 40 for x in body[i : i + k + 1]
                ):
                    found.append((joined, "title over lines"))
                    break
    return found


def _names_organ(line: str) -> bool:
    return _title_like(line) and len(line) <= 30 and attribution.as_issuer(line) is not None


def _title(doc: Document, lines: list[str], box: dict[str, str]) -> tuple[str | None, list]:
    candidates = _title_candidates(doc, lines, box)
    if candidates:
        return candidates[0][0], candidates
    if doc.title_hint:  # e.g. a page title naming a look-alike (解读, 预算)
        return normalise_text(doc.title_hint), []
    first = next((ln for ln in lines[:12] if ln and _title_like(ln) and
                  not attribution.is_chrome(ln)), None)
    if first and _DOCUMENT_WORD.search(first):
        return first, []
    return None, []


def _issuer(doc: Document, lines: list[str], box: dict[str, str],
            candidates: list[tuple[str, str]]) -> tuple[str | None, str | None, str | None]:
    """(issuer, evidence, the title it came from) by the ranking in the module docstring."""
    for title, where in candidates:
        if name := attribution.issuer_in_title(title):
            return name, where, title
    opening = _opening_sentences(lines)
    for sentence in opening:
        if name := attribution.issuer_in_sentence(sentence):
            return name, "opening sentence", None
    if name := attribution.as_issuer(normalise_text(box.get("发文机关", ""))):
        return name, "box:发文机关", None
    if name := attribution.signature(lines):
        return name, "signature", None
    for sentence in _sentences(lines[:40]):
        if name := attribution.subject_of(sentence):
            return name, "subject of a sentence", None
    text = "\n".join(lines)
    for find, where in ((attribution.portal_of_government, "portal the report names"),
                        (attribution.contact, "contact sentence")):
        if name := find(text):
            return name, where, None
    for key in ("来源", "信息来源"):
        if name := attribution.as_issuer(normalise_text(box.get(key, ""))):
            return name, f"box:{key}", None
    if name := attribution.as_issuer(normalise_text(doc.meta.get("ContentSource", ""))):
        return name, "meta:ContentSource", None
    return None, None, None


def _sentences(lines: list[str]) -> list[str]:
    return [x for line in lines if not attribution.is_chrome(line)
            for x in attribution.SENTENCE_END.split(line) if x]


def _opening_sentences(lines: list[str]) -> list[str]:
    """Sentences of the report's first paragraphs, before table 二 (where narrative stops)."""
    out: list[str] = []
    for line in lines[:30]:
        if _HEADING_TWO.match(line) and "主动公开" in line:
            break
        if line and not attribution.is_chrome(line):
            out.extend(x for x in attribution.SENTENCE_END.split(line) if x)
    return out[:25]


def _report_year(title: str | None, lines: list[str]) -> tuple[int | None, str | None]:
    if title and (year := attribution.year_in_title(title)):
        return year, "title"
    found = attribution.report_year_in_text([ln for ln in lines if not attribution.is_chrome(ln)])
    if found:
        return found
    standalone = [int(ln) for ln in lines[:5] if _YEAR_ALONE.fullmatch(ln)]
    if standalone:
        return standalone[0], "year printed above the text"
    return None, None


def _sections(doc: Document) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current: str | None = None
    last_numeral = 0
    for para in doc.paragraphs:
        t = normalise_text(para)
        m = sections.NUMBERED_HEADING.match(t)
        if m and len(t) <= 40 and not t.startswith(("（", "(")):
            numeral = sections.NUMERALS.index(m.group(1)) + 1
            name = sections.section_of(t)
            if name and numeral > last_numeral:
                current, last_numeral = name, numeral
                out.setdefault(current, [])
                continue
        if current:
            out[current].append(para.strip())
    return {k: "\n".join(v).strip() for k, v in out.items()}


def _signature_date(lines: list[str]) -> DateEvidence | None:
    for ln in reversed([x for x in lines[-6:] if x]):
        m = _DATE.fullmatch(ln)
        if m and (iso := iso_date(*m.groups())):
            return DateEvidence("signature", iso, ln)
    return None


_URL_DATES = tuple(re.compile(p) for p in (
    r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+",
    r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/",
    r"/((?:19|20)\d{2})(\d{2})(\d{2})/",
    r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/",
))


def url_dates(url: str) -> list[DateEvidence]:
    """Dates CMSs put in detail URLs (TRS t20240129_, Hanweb art/2024/1/29, /20240129/)."""
    for p in _URL_DATES:
        m = p.search(url)
        if m and (iso := iso_date(*m.groups())):
            return [DateEvidence("url", iso, m.group(0).strip("/"))]
    return []


def _head_lines(doc: Document) -> list[str]:
    """The first lines of the page in reading order, table rows included: converters turn a
    box, or a title followed by a stray pipe, into table rows."""
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            if _NUMBERED_HEADING.match(block.text.strip()) and out:
                break
            out.append(block.text.strip())
        else:
            out.extend(" | ".join(c.strip() for c in row).strip(" |") for row in block.rows[:12])
        if len(out) >= 30:
            break
    return out


def read_metadata(doc: Document, source: str) -> Metadata:
    head = _head_lines(doc)
    lines = [normalise_text(p) for p in doc.paragraphs]
    box = attribution.box_fields(head)
    title, candidates = _title(doc, [normalise_text(x) for x in head] + lines, box)
    meta = Metadata(title=title)
    meta.issuer, meta.issuer_source, issuer_title = _issuer(doc, lines, box, candidates)
    if issuer_title:
        meta.title = issuer_title
    meta.report_year, meta.year_source = _report_year(meta.title, lines)
    meta.dates = list(doc.dates)
    if sig := _signature_date(lines):
        meta.dates.append(sig)
    if source.startswith(("http://", "https://")):
        meta.dates.extend(url_dates(source))
    meta.sections = _sections(doc)
    meta.lookalike = lookalike_reason(meta.title or "")
    return meta


def published_date(evidence: list[DateEvidence]) -> str | None:
    """The publication date by the evidence ranking; every date stays in ``date_evidence``."""
    return dates.published_date(e.as_dict() for e in evidence)
