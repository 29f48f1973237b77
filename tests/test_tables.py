"""Table reading on small documents built here: the 2019 format, odd cells, lost cells."""

from __future__ import annotations

import orjson

from nianbao.parsers.document import Document, Paragraph, Table
from nianbao.parsers.record import build_record
from nianbao.vocabulary.metrics import APPLICANT_COLUMNS, REQUESTS_2019, REQUESTS_2021, REVIEW_KEYS

HEAD = [Paragraph("某县交通运输局2020年政府信息公开工作年度报告"), Paragraph("一、总体情况"),
        Paragraph("本年度共收到申请 3 件。"), Paragraph("二、主动公开政府信息情况")]


def _requests_rows(specs, rows: dict[str, list[str]]) -> list[list[str]]:
    out = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
           ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]]
    for spec in specs:
        out.append([spec.label, *rows.get(spec.key, ["0"] * 7)])
    return out


def _doc(active: list[list[str]], requests: list[list[str]], review: list[str],
         positional: bool = True) -> Document:
    return Document(blocks=[
        *HEAD, Table(active, positional), Paragraph("三、收到和处理政府信息公开申请情况"),
        Table(requests, positional), Paragraph("四、政府信息公开行政复议、行政诉讼情况"),
        Table([["行政复议", "行政诉讼"], ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
               review], positional),
        Paragraph("五、存在的主要问题及改进情况"), Paragraph("无。"),
        Paragraph("六、其他需要报告的事项"), Paragraph("无。"),
    ])


ACTIVE_2019 = [
    ["第二十条第（一）项"],
    ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"],
    ["规章", "/", "/", "/"],
    ["规范性文件", "２", "２", "1,234"],
    ["其他主动公开文件", "5", "5", "40"],
    ["第二十条第（五）项"],
    ["信息内容", "上一年项目数量(指2019年事项数)", "本年增/减", "处理决定数量"],
    ["行政许可", "12", "-3", "1,021"],
    ["其他对外管理服务事项", "4", "0", "9"],
    ["第二十条第（六）项"],
    ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
    ["行政处罚", "30", "－2", "88"],
    ["行政强制", "2", "0", ""],
    ["第二十条第（八）项"],
    ["信息内容", "上一年项目数量", "本年增/减"],
    ["行政事业性收费", "3", "无"],
    ["第二十条第（九）项"],
    ["信息内容", "采购项目数量", "采购总金额"],
    ["政府集中采购", "6", "123.45"],
]


def test_2019_format_with_locality_row_annotated_headers_and_odd_cells() -> None:
    rows = {"requests.new": ["2", "1", "0", "0", "0", "0", "3"],
            "requests.granted": ["1", "1", "0", "0", "0", "0", "2"],
            "requests.other_handling": ["1", "0", "0", "0", "0", "0", "1"],
            "requests.handled_total": ["2", "1", "0", "0", "0", "0", "3"]}
    doc = _doc(ACTIVE_2019, _requests_rows(REQUESTS_2019, rows), ["0"] * 15)
    record = build_record(doc, "test")
    m, cells = record["metrics"], record["cells"]
    assert record["format"] == "2019"
    assert record["report_year"] == 2020 and record["issuer"] == "某县交通运输局"
    assert len([k for k in m if not k.startswith("active.extra.")]) == 198
    assert m["active.rules.made"] is None and cells["active.rules.made"]["semantic"] == "NA"
    assert m["active.normative.made"] == 2 and m["active.normative.total_public"] == 1234
    assert m["active.extra.其他主动公开文件.made"] == 5
    assert m["active.extra.其他主动公开文件.total_public"] == 40
    assert m["active.licensing.change"] == -3 and m["active.punishment.change"] == -2
    assert m["active.licensing.decisions"] == 1021
    assert m["active.coercion.decisions"] is None
    assert cells["active.coercion.decisions"]["semantic"] == "EMPTY"
    assert m["active.fees.change"] is None and cells["active.fees.change"]["raw"] == "无"
    assert m["active.procurement.amount"] == 123.45
    assert m["requests.other_handling.natural"] == 1
    assert all(c["ok"] for c in record["checks"] if c["severity"] == "error")
    outdated = next(c for c in record["checks"] if c["id"] == "format.outdated")
    assert outdated["ok"]  # a 2020 report in the 2019 format is on time for its format


def _zero_requests(fmt_specs) -> dict[str, list[str]]:
    return {s.key: ["0"] * 7 for s in fmt_specs}


