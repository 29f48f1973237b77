"""The canonical metric keys of ``nianbao.report/1`` (docs/report-schema.md) and their labels.

Each table of the two standard formats is described once here, with the label patterns that
recognise its rows in any rendering and the Chinese labels a reader sees. Everything downstream
(the table reader, the identity checks, storage, alerts, pages and exports) takes its keys and
labels from here, so a figure is named the same way everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA = "nianbao.report/1"

APPLICANT_COLUMNS = ["natural", "business", "research", "ngo", "legal", "other_org", "total"]
APPLICANT_LABELS = [
    "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计",
]
ORG_COLUMNS = APPLICANT_COLUMNS[1:6]


@dataclass(frozen=True)
class RowSpec:
    """One data row of a standard table: its key, printed label, and how to recognise it."""

    key: str
    label: str
    pattern: str  # searched in the normalised label text
    columns: tuple[str, ...] = ()

    def matches(self, label: str) -> bool:
        return re.search(self.pattern, strip_annotation(label)) is not None


_ANNOTATION = re.compile(r"[(（][^()（）]*[)）]$")


def strip_annotation(label: str) -> str:
    """规章(设区的市…应提供相关数据) → 规章: localities explain rows in trailing brackets."""
    while True:
        stripped = _ANNOTATION.sub("", label)
        if stripped == label or not stripped:
            return label
        label = stripped


# Table 二 — 主动公开政府信息情况 -------------------------------------------------------------

ACTIVE_2021 = [
    RowSpec("active.rules", "规章", r"^规章$", ("issued", "repealed", "in_force")),
    RowSpec(
        "active.normative", "行政规范性文件", r"规范性文件$", ("issued", "repealed", "in_force")
    ),
    RowSpec("active.licensing", "行政许可", r"^行政许可$", ("decisions",)),
    RowSpec("active.punishment", "行政处罚", r"^行政处罚$", ("decisions",)),
    RowSpec("active.coercion", "行政强制", r"^行政强制$", ("decisions",)),
    RowSpec("active.fees", "行政事业性收费", r"^行政事业性收费$", ("amount",)),
]

ACTIVE_2019 = [
    RowSpec("active.rules", "规章", r"^规章$", ("made", "published", "total_public")),
    RowSpec(
        "active.normative", "规范性文件", r"规范性文件$", ("made", "published", "total_public")
    ),
    RowSpec("active.licensing", "行政许可", r"^行政许可$", ("prev_items", "change", "decisions")),
    RowSpec(
        "active.other_services",
        "其他对外管理服务事项",
        r"对外管理服务事项$",
        ("prev_items", "change", "decisions"),
    ),
    RowSpec("active.punishment", "行政处罚", r"^行政处罚$", ("prev_items", "change", "decisions")),
    RowSpec("active.coercion", "行政强制", r"^行政强制$", ("prev_items", "change", "decisions")),
    RowSpec("active.fees", "行政事业性收费", r"^行政事业性收费$", ("prev_items", "change")),
    RowSpec("active.procurement", "政府集中采购", r"^政府集中采购$", ("items", "amount")),
]

# Column headers that tell the two formats' table 二 apart.
ACTIVE_HEADERS_2021 = ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额")
ACTIVE_HEADERS_2019 = (
    "本年新制作数量",
    "本年新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "本年增",
    "采购项目数量",
    "采购总金额",
)

# Columns whose values may be negative (本年增/减).
SIGNED_COLUMNS = {"change"}

# Table 三 — 收到和处理政府信息公开申请情况 ------------------------------------------------------

_REQUEST_ROWS_HEAD = [
    RowSpec("requests.new", "一、本年新收政府信息公开申请数量", r"本年新收"),
    RowSpec("requests.carried_over", "二、上年结转政府信息公开申请数量", r"上年结转"),
    RowSpec("requests.granted", "（一）予以公开", r"予以公开"),
    RowSpec("requests.partial", "（二）部分公开", r"部分公开"),
    RowSpec("requests.withheld.state_secret", "1.属于国家秘密", r"国家秘密"),
    RowSpec("requests.withheld.prohibited", "2.其他法律行政法规禁止公开", r"禁止公开"),
    RowSpec("requests.withheld.security_stability", "3.危及“三安全一稳定”", r"三安全|一稳定"),
    RowSpec("requests.withheld.third_party", "4.保护第三方合法权益", r"第三方"),
    RowSpec("requests.withheld.internal_affairs", "5.属于三类内部事务信息", r"内部事务"),
    RowSpec("requests.withheld.process_info", "6.属于四类过程性信息", r"过程性"),
    RowSpec("requests.withheld.enforcement_files", "7.属于行政执法案卷", r"执法案卷"),
    RowSpec("requests.withheld.admin_query", "8.属于行政查询事项", r"行政查询"),
    RowSpec("requests.unavailable.not_held", "1.本机关不掌握相关政府信息", r"不掌握"),
    RowSpec("requests.unavailable.needs_creation", "2.没有现成信息需要另行制作", r"另行制作"),
    RowSpec("requests.unavailable.unclear", "3.补正后申请内容仍不明确", r"仍不明确|不明确"),
    RowSpec("requests.not_processed.petition", "1.信访举报投诉类申请", r"信访|举报投诉"),
    RowSpec("requests.not_processed.duplicate", "2.重复申请", r"重复申请"),
    RowSpec("requests.not_processed.publication", "3.要求提供公开出版物", r"出版物"),
    RowSpec("requests.not_processed.excessive", "4.无正当理由大量反复申请", r"大量反复"),
    RowSpec(
        "requests.not_processed.confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        r"确认或重新出具|重新出具|确认",
    ),
]
_REQUEST_ROWS_TAIL = [
    RowSpec("requests.handled_total", "（七）总计", r"^[（(]?七[）)]?、?总计$|^[（(]七[）)]"),
    RowSpec("requests.carried_forward", "四、结转下年度继续办理", r"结转下年"),
]
REQUESTS_2021 = [
    *_REQUEST_ROWS_HEAD,
    RowSpec("requests.other.no_supplement", "1.申请人无正当理由逾期不补正…", r"不补正"),
    RowSpec(
        "requests.other.unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用…", r"缴纳费用|收费通知"
    ),
    RowSpec("requests.other.other", "3.其他", r"^(\d+[.．、]?)?其他$"),
    *_REQUEST_ROWS_TAIL,
]
REQUESTS_2019 = [
    *_REQUEST_ROWS_HEAD,
    RowSpec("requests.other_handling", "（六）其他处理", r"其他处理$"),
    *_REQUEST_ROWS_TAIL,
]

# Result rows summed by the (七)总计 identity (every row from granted to the (六) rows).
def result_rows(fmt: str) -> list[str]:
    rows = REQUESTS_2021 if fmt == "2021" else REQUESTS_2019
    keys = [r.key for r in rows]
    return keys[keys.index("requests.granted") : keys.index("requests.handled_total")]


# Table 四 — 政府信息公开行政复议、行政诉讼情况 ---------------------------------------------------

OUTCOMES = ["upheld", "corrected", "other", "pending", "total"]
REVIEW_GROUPS = ["review", "litigation.direct", "litigation.after_review"]
REVIEW_KEYS = [f"{g}.{o}" for g in REVIEW_GROUPS for o in OUTCOMES]


def active_rows(fmt: str) -> list[RowSpec]:
    return ACTIVE_2021 if fmt == "2021" else ACTIVE_2019


def request_rows(fmt: str) -> list[RowSpec]:
    return REQUESTS_2021 if fmt == "2021" else REQUESTS_2019


def active_keys(fmt: str) -> list[str]:
    return [f"{r.key}.{c}" for r in active_rows(fmt) for c in r.columns]


def request_keys(fmt: str) -> list[str]:
    return [f"{r.key}.{c}" for r in request_rows(fmt) for c in APPLICANT_COLUMNS]


def metric_keys(fmt: str) -> list[str]:
    """Every standard key of a format, in table order (200 for 2021, 198 for 2019)."""
    return active_keys(fmt) + request_keys(fmt) + REVIEW_KEYS


# Chinese labels ------------------------------------------------------------------------------

ACTIVE_COLUMN_LABELS = {
    "issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数",
    "decisions": "本年处理决定数量", "amount": "本年收费金额（万元）",
    "made": "本年新制作数量", "published": "本年新公开数量", "total_public": "对外公开总数量",
    "prev_items": "上一年项目数量", "change": "本年增/减", "items": "采购项目数量",
}
REQUEST_GROUP_LABELS = {
    "withheld": "（三）不予公开", "unavailable": "（四）无法提供",
    "not_processed": "（五）不予处理", "other": "（六）其他处理",
}
REVIEW_GROUP_LABELS = {
    "review": "行政复议", "litigation.direct": "行政诉讼（未经复议直接起诉）",
    "litigation.after_review": "行政诉讼（复议后起诉）",
}
OUTCOME_LABELS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果",
                  "pending": "尚未审结", "total": "总计"}
COLUMN_LABELS = dict(zip(APPLICANT_COLUMNS, APPLICANT_LABELS, strict=True))


@dataclass(frozen=True)
class MetricLabel:
    """Where a metric stands in the printed report: its table, row and column, in Chinese."""

    table: str  # 二, 三 or 四
    row: str  # as printed, with its parent group: （三）不予公开 1.属于国家秘密
    column: str

    def __str__(self) -> str:
        """For a reader: numbering dropped, group kept — 不予公开·属于国家秘密（自然人）."""
        parts = [_ORDINAL.sub("", part) for part in self.row.split(" ")]
        return f"{'·'.join(parts)}（{self.column}）"


_ORDINAL = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．、])")


def _row_spec(row_key: str, column: str) -> RowSpec | None:
    """The row of either format with this key (and, in table 二, this column)."""
    for spec in (*ACTIVE_2021, *ACTIVE_2019, *REQUESTS_2021, *REQUESTS_2019):
        if spec.key == row_key and (not spec.columns or column in spec.columns):
            return spec
    return None


def metric_label(key: str) -> MetricLabel | None:
    """The printed table, row and column of a metric key, or None for a key of no table."""
    row_key, _, column = key.rpartition(".")
    if key.startswith("active.extra."):
        return MetricLabel("二", row_key.removeprefix("active.extra."),
                           ACTIVE_COLUMN_LABELS.get(column, column))
    if key.startswith("active."):
        spec = _row_spec(row_key, column)
        if spec is None:
            return None
        label = "采购总金额" if key == "active.procurement.amount" else ACTIVE_COLUMN_LABELS[column]
        return MetricLabel("二", spec.label, label)
    if key.startswith("requests."):
        spec = _row_spec(row_key, column)
        if spec is None or column not in COLUMN_LABELS:
            return None
        group = (REQUEST_GROUP_LABELS.get(row_key.split(".")[1]) if row_key.count(".") == 2
                 else "三、本年度办理结果" if row_key == "requests.handled_total" else None)
        return MetricLabel("三", f"{group} {spec.label}" if group else spec.label,
                           COLUMN_LABELS[column])
    if row_key in REVIEW_GROUP_LABELS and column in OUTCOME_LABELS:
        return MetricLabel("四", REVIEW_GROUP_LABELS[row_key], OUTCOME_LABELS[column])
    return None


def label(key: str) -> str:
    """A metric's label for a reader (row and column), or the key itself when it has none."""
    found = metric_label(key)
    return str(found) if found else key

