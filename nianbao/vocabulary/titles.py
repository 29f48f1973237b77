"""What a title names: a 政府信息公开工作年度报告, a look-alike, or the column that lists them.

Portals put 政府网站工作年度报表, 法治政府建设年度报告, 解读/图解 pages and budgets right next to
the 年报, so the same rules decide twice: the crawler reads a link's text before downloading
anything, and the parser reads the document's own title before filing it. One set of rules
serves both, so they can never disagree.

An explanation of a report (解读, 图解, 一图读懂…) names the report in its title and is still not
one; every other look-alike is another kind of document and is recognised only when the title
does not name the 年报 itself (a 审计局's 年报 is a report, an 审计报告 is not).
"""

from __future__ import annotations

import re

# The name of the report in its common variants: 政府信息公开工作年度报告, 政务信息公开工作开展年度
# 报告, 信息公开工作2023年度报告, 政府信息公开年度工作报告, (年度)政府信息公开工作报告, 2023年度
# 报告 / 2023年报. A match starts where the name starts (政府/政务 included): the parser reads the
# issuer printed just before it.
REPORT_NAME = re.compile(
    r"(政府|政务)?信息公开.{0,12}?(年度报告|年报)"
    r"|(政府|政务)?信息公开(工作)?(开展)?(年度)?(工作)?报告"
    r"|(19|20)\d{2}\s*年?度?\s*(年度报告|年报)"
)
# A year, in digits or in Chinese numerals (二〇二三): a link to a report names its year.
YEAR = re.compile(r"(19|20)\d\d|[〇零一二][〇零一二三四五六七八九]{3}")

# Explanations of a report: look-alikes even though they name the report.
EXPLANATIONS = (
    (re.compile(r"图解|解读|一图读懂|图说|政策问答"), "an explanation (图解/解读) of a report"),
)
# Other documents published next to the 年报, with what they are.
OTHER_DOCUMENTS = (
    (re.compile(r"网站.{0,8}(年度)?报表|政府网站.{0,6}年度(工作)?报告"),
     "a 政府网站工作年度报表, not a 年报"),
    (re.compile(r"法治政府|法治建设"), "a 法治政府建设年度报告, not a 年报"),
    (re.compile(r"预算|决算"), "a budget or final accounts document"),
    (re.compile(r"工作要点|落实情况"), "a 政务公开工作要点 document"),
    (re.compile(r"工作计划|述职"), "a work plan or report of duties"),
    (re.compile(r"统计年鉴|统计公报|国民经济"), "a statistical yearbook or bulletin"),
    (re.compile(r"社会责任"), "a social-responsibility report"),
    (re.compile(r"政务服务.{0,6}报告"), "a 政务服务 report"),
    (re.compile(r"审计(工作|结果)?报告|审计公告"), "an audit report"),
    (re.compile(r"安全生产.{0,4}报告"), "a work-safety report"),
)

# Links and pages of the column that lists the reports, and of the disclosure platform above it.
COLUMN_TITLE = re.compile(r"信息公开年报|信息公开年度报告|年度报告|年报")
COLUMN_PAGE_TITLE = re.compile(r"信息公开年报|信息公开年度报告")
DISCLOSURE_TITLE = re.compile(r"政务公开|信息公开|政府信息|公开目录|法定主动公开")
COLUMN_SLUG = re.compile(r"/(zfxxgknb|xxgknb|gknb|ndbg|xxgkndbg|zwgknb)(/|$)", re.IGNORECASE)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def names_report(text: str) -> bool:
    """Whether ``text`` names the 政府信息公开工作年度报告 (in any of its variants)."""
    return REPORT_NAME.search(_compact(text)) is not None


def lookalike_reason(title: str) -> str | None:
    """Why a document titled ``title`` is not a 年报 although it looks like one, or None."""
    text = _compact(title)
    for pattern, why in EXPLANATIONS:
        if pattern.search(text):
            return why
    if REPORT_NAME.search(text):
        return None
    return next((why for pattern, why in OTHER_DOCUMENTS if pattern.search(text)), None)


def title_kind(text: str) -> str:
    """``report`` / ``lookalike`` / ``other`` for a link's text: a report link names the
    report and its year (the column's own name, 政府信息公开年报, has none)."""
    if lookalike_reason(text):
        return "lookalike"
    compact = _compact(text)
    if REPORT_NAME.search(compact) and YEAR.search(compact):
        return "report"
    return "other"