def test_row_that_lost_two_cells_is_placed_by_the_column_identities() -> None:
    rows = _zero_requests(REQUESTS_2021)
    rows["requests.granted"] = ["1", "1", "0", "0", "0", "0", "2"]
    rows["requests.partial"] = ["1", "0", "0", "0", "1"]  # lost 2 cells of 7
    rows["requests.handled_total"] = ["2", "1", "0", "0", "0", "0", "3"]
    rows["requests.new"] = ["2", "1", "0", "0", "0", "0", "3"]
    active = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "0"]]
    doc = _doc(active, _requests_rows(REQUESTS_2021, rows), ["0"] * 15, positional=False)
    record = build_record(doc, "test")
    # natural=1 and total=1 are forced; but which of the five zero-or-blank slots?
    assert record["metrics"]["requests.partial.natural"] == 1
    assert record["repairs"] and all(r["rule"] for r in record["repairs"])


def test_lost_cell_with_two_consistent_placements_is_not_guessed() -> None:
    rows = _zero_requests(REQUESTS_2021)
    # Columns natural and business both hold 1 in 予以公开 and nothing else says which lost it.
    rows["requests.new"] = ["1", "1", "0", "0", "0", "0", "2"]
    rows["requests.handled_total"] = ["1", "1", "0", "0", "0", "0", "2"]
    rows["requests.granted"] = ["1", "0", "0", "0", "0", "2"]  # 6 values: which 1 was lost?
    active = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "0"]]
    doc = _doc(active, _requests_rows(REQUESTS_2021, rows), ["0"] * 15, positional=False)
    record = build_record(doc, "test")
    m = record["metrics"]
    assert m["requests.granted.natural"] == 1 and m["requests.granted.business"] == 1
    # the row reads "1 1" whichever column lost its 1: listed as such, not as one cell
    assert [(r["key"], r["value"], r.get("cells")) for r in record["repairs"]] == [
        ("requests.granted", 1, ["requests.granted.natural", "requests.granted.business"])
    ]


def test_unresolvable_lost_cell_leaves_nulls_and_failing_checks() -> None:
    rows = _zero_requests(REQUESTS_2021)
    rows["requests.new"] = ["3", "0", "0", "0", "0", "0", "3"]
    rows["requests.handled_total"] = ["3", "0", "0", "0", "0", "0", "3"]
    rows["requests.granted"] = ["1", "0", "0", "0", "0", "1"]
    rows["requests.partial"] = ["2", "0", "0", "0", "0", "2"]
    # both rows lost a cell and any of natural-or-total placements balance: ambiguous
    rows["requests.granted"] = ["1", "1"]
    rows["requests.partial"] = ["2", "2"]
    active = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "0"]]
    doc = _doc(active, _requests_rows(REQUESTS_2021, rows), ["0"] * 15, positional=False)
    record = build_record(doc, "test")
    assert record["metrics"]["requests.granted.natural"] is None
    assert record["cells"]["requests.granted.natural"]["semantic"] == "MISSING"
    failed = {c["id"] for c in record["checks"] if not c["ok"]}
    assert "parse.lost_cells" in failed and "requests.handled.natural" in failed
    assert record["repairs"] == []


def _review_record(review: list[str]) -> dict:
    rows = _zero_requests(REQUESTS_2021)
    active = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "0"]]
    doc = _doc(active, _requests_rows(REQUESTS_2021, rows), review, positional=False)
    return build_record(doc, "test")


def test_review_table_with_a_lost_cell_is_placed_by_group_totals() -> None:
    # 复议 总计 (10) lost: only one placement balances all three groups
    record = _review_record(["6", "3", "0", "1", "1", "0", "0", "0", "1",
                             "0", "0", "0", "2", "2"])
    m = record["metrics"]
    assert [m[k] for k in REVIEW_KEYS] == [6, 3, 0, 1, 10, 1, 0, 0, 0, 1, 0, 0, 0, 2, 2]
    assert [r["key"] for r in record["repairs"]] == ["review.total"]


def test_review_table_lost_cell_with_two_placements_stays_null() -> None:
    # the last group reads "0 0 0 2" + lost: pending=2,total=2 or upheld=2,…,total=2
    record = _review_record(["6", "3", "0", "1", "10", "1", "0", "0", "0", "1",
                             "0", "0", "0", "2"])
    assert all(record["metrics"][k] is None for k in REVIEW_KEYS)
    assert record["repairs"] == []
    assert not next(c for c in record["checks"] if c["id"] == "review.total")["ok"]


