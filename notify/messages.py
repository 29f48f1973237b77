"""Alert texts in Chinese, cut to fit the channel they go to.

Chat channels (DingTalk, WeCom bots, Feishu…) cap a message at a few thousand characters and
drop or reject longer ones, so every text is cut at the channel's limit with "…". The lines a
reader needs most — who, which year, what happened, the links — come first, so a cut only
ever loses the tail of long lists (figure changes, failed checks).
"""

from __future__ import annotations

from typing import Any

import apprise

from nianbao.notify.secrets import scrubbed_logs
from nianbao.settings import settings
from nianbao.vocabulary.dates import source_label
from nianbao.vocabulary.figures import RATE_BY_KEY, percent
from nianbao.vocabulary.identities import identity_label
from nianbao.vocabulary.metrics import label as metric_label
from nianbao.vocabulary.sections import LABELS as SECTION_LABELS

EVENT_TITLES = {
    "new_report": "新发布年报",
    "revised_report": "年报被修改",
    "late_report": "年报逾期发布",
    "missing_report": "年报未发布",
    "failed_checks": "年报数据未通过校验",
    "site_unreachable": "网站无法访问",
    "site_blocked": "网站拒绝抓取",
    "column_moved": "年报栏目已迁移",
}
# Why a place could not be read (observation reasons), for alerts.
REASONS = {
    "dns": "域名无法解析", "timeout": "连接超时", "connection": "无法连接", "tls": "TLS 握手失败",
    "robots": "robots.txt 禁止抓取", "challenge": "反爬虫验证未通过", "column-moved": "栏目已迁移",
    "budget": "超出抓取页数上限", "trap": "疑似爬虫陷阱", "forbidden-address": "地址不允许访问",
    "not-reached": "未能访问", "incomplete": "未能读完",
}
FIELDS = {"title": "标题", "format": "格式"}
# Chat channels whose readers want short messages, below Apprise's own hard limits.
CHAT_LIMITS = {"dingtalk": 4000, "wecombot": 4000, "feishu": 4000, "lark": 4000,
               "wxpusher": 4000, "qq": 2000, "discord": 2000}
DEFAULT_LIMIT = 32768
MAX_LISTED = 30


def label(key: str) -> str:
    """The Chinese label of a changed field or metric key."""
    return FIELDS.get(key) or metric_label(key)


def reason_text(reason: str | None) -> str:
    """An observation reason in Chinese (``http-468`` → "HTTP 468")."""
    if reason and reason.startswith("http-"):
        return f"HTTP {reason[5:]}"
    return REASONS.get(reason or "not-reached", reason or "未能访问")


def limit_for(url: str) -> int:
    """How many characters a message body may have on the channel ``url`` points to."""
    with scrubbed_logs(url):
        plugin = apprise.Apprise.instantiate(url)
    hard = int(getattr(plugin, "body_maxlen", DEFAULT_LIMIT) or DEFAULT_LIMIT)
    schema = url.partition("://")[0].lower()
    return min(hard, CHAT_LIMITS.get(schema, hard))


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def archive_link(payload: dict[str, Any]) -> str | None:  # a report payload, or a copy
    """The archived copy: its page in nianbao's web app when ``alerts.web_base_url`` is set
    (``nianbao serve``), else a pywb replay URL when ``alerts.archive_base_url`` is, else the
    WARC file and offset (enough for ``nianbao.archive.reader.read_payload``)."""
    web = settings()["alerts"].get("web_base_url")
    if web and payload.get("version_id") is not None:
        return f"{web.rstrip('/')}/versions/{int(payload['version_id'])}/archive"
    base = settings()["alerts"].get("archive_base_url")
    url, seen, warc = payload.get("url"), payload.get("first_seen"), payload.get("warc") or {}
    if base and url and seen:
        stamp = "".join(ch for ch in seen[:19] if ch.isdigit())
        return f"{base.rstrip('/')}/{stamp}/{url}"
    if warc.get("file") is not None:
        return f"{warc['file']}:{warc.get('offset')}"
    return None


