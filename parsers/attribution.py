"""Who published a report and for which year, from the page as portals print it.

Attribution decides every compliance verdict, so each answer carries the evidence it came from
and nothing is guessed: a page whose text names no issuer gets ``None``, never a sentence.

Real pages put a lot in front of a report: navigation (当前位置：首页 > … > 年报), the
portal's 信息公开目录 box (索引号 / 发布机构 / 标题 / 生成日期), date and source lines. The
title may be split over lines, printed twice, run into the first sentence, or missing. The
issuer is then read, in this order of strength, from: the title (or the box's 标题); the
sentence that names the report (现公布某某局2023年…年度报告, 由某某镇人民政府…编制); the box's
发文机关; the signature; a sentence the organ opens (2023年，某某街道办事处认真贯彻…); a
government's own portal when the text speaks as a government (我县 … 某某县人民政府网站); the
contact line (请与某某局办公室联系 → 某某局); the box's 来源. The 发布机构 is the publishing
office (often the government's office for all its departments) and is not used. Names are kept
as printed: matching a name to a site's issuers and aliases is the store's job
(``nianbao.storage.issuers``, by the rule in ``nianbao.vocabulary.issuers``).

The report year is the year covered: from the title, the statistics period, the report named in
the text, or a sentence opening with the year (2022年，我街道…) — never the publication date.
"""

from __future__ import annotations

import re

from nianbao.vocabulary import issuers
from nianbao.vocabulary.titles import REPORT_NAME

# -- the report's name -------------------------------------------------------------------------

_YEAR = re.compile(r"(?:19|20)\d{2}\s*年(?:度)?|[(（](?:19|20)\d{2}\s*年度?[)）]|(?:19|20)\d{2}")
# A body's name as printed: the vocabulary's endings, perhaps with a note in brackets.
ORGAN_END = re.compile(issuers.ORGAN_END + r"(?:[(（][^()（）]{1,12}[)）])?$")
# Words a sentence puts in front of the issuer's name before the report's name.
_LEAD_WORDS = re.compile(
    r"^(?:现将|现向社会|向社会|特向社会|现特向社会|特向|现特|现|特|将|并|对|本年度|本报告|本|关于|"
    r"为认真做好|认真做好|为做好|做好|结合|编制并公布|编制并发布|编制发布|编制了|编制|制定|"
    r"公布了?|公开了?|发布了?|印发|汇报|报告|予以公开|形成了?|撰写|由|是|了|的|《|“|\")+"
)
_TRAIL_WORDS = re.compile(
    r"(?:特此|认真|负责)?(?:编制了?|制作了?|发布了?|公布了?|形成了?|撰写了?)$"
)
_INTERNAL_OFFICE = re.compile(issuers.INTERNAL_OFFICE + r"(?:[(（][^()（）]{1,12}[)）])?$")

# -- page chrome -------------------------------------------------------------------------------

_BREADCRUMB = re.compile(
    r"^(?:您?(?:现在|当前)?(?:所在)?的?位置|当前页面|所在位置|当前栏目)"
    r"|^(?:首页|网站首页|主页)\s*(?:[>/»›]|>>|＞)"
    r"|^[>/»›＞]"
)
_CHROME = re.compile(
    r"^(?:[-•·|*]\s*)?(?:设为首页|加入收藏|无障碍|长者|长辈版|关怀版|敬老版|登录|注册|智能问答|"
    r"网站支持|简体版|繁体版|字号|字体|打印|分享|收藏|访问量|浏览次数|点击|扫一扫|【|语音播报|"
    r"热搜词|页面|配色|辅助线|重置|退出|EN$|相关解读|相关文件|正文复制|正文$|发布时间|发布日期|"
    r"发表日期|发表时间|日期[:：]|时间[:：]|来源[:：]|信息来源|作者[:：])"
)
# The portal's 信息公开目录 box: key/value pairs on one or several lines.
_BOX_KEYS = (
    "标题", "名称", "信息名称", "关键字", "关键词", "发文机关", "发布机构", "来源", "信息来源",
    "所属机构", "索引号", "文号", "发文字号", "生成日期", "成文日期", "发布日期",
)
_BOX_FIELD = re.compile(
    r"(" + "|".join(sorted(_BOX_KEYS, key=len, reverse=True)) + r")\s*[:：|]\s*([^|]*?)"
    r"(?=\s*(?:" + "|".join(sorted(_BOX_KEYS, key=len, reverse=True)) + r")\s*[:：|]|\s*\||$)"
)
NOT_TITLE_START = re.compile(
    r"^(?:根据|依据|按照|为|本|现|特|由|关于\d|[一二三四五六七八九十]、|[（(][一二三四五六七八九十])"
)


