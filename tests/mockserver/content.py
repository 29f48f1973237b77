"""Texts the replica portals carry besides the seed reports: look-alike documents, bad-link
titles, stub pages and error pages.

The look-alikes are the documents a crawler most easily mistakes for a 政府信息公开工作年度报告:
they sit in the same column, share words with it (年度, 报告/报表, 政府信息公开) and some carry
tables of numbers. Their texts are written for the replicas (not taken from the seeds or from
any real portal); their numbers are invented from a hash so that they never change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


def invented(*parts: object, low: int = 0, high: int = 100_000) -> int:
    """A stable made-up number in [low, high) for the given labels."""
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()
    return low + int(digest[:12], 16) % (high - low)


@dataclass(frozen=True)
class Lookalike:
    """A look-alike document kind: its title pattern, date and body (HTML of the article)."""

    title: str
    published: datetime
    body: Callable[[str, str, str], str]  # (site name, host, site code) -> HTML


def _paragraphs(*texts: str) -> str:
    return "\n".join(f'<p style="text-indent: 2em;">{t}</p>' for t in texts)


def _website_report(name: str, host: str, code: str) -> str:
    """The 政府网站工作年度报表: a table of website statistics, published every January."""

    def n(label: str, lo: int = 100, hi: int = 100_000) -> int:
        return invented(host, label, low=lo, high=hi)

    rows = [
        ("网站名称", f"{name}门户网站"),
        ("首页网址", f"http://{host}/"),
        ("主办单位", name),
        ("网站类型", "√政府门户网站　□部门网站　□专项网站"),
        ("政府网站标识码", code),
        ("ICP备案号", f"ICP备{n('icp', 10_000_000, 99_999_999)}号"),
        ("独立用户访问总量（单位：个）", str(n("visitors"))),
        ("网站总访问量（单位：次）", str(n("visits", 100_000, 9_000_000))),
        ("信息发布（单位：条）　总数", str(n("posts", 500, 5_000))),
        ("　　概况类信息更新量", str(n("general", 10, 200))),
        ("　　政务动态信息更新量", str(n("news", 100, 2_000))),
        ("　　信息公开目录信息更新量", str(n("catalogue", 100, 2_000))),
        ("专栏专题（单位：个）　维护数量", str(n("topics", 2, 20))),
        ("　　新开设数量", str(n("new-topics", 0, 5))),
        ("解读回应　解读信息发布（单位：条）", str(n("readings", 5, 60))),
        ("办事服务　是否发布服务事项目录", "是"),
        ("互动交流　收到留言数量（单位：条）", str(n("messages", 10, 900))),
        ("　　办结留言数量（单位：条）", str(n("answered", 10, 900))),
        ("安全防护　安全检测评估次数（单位：次）", str(n("scans", 2, 24))),
        ("　　发现问题数量（单位：个）", str(n("issues", 0, 10))),
        ("是否建立安全监测预警机制", "是"),
    ]
    cells = "\n".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return (
        _paragraphs(f"根据《政府网站与政务新媒体检查指标》要求，现将{name}门户网站2023年度工作"
                    "情况报表公开如下。")
        + f'\n<table border="1" cellspacing="0" cellpadding="4" style="border-collapse: collapse;">'
        f"\n<tbody>\n{cells}\n</tbody>\n</table>\n"
        + _paragraphs(f"单位负责人：{name}办公室　　填报人：信息科　　填报日期：2024年1月15日")
    )


def _rule_of_law(name: str, host: str, code: str) -> str:
    """The 法治政府建设年度报告: another annual report, due at about the same time."""
    return _paragraphs(
        f"2023年，{name}坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治"
        "思想，全面落实《法治政府建设实施纲要（2021－2025年）》，法治政府建设各项工作取得新进展。"
        "现将有关情况报告如下。",
        "<strong>一、2023年推进法治政府建设的主要举措和成效</strong>",
        "（一）依法全面履行政府职能。持续深化“放管服”改革，动态调整权责清单，优化营商环境。",
        "（二）推进行政决策科学化、民主化、法治化。严格落实重大行政决策程序规定，"
        "重大决策事项均经过公众参与、专家论证、风险评估、合法性审查和集体讨论决定。",
        "（三）坚持严格规范公正文明执法。全面推行行政执法公示、执法全过程记录和重大执法决定"
        "法制审核制度，开展行政执法案卷评查。",
        "（四）强化行政权力制约和监督。自觉接受人大监督、民主监督和司法监督，深化政务公开，"
        "依法办理政府信息公开申请，按时发布政府信息公开工作年度报告。",
        "<strong>二、存在的不足和原因</strong>",
        "一是部分执法人员法治意识有待进一步提升；二是基层法治力量相对薄弱。",
        "<strong>三、2024年推进法治政府建设的主要安排</strong>",
        "2024年，我们将继续深入学习贯彻习近平法治思想，加强行政执法队伍建设，"
        "为经济社会高质量发展提供有力法治保障。",
    )


def _interpretation(name: str, host: str, code: str) -> str:
    """The 解读/图解 of the annual report: the report's words without its tables."""
    return _paragraphs(
        f"近日，{name}发布了《2023年政府信息公开工作年度报告》（以下简称《年度报告》）。"
        "为便于社会公众更好地了解《年度报告》的内容，现解读如下。",
        "<strong>一、《年度报告》的主要内容</strong>",
        "《年度报告》共分六个部分：总体情况，主动公开政府信息情况，收到和处理政府信息公开"
        "申请情况，政府信息公开行政复议、行政诉讼情况，存在的主要问题及改进情况，"
        "其他需要报告的事项。",
        "<strong>二、2023年政府信息公开工作的主要特点</strong>",
        "一是主动公开更加全面，二是依申请公开办理更加规范，三是平台建设持续加强，"
        "四是监督保障更加有力。",
        "<strong>三、下一步工作打算</strong>",
        "聚焦群众关切，进一步提高政府信息公开质量，持续优化政府信息公开专栏。",
        "（图解）一图读懂《2023年政府信息公开工作年度报告》：主动公开、依申请公开、"
        "复议诉讼、问题与改进四个板块。年度报告全文请见本栏目。",
    )