def _count(value: Any) -> str:
    return "未填" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def key_figures(figures: dict[str, Any]) -> str:
    """收到申请, 予以公开率 (with what it is computed from) and 复议纠错, in one line."""
    value = RATE_BY_KEY["granted_rate"].value(figures)
    rate = percent(value)
    if value is not None:
        rate += (f"（{_count(figures.get('requests.granted.total'))}/"
                 f"{_count(figures.get('requests.handled_total.total'))}）")
    return (f"收到申请 {_count(figures.get('requests.new.total'))} 件；予以公开率 {rate}；"
            f"复议纠错 {_count(figures.get('review.corrected'))} 件")


def _published(payload: dict[str, Any]) -> str:
    published = payload.get("published_date")
    if not published:
        return "发布日期：未找到"
    evidence = payload.get("date_evidence") or payload.get("evidence") or []
    if isinstance(evidence, str):  # a verdict names the one source that decided
        return f"发布日期：{published}（依据：{source_label(evidence)}）"
    sources = [e for e in evidence if isinstance(e, dict) and e.get("value") == published]
    if not sources:
        return f"发布日期：{published}"
    how = "、".join(
        source_label(e.get("source")) + (f"「{e['raw']}」" if e.get("raw") else "")
        for e in sources
    )
    return f"发布日期：{published}（依据：{how}）"


def _listed(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"  …另有 {len(lines) - MAX_LISTED} 项"]


def _details(kind: str, payload: dict[str, Any]) -> list[str]:
    """The event-specific lines, after the header and links."""
    lines = []
    if kind == "late_report":
        lines.append(f"截止日期：{payload.get('deadline')}，逾期 {payload.get('days_late')} 天")
    if kind == "missing_report":
        lines.append(f"截止日期：{payload.get('deadline')}，栏目已完整读取，未见该年度报告")
    if payload.get("observation"):
        lines.append(f"观察依据：{payload['observation']}")
    if payload.get("explanation"):
        lines.append(f"说明：{payload['explanation']}")
    if payload.get("figures"):
        lines.append("主要数据：" + key_figures(payload["figures"]))
    if payload.get("changes"):
        lines.append("数据变化：")
        lines += _listed([f"  {label(c['key'])}：{_count(c.get('before'))} → "
                          f"{_count(c.get('after'))}" for c in payload["changes"]])
    if payload.get("section_changes"):
        lines.append("文字变化：")
        lines += _listed([f"  {SECTION_LABELS.get(s['section'], s['section'])}：「{s['before']}」→"
                          f"「{s['after']}」" for s in payload["section_changes"]])
    if payload.get("failed_checks"):
        lines.append("未通过的校验：")
        lines += _listed([f"  {identity_label(c['id'])}：{c.get('detail') or ''}（{c['id']}）"
                          for c in payload["failed_checks"]])
    return lines


SITE_EVENTS = ("site_unreachable", "site_blocked", "column_moved")


def event_title(event: dict[str, Any]) -> str:
    payload = event["payload"]
    what = EVENT_TITLES.get(event["kind"], event["kind"])
    if event["kind"] in SITE_EVENTS:
        return f"【{what}】{event['site_id']}"
    return f"【{what}】{payload.get('issuer') or ''} {event.get('report_year') or ''}年度"


def _site_body(kind: str, site_id: str, payload: dict[str, Any]) -> str:
    if kind == "column_moved":
        old, new = payload.get("column_url"), payload.get("url")
        found = f"已在首页重新找到：{new}" if new else "未能从首页重新找到，报告是否发布暂无法判断"
        return (f"网站 {site_id} 的年报栏目 {old} 已不再列出年报"
                f"（{reason_text(payload.get('reason'))}）；{found}。")
    runs = payload.get("failed_runs") or []
    lines = [f"网站 {site_id} 连续 {len(runs)} 次抓取"
             + ("被拒绝" if kind == "site_blocked" else "未能访问任何年报栏目")
             + f"（抓取批次 {runs}），期间无法判断报告是否发布。"]
    for item in payload.get("observations") or []:
        detail = f"：{item['detail']}" if item.get("detail") else ""
        lines.append(f"  {item.get('column_url')}：{reason_text(item.get('reason'))}{detail}")
    return "\n".join(lines)


