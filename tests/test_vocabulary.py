"""The report vocabulary: titles, metric labels, key figures and rates, date ranking."""

from __future__ import annotations

import datetime as dt

import pytest

from nianbao.vocabulary.dates import DATE_RANK, calendar_day, deciding_source, published_date
from nianbao.vocabulary.figures import KEY_FIGURES, RATE_BY_KEY, rates
from nianbao.vocabulary.metrics import label, metric_keys, metric_label
from nianbao.vocabulary.titles import lookalike_reason, title_kind


@pytest.mark.parametrize(("title", "kind"), [
    ("晋城市城区人民政府2023年政府信息公开工作年度报告", "report"),
    ("2022年度信息公开年报", "report"),
    ("2023年政府网站工作年度报表", "lookalike"),
    ("2023年法治政府建设年度报告", "lookalike"),
    ("《2023年政府信息公开工作年度报告》解读", "lookalike"),
    ("一图读懂2023年政府信息公开工作年度报告", "lookalike"),
    ("2024年部门预算公开", "lookalike"),
    ("政府信息公开年报", "other"),
    ("首页", "other"),
])
def test_link_titles_tell_reports_from_lookalikes(title, kind):
    assert title_kind(title) == kind


@pytest.mark.parametrize("title", [
    "晋城市审计局2023年政府信息公开工作年度报告",  # an audit bureau's 年报 is a 年报
    "某某区统计局2022年度政府信息公开工作报告",
    "某某县政府信息公开工作2023年度报告",
    "2023年度某某市发展和改革委员会政务信息公开工作开展年度报告",
])
def test_a_report_of_a_body_whose_name_looks_like_another_document_is_a_report(title):
    assert lookalike_reason(title) is None
    assert title_kind(title) == "report"


@pytest.mark.parametrize(("title", "why"), [
    ("2023年审计工作报告", "audit"),
    ("图解：某某局2023年政府信息公开工作年度报告", "explanation"),
    ("2023年政府网站工作年度报表", "政府网站"),
])
def test_parser_and_crawler_share_one_lookalike_rule(title, why):
    assert why in lookalike_reason(title)
    assert title_kind(title) == "lookalike"


def test_every_standard_metric_has_a_chinese_label():
    for fmt in ("2021", "2019"):
        for key in metric_keys(fmt):
            found = metric_label(key)
            assert found is not None, key
            assert found.table in "二三四" and found.row and found.column
    assert label("requests.withheld.state_secret.natural") == "不予公开·属于国家秘密（自然人）"
    assert str(metric_label("review.corrected")) == "行政复议（结果纠正）"
    assert metric_label("requests.new.total").row == "一、本年新收政府信息公开申请数量"
    assert label("not.a.metric") == "not.a.metric"


def test_rates_say_what_they_are_computed_from():
    metrics = {"requests.granted.total": 12, "requests.partial.total": 8,
               "requests.handled_total.total": 40, "review.corrected": 0, "review.total": 0}
    assert rates(metrics) == {"granted_rate": 0.3, "disclosed_rate": 0.5,
                              "review_correction_rate": None}
    explained = RATE_BY_KEY["granted_rate"].explain(metrics)
    assert explained == "予以公开率 = 予以公开 / 办理结果总计 = 12 / 40"
    missing = {"requests.granted.total": None, "requests.handled_total.total": 40}
    assert rates(missing)["granted_rate"] is None
    assert set(KEY_FIGURES) >= {"requests.new.total", "review.total"}


def test_date_sources_rank_once():
    evidence = [{"source": "url", "value": "2024-01-29"},
                {"source": "signature", "value": "2024-01-25"},
                {"source": "first-seen", "value": "2024-02-03"}]
    assert DATE_RANK[0] == "meta:PubDate" and DATE_RANK[-1] == "first-seen"
    assert published_date(evidence) == "2024-01-25"
    assert deciding_source(evidence, "2024-01-29") == "url"
    assert deciding_source(evidence, None) is None
    # A value that names no real day states nothing, whatever its source's rank.
    assert published_date([{"source": "meta:PubDate", "value": "2024-02-30"}, *evidence]) \
        == "2024-01-25"


@pytest.mark.parametrize(("value", "day"), [
    ("2024-02-29", dt.date(2024, 2, 29)), ("2023-02-29", None), ("2024-02-30", None),
    ("2024-13-01", None), ("2024-1-5", None), ("2024-W05-2", None), ("20240105", None),
    ("", None), (None, None), (20240105, None)])
def test_calendar_day(value, day):
    assert calendar_day(value) == day
