"""Who wrote the report, for which year, when it was published, and its six sections.

Titles come in many shapes (issuer and year on one line or two, the year first, no title at
all), so the issuer is taken from the strongest evidence available, in order: the title, the
signature at the end, the portal the report names as its own (“X”门户网站), and the contact
sentence. The report year is the year the report covers, never the publication year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nianbao.parsers.document import DateEvidence, Document
from nianbao.parsers.values import normalise_text
from nianbao.vocabulary import dates, sections
from nianbao.vocabulary.issuers import ORGAN_END
from nianbao.vocabulary.titles import REPORT_NAME, lookalike_reason, names_report

_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?")
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
    y, m, d = int(y), int(m), int(d)
    if not (1990 <= y <= 2100 and 1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _title(doc: Document) -> str | None:
    if doc.title_hint and names_report(normalise_text(doc.title_hint)):
        return normalise_text(doc.title_hint)
    paras = [normalise_text(p) for p in doc.paragraphs[:12]]
    paras = [p for p in paras if p]
    for i, p in enumerate(paras[:8]):
        if names_report(p) and len(p) <= 60 and not p.startswith(("本", "根据", "按照")):
            # "曲沃县人民政府" / "2023年政府信息公开工作年度报告" on two lines
            if re.match(r"^(19|20)\d{2}", p) and i > 0 and len(paras[i - 1]) <= 30:
                prev = paras[i - 1]
                if re.search(ORGAN_END + "$", prev):
                    return prev + p
            return p
    if doc.title_hint:
        return normalise_text(doc.title_hint)
    first = next((p for p in paras if len(p) <= 60), None)
    return first if first and re.search(r"报告|报表|年报|解读|图解|预算|决算", first) else None


def _issuer_from_title(title: str) -> str | None:
    t = re.sub(r"[《》〈〉“”\"]", "", title)
    t = re.sub(r"^关于", "", t)
    m = REPORT_NAME.search(t)
    head = t[: m.start()] if m else t
    head = _YEAR_IN_TITLE.sub("", head).strip("的 ")
    head = re.sub(r"(本级)$", "", head)
    return head if re.search(r"[\u4e00-\u9fff]{2}", head) else None


def _issuer_fallbacks(text_lines: list[str]) -> tuple[str, str] | None:
    tail = [ln for ln in text_lines[-6:] if ln]
    for i, ln in enumerate(tail):
        if re.fullmatch(r".{2,30}" + ORGAN_END, ln) and any(_DATE.search(x) for x in tail[i:]):
            return ln, "signature"
    body = "".join(text_lines)
    m = re.search(r"[“\"]([^”\"]{2,30}?人民政府)[”\"]\s*(?:门户)?网站", body)
    if m:
        return m.group(1), "portal named in the text"
    m = re.search(r"请与(.{2,30}?" + ORGAN_END + r")联系", body)
    if m:
        return m.group(1), "contact sentence"
    return None


def _report_year(title: str | None, text: str) -> tuple[int | None, str | None]:
    if title:
        m = _YEAR_IN_TITLE.search(title)
        if m:
            return int(m.group(1)), "title"
    m = re.search(r"((?:19|20)\d{2})年1月1日(?:起)?至(?:(?:19|20)\d{2}年)?12月31日", text)
    if m:
        return int(m.group(1)), "statistics period"
    m = re.search(r"((?:19|20)\d{2})年(?:度)?政府信息公开(?:工作)?(?:年度)?报告", text)
    if m:
        return int(m.group(1)), "report named in the text"
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


def url_dates(url: str) -> list[DateEvidence]:
    """Dates CMSs put in detail URLs (TRS t20240129_, Hanweb art/2024/1/29, /20240129/)."""
    patterns = [
        r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+",
        r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/",
        r"/((?:19|20)\d{2})(\d{2})(\d{2})/",
        r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/",
    ]
    for p in patterns:
        m = re.search(p, url)
        if m and (iso := iso_date(*m.groups())):
            return [DateEvidence("url", iso, m.group(0).strip("/"))]
    return []


def read_metadata(doc: Document, source: str) -> Metadata:
    lines = [normalise_text(p) for p in doc.paragraphs]
    text = "".join(lines)
    meta = Metadata(title=_title(doc))
    if meta.title:
        meta.issuer = _issuer_from_title(meta.title)
        meta.issuer_source = "title"
    if not meta.issuer:
        found = _issuer_fallbacks(lines)
        if found:
            meta.issuer, meta.issuer_source = found
    meta.report_year, meta.year_source = _report_year(meta.title, text)
    if meta.report_year is None:
        standalone = [int(ln) for ln in lines[:5] if re.fullmatch(r"(19|20)\d{2}", ln)]
        if standalone:
            meta.report_year, meta.year_source = standalone[0], "year printed above the text"
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