def test_non_report_comes_out_unknown_with_reason() -> None:
    doc = Document(blocks=[Paragraph("某市2023年法治政府建设年度报告"), Paragraph("一、主要举措")])
    record = build_record(doc, "test")
    assert record["format"] == "unknown" and "法治政府建设" in record["reason"]
    assert record["metrics"] == {}
    plain = build_record(Document(blocks=[Paragraph("关于做好春节期间值班工作的通知")]), "t")
    assert plain["format"] == "unknown" and "no standard tables" in plain["reason"]


def test_columns_order_matches_spec() -> None:
    assert APPLICANT_COLUMNS[-1] == "total"
    assert len(REQUESTS_2021) == 25 and len(REQUESTS_2019) == 23


# --- rows as real reports print them ---------------------------------------------------------

def _requests_table(rows: list[list[str]]) -> Document:
    head = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
            ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]]
    return Document(blocks=[Paragraph("三、收到和处理政府信息公开申请情况"),
                            Table(head + rows, positional=True)])


def test_row_whose_label_a_page_break_cut_is_one_row_again() -> None:
    """As LibreOffice exports 济源市's report (seed 001) when rows may break across pages:
    the numbers stay with '3.补正后申请内容仍' and '不明确' opens the next page."""
    record = build_record(_requests_table([
        ["2.没有现成信息需要另行制作", "15", "0", "0", "0", "0", "0", "15"],
        ["3.补正后申请内容仍", "0", "0", "1", "0", "0", "0", "1"],
        ["不明确", "", "", "", "", "", "", ""],
        ["（五）不予处理", "1.信访举报投诉类申请", "0", "0", "0", "0", "0", "0", "0"],
    ]), "cut.pdf")
    m = record["metrics"]
    assert [m[f"requests.unavailable.unclear.{c}"] for c in APPLICANT_COLUMNS] == [
        0, 0, 1, 0, 0, 0, 1]
    assert not any("unrecognised row" in c["detail"] for c in record["checks"])


def test_row_whose_numbers_follow_the_rest_of_its_label() -> None:
    record = build_record(_requests_table([
        ["1.属于国家", "", "", "", "", "", "", ""],
        ["秘密", "2", "0", "0", "0", "0", "0", "2"],
    ]), "cut.pdf")
    assert record["metrics"]["requests.withheld.state_secret.total"] == 2


def test_value_less_row_after_a_full_row_is_not_glued_to_it() -> None:
    """A real row printed with blank cells stays a row of its own."""
    record = build_record(_requests_table([
        ["5.属于三类内部事务信息", "1", "0", "0", "0", "0", "0", "1"],
        ["6.属于四类过程性信息", "", "", "", "", "", "", ""],
    ]), "blank.html")
    assert record["metrics"]["requests.withheld.internal_affairs.total"] == 1
    assert record["metrics"]["requests.withheld.process_info.total"] is None


def test_malformed_number_keeps_its_place_in_the_row() -> None:
    """通州区 (2019): 行政处罚 | 253 | --253 | 0 — the doubled sign leaves 本年增/减 unread
    (TEXT, null) without shifting 处理决定数量."""
    record = build_record(Document(blocks=[
        Paragraph("二、主动公开政府信息情况"),
        Table([["第二十条第（六）项"], ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
               ["行政处罚", "253", "--253", "0"], ["行政强制", "0", "0", "0"]], positional=False),
    ]), "tz.txt")
    m = record["metrics"]
    assert (m["active.punishment.prev_items"], m["active.punishment.change"],
            m["active.punishment.decisions"]) == (253, None, 0)
    assert record["cells"]["active.punishment.change"] == {"raw": "--253", "semantic": "TEXT"}



def test_digits_past_what_json_can_carry_are_text_in_their_place() -> None:
    """A cell of 25 digits (numbers run together) is no figure: TEXT and null in its place,
    so the record can still be written as JSON (orjson, the store's, refuses integers past
    64 bits; a float of 400 digits would be infinite)."""
    record = build_record(Document(blocks=[
        Paragraph("二、主动公开政府信息情况"),
        Table([["第二十条第（一）项"], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
               ["规章", "9" * 25, "0", f"{'9' * 400}.5"], ["行政规范性文件", "3", "1", "20"]],
              positional=False),
    ]), "big.txt")
    m, cells = record["metrics"], record["cells"]
    assert (m["active.rules.issued"], m["active.rules.repealed"], m["active.rules.in_force"],
            m["active.normative.issued"]) == (None, 0, None, 3)
    assert cells["active.rules.issued"] == {"raw": "9" * 25, "semantic": "TEXT"}
    assert orjson.loads(orjson.dumps(record))["metrics"] == m


