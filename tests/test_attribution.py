"""Issuer and report year from the first lines of real report pages (quoted from the pages
cited in ``fixtures/real/``), one case per way portals print them."""

from __future__ import annotations

import pytest

from nianbao.parsers import attribution
from nianbao.parsers.pipeline import parse_bytes


def _read(text: str) -> dict:
    return parse_bytes(text.encode("utf-8"), "page.txt")


@pytest.mark.parametrize(("text", "issuer", "year", "evidence"), [
    # 富县 (wqx/fuxian): breadcrumb with slashes before the title
    ("首页/ 政府信息公开 / 政府信息公开年报 / 乡镇 / 2021 / 正文\n\n"
     "张家湾镇2021年政府信息公开工作年度报告\n",
     "张家湾镇", 2021, "title"),
    # 甘州区: 当前位置 breadcrumb; the box's 发布机构 is the publisher, not the issuer
    ("当前位置: 首页>政府信息公开>政府信息公开年报>2023年>部门公开年报\n\n"
     "东街街道2023年度政府信息公开工作年度报告\n\n"
     "发表日期:2024-01-26 15:35:23 发布机构:政务服务管理局\n",
     "东街街道", 2023, "title"),
    # 西咸新区: title split inside the report's name
    ("西咸新区底张街道办事处2023年度政府\n信息公开工作年度报告\n根据《条例》要求编制。\n",
     "西咸新区底张街道办事处", 2023, "title over lines"),
    # 桃江县: a title naming no issuer, then the issuer and the title again
    ("2022年政府信息公开工作年度报告\n桃江县松木塘镇人民政府\n2022年政府信息公开工作年度报告\n",
     "桃江县松木塘镇人民政府", 2022, "title"),
    # 锡山区: the title runs into the first sentence
    ("安镇街道2024年政府信息公开工作年度报告根据《中华人民共和国政府信息公开条例》编制。\n",
     "安镇街道", 2024, "title"),
    # 大足区: year after 工作 in the title
    ("重庆市大足区人民政府外事办公室政府信息公开工作2022年度报告\n",
     "重庆市大足区人民政府外事办公室", 2022, "title"),
    # 沁源县: no title line; the 信息公开目录 box gives 标题
    ("索引号:000014349/2022-03447 | |\n发文机关:郭道镇人民政府 | 主题词:郭道镇 |\n"
     "标题:沁源县郭道镇2021年政府信息公开工作年度报告 | |\n主题分类:其它 | 发布日期:2022-01-25 |\n",
     "沁源县郭道镇", 2021, "box:标题"),
    # 金口河区: the report named in the opening sentence
    ("一、总体情况\n本年度报告根据《条例》编制而成。现将乐山市金口河区文化广播电视体育和旅游局"
     "2024年政府信息公开工作年度报告如下:\n", "乐山市金口河区文化广播电视体育和旅游局", 2024,
     "opening sentence"),
    # 嘉善县: 由…（an internal office）负责编制
    ("根据《条例》等要求,由嘉善县大云镇人民政府综合信息指挥室(党政综合办公室)负责编制本报告。"
     "本报告所列数据统计期限为2024年1月1日至12月31日。\n", "嘉善县大云镇人民政府", 2024,
     "opening sentence"),
    # 海珠区: the organ the overview's first sentence opens with
    ("一、总体情况\n2023年,在区委、区政府的坚强领导下,官洲街道办事处认真贯彻落实《条例》。\n",
     "官洲街道办事处", 2023, "subject of a sentence"),
    # 乌拉特前旗: a government speaking as 我旗 names its own portal
    ("特向社会公布我旗2021年度信息公开年度报告。\n截至2021年12月底,乌拉特前旗政府网站\n",
     "乌拉特前旗政府", 2021, "portal the report names"),
    # 来凤县: only the contact sentence names the body
    ("编制我单位2021年政府信息公开工作年度报告。如有疑问请与来凤县政务服务和大数据管理局"
     "(地址:来凤县政务服务中心501室)。\n", "来凤县政务服务和大数据管理局", 2021,
     "contact sentence"),
])
def test_issuer_and_year_with_their_evidence(text: str, issuer: str, year: int,
                                             evidence: str) -> None:
    record = _read(text)
    assert (record["issuer"], record["report_year"]) == (issuer, year)
    assert record["evidence"]["issuer"] == evidence


@pytest.mark.parametrize("text", [
    # 大兴区 / 通州区: the opening sentence names no issuer
    "依据《中华人民共和国政府信息公开条例》第五十条之规定,制作本报告。\n一、总体情况\n"
    "2019年,我局高度重视政府信息公开工作。\n",
    # 朔州市: only 我委
    "根据《条例》要求,特向社会公布我委政府信息公开工作年度报告。报告中所列数据统计期限自"
    "2022年1月1日起,至2022年12月31日止。\n",
])
def test_a_page_naming_no_issuer_gets_none_never_a_sentence(text: str) -> None:
    record = _read(text)
    assert record["issuer"] is None
    assert record["title"] is None or "根据" not in record["title"]


@pytest.mark.parametrize(("text", "year", "source"), [
    ("本报告中所列数据的统计期限自202111日起至20211230日止。", 2021, "statistics period"),
    ("本报告中所列数据的统计期限自20201月1日起至202012月31日止。", 2020, "statistics period"),
    ("现公布2021年度郭道镇人民政府信息公开工作年度报告。", 2021, "report named in the text"),
    ("我乡严格按照条例要求。2019年度,我乡政务信息主动公开信息81条。", 2019,
     "first sentence of the body"),
])
def test_report_year_without_a_title(text: str, year: int, source: str) -> None:
    assert attribution.report_year_in_text([text]) == (year, source)


def test_publication_dates_are_not_the_report_year() -> None:
    record = _read("发布时间:2020-02-20 16:53\n上湾乡人民政府2019年度政府信息公开年度工作报告\n")
    assert record["report_year"] == 2019


@pytest.mark.parametrize(("name", "organ"), [
    ("开阳县市场监督管理局办公室", "开阳县市场监督管理局"),
    ("两城镇人民政府党政办公室", "两城镇人民政府"),
    ("龙游县大街乡信息公开领导小组办公室", "龙游县大街乡"),
    ("榕城区政府办公室", "榕城区政府办公室"),  # a government's own office is an organ
    ("湛江市人民政府地方志办公室", "湛江市人民政府地方志办公室"),
])
def test_contact_office_is_read_as_its_organ(name: str, organ: str) -> None:
    assert attribution.as_issuer(name) == organ