def event_body(event: dict[str, Any]) -> str:
    """The whole text of one event (uncut: ``render_event`` cuts it for a channel)."""
    kind, payload = event["kind"], event["payload"]
    if kind in SITE_EVENTS:
        return _site_body(kind, event["site_id"], payload)
    lines = [
        f"事件：{EVENT_TITLES.get(kind, kind)}",
        f"发布机关：{payload.get('issuer') or '未知'}",
        f"报告年度：{event.get('report_year') or payload.get('report_year')}",
        _published(payload),
    ]
    if payload.get("url"):
        lines.append(f"原文：{payload['url']}")
    archived = archive_link(payload)
    if archived:
        lines.append(f"存档：{archived}")
    previous = payload.get("previous")
    if kind == "revised_report" and previous:
        lines.append(f"发现修改：{(payload.get('detected_at') or '')[:16].replace('T', ' ')}"
                     "（UTC）")
        lines.append(f"修改前存档：{archive_link(previous) or previous.get('url')}"
                     f"（首次抓取 {previous.get('first_seen', '')[:10]}）")
    return "\n".join(lines + _details(kind, payload))


def render_event(event: dict[str, Any], limit: int) -> tuple[str, str]:
    """(title, body) of one event's alert, the body cut to ``limit`` characters."""
    return event_title(event), fit(event_body(event), limit)


def _years(events: list[dict[str, Any]]) -> str:
    years = sorted({e["report_year"] for e in events if e.get("report_year")})
    if not years:
        return ""
    return f"（{years[0]}–{years[-1]} 年度）" if len(years) > 1 else f"（{years[0]} 年度）"


def baseline_block(site_id: str, events: list[dict[str, Any]]) -> str:
    """A site's baseline (what its first crawl found) as one block: counts by kind, then one
    line per event — instead of one alert per report."""
    counts: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        counts.setdefault(event["kind"], []).append(event)
    summary = "；".join(f"{EVENT_TITLES.get(kind, kind)} {len(items)} 条{_years(items)}"
                       for kind, items in counts.items())
    lines = [f"首次抓取网站 {site_id}，建立监测基线：{summary}。此前已有的情况只在此汇总，"
             "今后的新发布、修改、逾期和未发布将逐条提醒。"]
    for event in events:
        payload = event["payload"]
        url = f" {payload['url']}" if payload.get("url") else ""
        lines.append(f"  · {EVENT_TITLES.get(event['kind'], event['kind'])}："
                     f"{payload.get('issuer') or ''} {event.get('report_year') or ''}年度{url}")
    return "\n".join(lines)


def render_baseline(site_id: str, events: list[dict[str, Any]], limit: int) -> tuple[str, str]:
    """(title, body) of one subscription's baseline digest for one site."""
    title = f"【开始监测】{site_id}：首次抓取（{len(events)} 条）"
    return title, fit(baseline_block(site_id, events), limit)


def render_digest(day: str, events: list[dict[str, Any]], limit: int) -> tuple[str, str]:
    """(title, body) of a day's digest: one block per event; blocks that do not fit are counted
    at the end instead of being cut in the middle."""
    title = f"【nianbao 每日摘要】{day}（{len(events)} 条）"
    baselines: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    blocks = []
    for event in events:
        if event.get("baseline_digest"):
            key = (event["site_id"], event.get("crawl_run_id"))
            if key not in baselines:
                blocks.append(key)
            baselines.setdefault(key, []).append(event)
        else:
            blocks.append(f"{event_title(event)}\n{event_body(event)}")
    blocks = [block if isinstance(block, str) else
              f"【开始监测】{block[0]}\n{baseline_block(block[0], baselines[block])}"
              for block in blocks]
    body, shown = "", 0
    for block in blocks:
        candidate = f"{body}\n\n{block}" if body else block
        if len(candidate) > limit - 40:
            break
        body, shown = candidate, shown + 1
    if shown < len(blocks):
        body += f"\n\n…另有 {len(blocks) - shown} 条未列出，请查看订阅源。"
    return title, fit(body, limit)


def probe_message() -> tuple[str, str]:
    """What `nianbao subscribe test` sends."""
    return ("【nianbao 测试】订阅已配置",
            "这是一条测试消息：此订阅今后将收到年报的新发布、修改和逾期提醒。")