_GAP_IN_CHINESE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")
SENTENCE_END = re.compile(r"(?<=[。；;])")  # split after it: the sentences of a line


def squash(text: str) -> str:
    """Drop the spaces CMS pages and PDFs scatter through Chinese text (报 告 → 报告)."""
    return _GAP_IN_CHINESE.sub("", text).strip()


_MENU_ITEM = re.compile(r"[•·▪►]\s*\S{1,10}")
_ONLY_PIPES = re.compile(r"[|\s]+")


def is_chrome(line: str) -> bool:
    """Navigation, site furniture and date/source lines printed around a report."""
    t = line.strip()
    if _MENU_ITEM.fullmatch(t):
        return True
    t = t.lstrip("-•·* ")
    return bool(_BREADCRUMB.search(t) or _CHROME.match(t) or _ONLY_PIPES.fullmatch(t))


def box_fields(lines: list[str]) -> dict[str, str]:
    """The portal's 信息公开目录 box (索引号 / 发布机构 / 标题 …) in the first lines of a page."""
    found: dict[str, str] = {}
    for line in lines[:15]:
        if len(line) > 400:  # a paragraph of text, not a box row
            continue
        for key, value in _BOX_FIELD.findall(line):
            value = value.strip(" |")
            if value and key not in found:
                found[key] = value
    return found


# -- the issuer in a title or a sentence -------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[，。；：,;:、！？!?|｜_—]|\s-\s|-(?=[\u4e00-\u9fff])")
_QUOTES_AND_MARKS = re.compile(r"[《》〈〉“”\"'【】\[\]#*_\-—－]")
_NON_CHINESE_LEAD = re.compile(r"^[^\u4e00-\u9fff]+")
_OWN_LEVEL = re.compile(r"(?:本级|的)$")


def organ_before(text: str, end: int) -> str | None:
    """The organ named right before ``text[end:]`` (the report's name), as printed.

    ``某某县人民政府2021年政府信息公开…`` → 某某县人民政府; in ``…郭道镇人民政府信息公开…`` the
    政府 is shared with the report's name, so 郭道镇人民 + 政府. Years, quotes and the verbs that
    introduce a name (现公布, 编制了, 做好…) are dropped; what is left must end like an organ.
    """
    head = _CLAUSE_BREAK.split(text[:end])[-1]
    head = _YEAR.sub("", head)
    head = _QUOTES_AND_MARKS.sub("", head)
    head = _NON_CHINESE_LEAD.sub("", head.strip())
    head = _LEAD_WORDS.sub("", head)
    head = _TRAIL_WORDS.sub("", head)
    if head.endswith("人民") and text[end:end + 2] == "政府":
        head += "政府"
    return as_issuer(_OWN_LEVEL.sub("", head))


_NOT_A_NAME = re.compile(r"网站|网|专栏|平台|栏目|系统|通过|可在")
_NOTE_AT_END = re.compile(r"[(（][^()（）]{1,8}[)）]$")
_NOT_CHINESE = re.compile(r"[^\u4e00-\u9fff（）()]")
_PARTY_COMMITTEE = re.compile(r"(?:党委|区委|县委|市委)")
_TITLE_LEAD = re.compile(r"^(?:【[^】]*】|#+\s*|关于)")
_TITLE_BOX_KEYS = tuple(re.compile(rf"^.*?{key}\s*[:：]")
                        for key in ("标题", "名称", "信息名称", "关键字", "关键词"))
_NAME_AFTER_TITLE = re.compile(r"^[_\-—－:：\s]+(.{2,30})$")


def as_issuer(name: str) -> str | None:
    """``name`` if it reads as an organ's name (not 我局, not a sentence), without a trailing
    note such as (机关) or an internal office (某某局办公室 → 某某局)."""
    name = _NOTE_AT_END.sub("", name.strip())
    name = without_internal_office(name)
    if not (2 <= len(name) <= 40) or name.startswith(("我", "本", "全", "各", "单位")):
        return None
    if name in issuers.GENERIC_NAMES or _NOT_A_NAME.search(name):
        return None
    if _NOT_CHINESE.search(name) or _PARTY_COMMITTEE.search(name):
        return None
    return name if ORGAN_END.search(name) else None