def test_a_page_holding_only_table_four_is_read() -> None:
    """Page 8 of 文登区信访局's 2022 flip-book: only table 四, as the PDF's spaced text."""
    from nianbao.parsers.readers.text import read_text

    doc = read_text("威海市文登区信访局2022年政府信息公开工作年度报告\n"
                    "四、因政府信息公开工作被申请行政复议提起行政诉讼情况\n"
                    "行政复议 行政诉讼\n未经复议直接起诉 复议后起诉\n"
                    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n五、政府信息公开工作存在的主要问题及改进情况\n")
    record = build_record(doc, "p8.html")
    assert record["format"] == "2021"
    assert all(record["metrics"][k] == 0 for k in REVIEW_KEYS)


def _gold_requests_rows(seed: str, fmt_rows) -> dict[str, list[str]]:
    from tests.conftest import gold

    metrics = gold(seed)["metrics"]
    return {spec.key: [str(metrics[f"{spec.key}.{c}"]) for c in APPLICANT_COLUMNS]
            for spec in fmt_rows if f"{spec.key}.total" in metrics}


def test_2021_table_three_printing_other_handling_as_one_row() -> None:
    """济源市's 2023 figures (seed 001) in a 2021 table 三 whose （六）其他处理 is one row, as
    some localities print it: read in the 2021 format, with （六） kept whole and （七） kept."""
    rows = _gold_requests_rows("001_452d5aba5030ea32", REQUESTS_2021)
    other = [str(sum(int(rows[f"requests.other.{r}"][i]) for r in
                     ("no_supplement", "unpaid_fee", "other"))) for i in range(7)]
    specs = [s for s in REQUESTS_2021 if not s.key.startswith("requests.other.")]
    table = _requests_rows(specs[:-2], rows) + [["（六）其他处理", *other]] + [
        [s.label, *rows[s.key]] for s in specs[-2:]]
    active = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "0"]]
    record = build_record(_doc(active, table, ["0"] * 15), "one_other.html")
    m = record["metrics"]
    assert record["format"] == "2021"
    assert [m[f"requests.other_handling.{c}"] for c in APPLICANT_COLUMNS] == [int(x) for x in other]
    assert m["requests.handled_total.total"] == int(rows["requests.handled_total"][6])
    assert m["requests.other.other.total"] is None
    failed = {c["id"] for c in record["checks"] if not c["ok"]}
    assert "format.mixed" not in failed and "format.other_in_one_row" in failed
    assert not any(i.startswith("requests.") for i in failed)


def test_stacked_rows_are_split_one_label_per_seven_numbers() -> None:
    """Two labels printed one after the other and their fourteen numbers after them
    (济源市 2023, rows （三）1 and 2)."""
    from nianbao.parsers.readers.text import read_text

    text = ("三、收到和处理政府信息公开申请情况\n"
            "一、本年新收政府信息公开申请数量 261 5 0 0 69 0 335\n"
            "（三）不予公开\n1.属于国家秘密\n2.其他法律行政法规禁止公开\n"
            "2 0 0 0 1 0 3\n3 0 0 0 0 0 3\n3.危及“三安全一稳定” 0 0 0 0 0 0 0\n")
    m = build_record(read_text(text), "stacked.txt")["metrics"]
    assert m["requests.withheld.state_secret.total"] == 3
    assert m["requests.withheld.prohibited.natural"] == 3
    assert m["requests.withheld.security_stability.total"] == 0


def test_spacer_cell_between_label_and_numbers_is_layout() -> None:
    """海珠区官洲街道 (2023) rows, as a CMS table with an empty spacer cell after each label."""
    from nianbao.parsers.readers.html import read_html

    def tr(label: str, *values: str) -> str:
        return "<tr><td>" + label + "</td><td></td>" + "".join(
            f"<td>{v}</td>" for v in values) + "</tr>"

    page = ("<html><body><h1>官洲街道办事处2023年政府信息公开工作年度报告</h1>"
            "<p>三、收到和处理政府信息公开申请情况</p><table>"
            "<tr><td>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>"
            "<td>申请人情况</td></tr>"
            + tr("一、本年新收政府信息公开申请数量", "1", "0", "0", "0", "0", "0", "1")
            + tr("二、上年结转政府信息公开申请数量", "0", "0", "0", "0", "0", "0", "0")
            + "</table></body></html>")
    m = build_record(read_html(page), "spacer.html")["metrics"]
    assert [m[f"requests.new.{c}"] for c in APPLICANT_COLUMNS] == [1, 0, 0, 0, 0, 0, 1]
    assert m["requests.carried_over.total"] == 0
