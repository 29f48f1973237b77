"""The divisions table shipped with nianbao, and how portal names are matched to it."""

from __future__ import annotations

import pytest

from nianbao.vocabulary.divisions import (
    ancestors,
    children,
    core_name,
    descendants,
    divisions,
    match_division,
)


def test_the_table_holds_every_division_of_the_mainland_once():
    table = divisions()
    levels = {level: sum(1 for d in table.values() if d.level == level)
              for level in ("province", "prefecture", "county")}
    # The figures the 2023 GB/T 2260 release gives (and issue 13 quotes).
    assert levels == {"province": 31, "prefecture": 333, "county": 2845}
    assert all(len(code) == 6 and code.isdigit() for code in table)
    assert all(d.parent in table for d in table.values() if d.parent)
    assert len(children(None)) == 31
    assert sum(len(descendants(p.code)) for p in children(None)) == 333 + 2845


def test_enclosing_divisions_come_nearest_first():
    assert [d.name for d in ancestors("330106")] == ["杭州市", "浙江省"]


@pytest.mark.parametrize(("text", "within", "code", "how"), [
    ("杭州市人民政府门户网站", "330000", "330100", "exact"),
    ("浙江省杭州市", "330000", "330100", "exact"),
    ("杭州", "330000", "330100", "variant"),
    ("恩施州", "420000", "422800", "variant"),
    ("恩施土家族苗族自治州人民政府", "420000", "422800", "exact"),
    ("长阳", "420500", "420528", "variant"),
    ("额济纳旗", "152900", "152923", "exact"),
    ("阿拉善盟", "150000", "152900", "exact"),
    ("朝阳区", "110000", "110105", "exact"),  # Beijing's, not 长春's or 朝阳市
    ("仙桃市", "420000", "429004", "exact"),  # a county-level city under the province
    ("广西", None, "450000", "variant"),
    ("晋城市城区人民政府", "140500", "140502", "exact"),
])
def test_portal_names_match_their_division_among_the_expected_ones(text, within, code, how):
    division, found = match_division(text, within)
    assert (division.code if division else None, found) == (code, how)


def test_a_name_of_no_child_or_of_two_is_no_match():
    assert match_division("朝阳区", "330000") == (None, "no-match")
    assert match_division("首页", "330000") == (None, "no-match")


def test_portal_words_and_enclosing_names_are_taken_off():
    assert core_name("浙江省 杭州市人民政府（门户网站）", "330000") == "杭州市"
