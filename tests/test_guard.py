"""The request guard alone: traps, budgets, scope and addresses, redirect hops included.

Names are left to a (never contacted) proxy, as in the replica tests: no DNS here."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from nianbao.crawler import meta
from nianbao.crawler.middlewares import GuardMiddleware, Refused
from nianbao.crawler.spiders.reports import ReportsSpider

SITES = "sites:\n  - {id: s, name: S, domains: [s.gov.cn], homepage: 'http://www.s.gov.cn/'}\n"


@pytest.fixture
def guard(tmp_path):
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    crawler = get_crawler(ReportsSpider, {"NIANBAO_MAX_PAGES_PER_SITE": 30,
                                          "NIANBAO_MAX_QUERIES_PER_PATH": 5,
                                          "NIANBAO_PROXY": "http://127.0.0.1:9",
                                          "NIANBAO_SITES_FILE": str(sites)})
    return GuardMiddleware.from_crawler(crawler)


def request(url: str) -> Request:
    return Request(url, meta={meta.SITE: "s", meta.ROLE: meta.Role.DISCOVER})


def refusal(guard, url: str) -> str | None:
    try:
        guard.process_request(request(url))
    except Refused as exc:
        return exc.reason
    return None


def test_endless_calendar_and_query_explosions_are_refused(guard):
    assert refusal(guard, "http://www.s.gov.cn/calendar?date=2024-01-01") == "trap"
    reasons = [refusal(guard, f"http://www.s.gov.cn/list.jsp?x={n}") for n in range(8)]
    assert reasons[:5] == [None] * 5 and set(reasons[5:]) == {"trap"}


def test_budget_scope_and_addresses(guard):
    assert refusal(guard, "http://www.other.gov.cn/") == "out-of-scope"
    assert refusal(guard, "http://127.0.0.1/") == "forbidden-address"
    assert refusal(guard, "http://169.254.169.254/latest/meta-data/") == "forbidden-address"
    reasons = [refusal(guard, f"http://www.s.gov.cn/p{n}.html") for n in range(40)]
    assert reasons.count("budget") == 10


def test_a_redirect_hop_is_checked_like_any_request(guard):
    hop = request("http://www.s.gov.cn/a.html").replace(url="http://10.0.0.8/admin")
    with pytest.raises(Refused, match="non-public"):
        guard.process_request(hop)