def issuer_in_title(title: str) -> str | None:
    """The issuer a title names: before the report's name, or after it (2020年报_审计局)."""
    t = squash(title)
    t = _TITLE_LEAD.sub("", t)
    for box_key in _TITLE_BOX_KEYS:
        t = box_key.sub("", t)
    m = REPORT_NAME.search(t)
    if not m:
        return None
    found = organ_before(t, m.start())
    if found:
        return found
    tail = _NAME_AFTER_TITLE.match(t[m.end():])
    return as_issuer(tail.group(1)) if tail else None


def issuer_in_sentence(sentence: str) -> str | None:
    """An issuer named where a sentence names the report (现公布某某局2023年…年度报告)."""
    s = squash(sentence)
    for m in REPORT_NAME.finditer(s):
        found = organ_before(s, m.start())
        if found:
            return found
    for pattern in _NAMING_SENTENCES:
        m = pattern.search(s)
        if m and (name := as_issuer(_YEAR.sub("", m.group(1)))):
            return name
    return None


# Other ways an opening sentence names the issuer: 由某某镇人民政府党政办公室编制; 现将某某街道
# 办事处2021年度信息公开工作的…报告如下; 为认真做好某某局政府信息公开工作; 结合2025年某某局…
_NAMING_SENTENCES = [
    re.compile(r"由(.{2,40}?)(?:负责)?(?:编制|综合|汇总|根据|按照|结合)"),
    re.compile(r"(?:现将|现就|现对)(?:(?:19|20)\d{2}\s*年度?)?(.{2,30}?)(?:(?:19|20)\d{2}\s*年度?)"
               r"(?:政府|政务)?(?:信息)?公开"),
    re.compile(r"(?:做好|结合(?:19|20)\d{2}\s*年度?)(.{2,30}?)(?:政府|政务)?信息公开工作"),
]


def without_internal_office(name: str) -> str:
    """某某局办公室 → 某某局; 某某镇人民政府党政办公室 → 某某镇人民政府. A government's own
    办公室 (某某县人民政府办公室) is an organ itself and stays."""
    m = _INTERNAL_OFFICE.search(name)
    if not m or m.start() == 0:
        return name
    rest = name[: m.start()]
    if m.group(0).startswith("办公室") and rest.endswith("政府"):
        return name
    return rest if ORGAN_END.search(rest) else name


# Verbs that follow the subject of an overview's first sentence: 2023年，某某街道办事处认真贯彻…
_SUBJECT = re.compile(
    r"^(?:截至[^，,]{4,16}[,，])?(?:(?:19|20)\d{2}\s*年度?(?:以来)?[,，、]?)?(?:在[^，,。]{2,40}?下[,，]?)?"
    r"(?P<name>[^\s，,。；、：:“”《》()（）]{2,30}?)"
    r"(?:认真|坚持|严格|高度|按照|全面|深入|以|紧紧|根据|立足|聚焦|进一步|积极|持续|依照|结合|"
    r"贯彻|始终|不断|依托|围绕|扎实|切实|通过|着力|严格按照|继续|把|主动|共|累计)"
)


_NOT_A_SUBJECT = re.compile(
    r"^(?:不断|积极|认真|进一步|坚持|全面|深入|持续|加强|推进|做好|围绕|按照|根据|依托|通过|结合|严格|"
    r"切实|着力|扎实|大力|努力|紧紧|及时|主动|依法|聚焦|落实|完善|建立|健全|强化|优化|规范|提升|抓好|"
    r"利用|充分|加大|坚决|始终|重点|同时|今年|本年|全年|共|并)"
)


# …or whose information-disclosure work it opens with: 2022年，商务局信息公开工作在…
_WORK_OF = re.compile(
    r"^(?:(?:19|20)\d{2}\s*年度?(?:以来)?[,，、]?)(?P<name>[^\s，,。；、：:“”《》()（）]{2,30}?)"
    r"(?:政府|政务)?信息公开工作"
)


def subject_of(sentence: str) -> str | None:
    """The organ a sentence opens with (2023年，某某街道办事处认真贯彻…; 2022年，某某局信息公开
    工作在…)."""
    text = squash(sentence)
    for pattern in (_SUBJECT, _WORK_OF):
        m = pattern.match(text)
        if m and not _NOT_A_SUBJECT.match(m.group("name")) and (
            name := as_issuer(m.group("name"))
        ):
            return name
    return None


# -- the report year ----------------------------------------------------------------------------

