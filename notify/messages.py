"""Alert texts in Chinese, cut to fit the channel they go to.

Chat channels (DingTalk, WeCom bots, Feishu…) cap a message at a few thousand characters and
drop or reject longer ones, so every text is cut at the channel's limit with "…". The lines a
reader needs most — who, which year, what happened, the links — come first, so a cut only
ever loses the tail of long lists (figure changes, failed checks).
"""

from __future__ import annotations

from typing import Any

import apprise

from nianbao.settings import settings
from nianbao.vocabulary.dates import source_label
from nianbao.vocabulary.figures import RATE_BY_KEY, percent
from nianbao.vocabulary.metrics import label as metric_label
from nianbao.vocabulary.sections import LABELS as SECTION_LABELS

EVENT_TITLES = {
    "new_report": "新发布年报",
    "revised_report": "年报被修改",
    "late_report": "年报逾期发布",
    "missing_report": "年报未发布",
    "failed_checks": "年报数据未通过校验",
    "site_unreachable": "网站无法访问",
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


def limit_for(url: str) -> int:
    """How many characters a message body may have on the channel ``url`` points to."""
    plugin = apprise.Apprise.instantiate(url)
    hard = int(getattr(plugin, "body_maxlen", DEFAULT_LIMIT) or DEFAULT_LIMIT)
    schema = url.partition("://")[0].lower()
    return min(hard, CHAT_LIMITS.get(schema, hard))


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def archive_link(payload: dict[str, Any]) -> str | None:
    """The archived copy: a pywb replay URL when ``alerts.archive_base_url`` is set, else the
    WARC file and offset (enough for ``nianbao.archive.reader.read_payload``)."""
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
        lines.append(f"截止日期：{payload.get('deadline')}，至今未找到该年度报告")
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
        lines += _listed([f"  {c['id']}：{c.get('detail') or ''}"
                          for c in payload["failed_checks"]])
    return lines


def event_title(event: dict[str, Any]) -> str:
    payload = event["payload"]
    what = EVENT_TITLES.get(event["kind"], event["kind"])
    if event["kind"] == "site_unreachable":
        return f"【{what}】{event['site_id']}"
    return f"【{what}】{payload.get('issuer') or ''} {event.get('report_year') or ''}年度"


def event_body(event: dict[str, Any]) -> str:
    """The whole text of one event (uncut: ``render_event`` cuts it for a channel)."""
    kind, payload = event["kind"], event["payload"]
    if kind == "site_unreachable":
        runs = payload.get("failed_runs") or []
        return (f"网站 {event['site_id']} 连续 {len(runs)} 次抓取未取得任何页面"
                f"（自 {payload.get('since', '')[:10]} 起，抓取批次 {runs}）。")
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
    return "\n".join(lines + _details(kind, payload))


def render_event(event: dict[str, Any], limit: int) -> tuple[str, str]:
    """(title, body) of one event's alert, the body cut to ``limit`` characters."""
    return event_title(event), fit(event_body(event), limit)


def render_digest(day: str, events: list[dict[str, Any]], limit: int) -> tuple[str, str]:
    """(title, body) of a day's digest: one block per event; blocks that do not fit are counted
    at the end instead of being cut in the middle."""
    title = f"【nianbao 每日摘要】{day}（{len(events)} 条）"
    blocks = [f"{event_title(e)}\n{event_body(e)}" for e in events]
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