def _budget(name: str, host: str, code: str) -> str:
    """The 部门预算公开: a yearly disclosure with tables of numbers, in the same column."""
    total = invented(host, "budget", low=5_000, high=90_000)
    basic = total * 3 // 5
    return _paragraphs(
        f"{name}2024年部门预算公开说明",
        "<strong>第一部分　部门概况</strong>",
        "一、主要职能：贯彻执行党和国家的方针政策，负责本级政府日常工作的运转。",
        "二、部门预算单位构成：本部门预算为汇总预算，包括本级预算和所属单位预算。",
        "<strong>第二部分　2024年部门预算情况说明</strong>",
        f"一、收支预算总体情况：2024年收入预算总计{total / 100:.2f}万元，支出预算总计"
        f"{total / 100:.2f}万元。",
        f"二、基本支出预算{basic / 100:.2f}万元，项目支出预算{(total - basic) / 100:.2f}万元。",
        "三、“三公”经费预算情况说明：2024年“三公”经费预算较上年持平。",
        "<strong>第三部分　名词解释</strong>",
        "基本支出：指为保障机构正常运转、完成日常工作任务而发生的人员支出和公用支出。",
    )


LOOKALIKES: dict[str, Lookalike] = {
    "website_report": Lookalike(
        "{name}2023年政府网站工作年度报表", datetime(2024, 1, 15, 9, 30), _website_report
    ),
    "rule_of_law": Lookalike(
        "{name}2023年法治政府建设年度报告", datetime(2024, 2, 26, 16, 5), _rule_of_law
    ),
    "interpretation": Lookalike(
        "《{name}2023年政府信息公开工作年度报告》解读", datetime(2024, 3, 29, 10, 12),
        _interpretation,
    ),
    "budget": Lookalike("{name}2024年部门预算公开", datetime(2024, 2, 5, 11, 40), _budget),
}


@dataclass(frozen=True)
class BadLink:
    """A list entry whose target is broken or must not be fetched."""

    title: str
    published: datetime
    url: str | None  # absolute target; None = a path of the portal's own detail pattern
    expected: str  # what fetching it gives, for the manifest


BAD_LINKS: dict[str, BadLink] = {
    "dead": BadLink(
        "{name}2021年政府信息公开工作年度报告", datetime(2022, 3, 28, 15, 0), None, "404"
    ),
    "soft404": BadLink(
        "{name}2022年政府信息公开工作年度报告", datetime(2023, 3, 30, 9, 45), None,
        "200 soft 404 (页面不存在)",
    ),
    "offsite": BadLink(
        "全省政府信息公开年报汇总", datetime(2023, 4, 3, 10, 0),
        "http://zwgk.example-province.gov.cn/zfxxgknb/index.html", "502 unknown host",
    ),
    "loopback": BadLink(
        "年报数据内部接口", datetime(2023, 5, 8, 8, 30), "http://127.0.0.1:1/secret",
        "must not be fetched (loopback)",
    ),
    "metadata": BadLink(
        "年报数据备份", datetime(2023, 5, 9, 8, 30), "http://169.254.169.254/latest/meta-data/",
        "must not be fetched (link-local)",
    ),
}

# Unrelated pages every portal has (path slug -> title, text): they make the pages' navigation
# real links, as on a real portal, and give a crawler that wanders something harmless to find.
STUBS: dict[str, tuple[str, str]] = {
    "xxgkzn": ("政府信息公开指南", "本指南所称政府信息，是指行政机关在履行行政管理职能过程中"
               "制作或者获取的，以一定形式记录、保存的信息。申请人可通过网络、信函等方式提出申请。"),
    "xxgkzd": ("政府信息公开制度", "为规范政府信息公开工作，根据《中华人民共和国政府信息"
               "公开条例》，制定本机关政府信息公开保密审查、主动公开和依申请公开办理制度。"),
    "fdzdgknr": ("法定主动公开内容", "机构职能、行政规范性文件、规划信息、财政预决算、"
                 "重大建设项目等法定主动公开内容在本栏目集中发布。"),
    "zwfw": ("政务服务", "政务服务事项可通过政务服务网在线办理，办事指南与表格下载请见"
             "各部门页面。"),
    "hdjl": ("互动交流", "欢迎通过领导信箱、在线咨询栏目反映意见建议，我们将及时回复。"),
    "lxwm": ("联系我们", "通信地址：本区政府办公室　邮政编码：000000　工作时间：工作日8:00—18:00"),
    "xwdt": ("要闻动态", "本栏目发布本地政务要闻、工作动态和通知公告。"),
}

SOFT_404 = """<!DOCTYPE html>
<html><head>{charset}<title>页面不存在</title>
<style>body{{text-align:center;font-family:"Microsoft YaHei";color:#666;padding-top:120px}}</style>
</head><body>
<div class="error"><h2>抱歉，您访问的页面不存在！</h2>
<p>页面不存在或已被删除，<span id="sec">5</span>秒后自动返回<a href="/">{name}首页</a>。</p></div>
<script>var s=5;setInterval(function(){{s--;document.getElementById("sec").textContent=s;
if(s<=0){{location.href="/";}}}},1000);</script>
</body></html>
"""

NOT_FOUND = """<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