_STATISTICS_PERIOD = re.compile(
    r"((?:19|20)\d{2})\s*年?\s*1\s*月?\s*1\s*日(?:起)?\s*(?:至|到|—|-|－|~|——)"
)
_STATISTICS_WORDS = re.compile(
    r"(?:统计期限|统计时限|统计时间|统计期|统计书记时间段|统计数据时间|数据统计|截至|截止)"
    r"[^。；]{0,16}?((?:19|20)\d{2})\s*年?\s*(?:1\s*月|12\s*月|度|年)"
)
_REPORT_NAMED_WITH_YEAR = re.compile(
    r"((?:19|20)\d{2})\s*年(?:度)?[^，。；\d]{0,30}?(?:政府|政务)?信息公开(?:工作)?"
    r"(?:年度)?(?:工作)?(?:报告|年报|情况|工作)"
)
_BODY_YEAR = re.compile(r"^((?:19|20)\d{2})\s*年(?:度)?(?:以来)?[,，、]")


_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?度?")


def year_in_title(title: str) -> int | None:
    m = _TITLE_YEAR.search(squash(title))
    return int(m.group(1)) if m else None


def report_year_in_text(paragraphs: list[str]) -> tuple[int, str] | None:
    """The year covered, from the statistics period, the report named in the text, or the
    first sentence of the overview (2022年，我街道…)."""
    text = "".join(squash(p) for p in paragraphs[:40])
    for pattern, source in ((_STATISTICS_PERIOD, "statistics period"),
                            (_STATISTICS_WORDS, "statistics period"),
                            (_REPORT_NAMED_WITH_YEAR, "report named in the text")):
        m = pattern.search(text)
        if m:
            return int(m.group(1)), source
    for p in paragraphs[:40]:
        for sentence in SENTENCE_END.split(squash(p)):
            m = _BODY_YEAR.match(sentence)
            if m:
                return int(m.group(1)), "first sentence of the body"
    return None


# -- weaker evidence at the end of the page -------------------------------------------------

_CONTACT = re.compile(r"(?:请与|请联系[:：]?|联系单位[:：])(.{2,40}?)(?:联系|[(（，,。;；]|$)")
_CONTACT_ADDRESS = re.compile(r"联系[^。]{0,12}?地址[:：](.{2,40}?)(?:[,，。;；（(]|电话|$)")
_GOVERNMENT_SELF = re.compile(r"我(?:县|区|市|旗|盟|州)")
_PORTAL = re.compile(r"((?:人民)?政府)[”」\"]?(?:门户)?网站?")
_PLACE_SPLIT = re.compile(r"可以从|可从|从|通过|登录|访问|依托|利用|在")
_PLACE_LEAD = re.compile(r"^(?:在|通过|利用|依托|于|及|和|的|经|由|向|到|从|对|为|按|是)+")


_SIGNATURE_NAME = re.compile(r"[\u4e00-\u9fff（）()]{2,30}")
_SIGNATURE_DATE = re.compile(r"(?:19|20)\d{2}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*日?")
_BODY_SELF = re.compile(r"我(?:局|委|办|镇|乡|街道|单位|中心)")
_CHINESE_RUN_AT_END = re.compile(r"[\u4e00-\u9fff]{1,14}$")
_PLACE_END = re.compile(r"(?:市|县|区|旗|盟)$")


def signature(lines: list[str]) -> str | None:
    """An organ's name alone on one of the last lines, with a date after it."""
    tail = [ln for ln in lines[-6:] if ln]
    for i, line in enumerate(tail):
        if _SIGNATURE_NAME.fullmatch(line) and any(
            _SIGNATURE_DATE.fullmatch(x)
            for x in tail[i + 1:]
        ):
            return as_issuer(line)
    return None


def contact(text: str) -> str | None:
    """The office a reader is told to contact, as its organ (某某局办公室 → 某某局), or the
    office given as the contact address (地址：某某乡人民政府党政综合办公室)."""
    for pattern in (_CONTACT, _CONTACT_ADDRESS):
        for m in pattern.finditer(text):
            if name := as_issuer(m.group(1)):
                return name
    return None


def portal_of_government(text: str) -> str | None:
    """A government that speaks of itself (我县, 我旗) and names its own portal (某某旗政府网站)."""
    if not _GOVERNMENT_SELF.search(text) or _BODY_SELF.search(text):
        return None
    for m in _PORTAL.finditer(text):
        before = _CHINESE_RUN_AT_END.search(text[: m.start()])
        run = _PLACE_SPLIT.split(before.group(0))[-1] if before else ""
        name = _PLACE_LEAD.sub("", run)
        if len(name) >= 2 and _PLACE_END.search(name):
            return name + m.group(1)
    return None
