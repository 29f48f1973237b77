"""The key figures of a report and the rates computed from them, each with what it is made of.

A journalist quotes these first, so each has one definition: alerts, the parse summary, report
listings, pages and exports all take them from here. A rate says what it is computed from, and
is None (never 0 %) when a figure is missing or its denominator is zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The headline figures of tables 三 and 四, in reading order, with their short labels.
KEY_FIGURES = {
    "requests.new.total": "本年新收申请",
    "requests.carried_over.total": "上年结转申请",
    "requests.granted.total": "予以公开",
    "requests.partial.total": "部分公开",
    "requests.handled_total.total": "办理结果总计",
    "requests.carried_forward.total": "结转下年度继续办理",
    "review.total": "行政复议",
    "review.corrected": "复议结果纠正",
    "litigation.direct.total": "未经复议直接起诉",
    "litigation.after_review.total": "复议后起诉",
}


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    numerator: tuple[str, ...]  # metric keys summed above the line
    denominator: tuple[str, ...]  # … and below it

    def value(self, metrics: Mapping[str, object]) -> float | None:
        top = _sum(metrics, self.numerator)
        bottom = _sum(metrics, self.denominator)
        if top is None or not bottom:
            return None
        return top / bottom

    def explain(self, metrics: Mapping[str, object]) -> str:
        """``予以公开率 = 予以公开 / 办理结果总计 = 12 / 40``, with the figures as read."""
        def side(keys: tuple[str, ...]) -> tuple[str, str]:
            names = " + ".join(KEY_FIGURES.get(k, k) for k in keys)
            values = " + ".join(_shown(metrics.get(k)) for k in keys)
            return names, values

        (top_names, top), (bottom_names, bottom) = side(self.numerator), side(self.denominator)
        return f"{self.label} = {top_names} / {bottom_names} = {top} / {bottom}"


RATES = (
    Rate("granted_rate", "予以公开率", ("requests.granted.total",),
         ("requests.handled_total.total",)),
    # KIROGOVCOMPARE's 实质公开率: what was disclosed in whole or in part, of all handled.
    Rate("disclosed_rate", "实质公开率", ("requests.granted.total", "requests.partial.total"),
         ("requests.handled_total.total",)),
    Rate("review_correction_rate", "复议纠错率", ("review.corrected",), ("review.total",)),
)
RATE_BY_KEY = {rate.key: rate for rate in RATES}


def _sum(metrics: Mapping[str, object], keys: tuple[str, ...]) -> float | None:
    values = [metrics.get(k) for k in keys]
    if any(not isinstance(v, int | float) for v in values):
        return None
    return sum(values)  # type: ignore[arg-type]


def _shown(value: object) -> str:
    if value is None:
        return "未填"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def key_figures(metrics: Mapping[str, object]) -> dict[str, object]:
    """The key figures of a record's metrics (None where the report has no value)."""
    return {key: metrics.get(key) for key in KEY_FIGURES}


def rates(metrics: Mapping[str, object]) -> dict[str, float | None]:
    """Every rate of a record's metrics (None where it cannot be computed)."""
    return {rate.key: rate.value(metrics) for rate in RATES}


def percent(value: float | None) -> str:
    return "无法计算" if value is None else f"{100 * value:.1f}%"
