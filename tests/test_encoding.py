"""Page decoding in the crawler: a site entry's ``encoding`` overrides what the portal
declares, and without one a declaration that lies is caught by a strict decode (a mojibake
list would hide every report title). The parser is handed the same override."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from nianbao.crawler import meta
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.middlewares import EncodingMiddleware
from nianbao.crawler.pipelines import declared_type
from nianbao.crawler.spiders.reports import ReportsSpider

TITLE = "晋城市城区人民政府2023年政府信息公开工作年度报告"
PAGE = f'<html><head><meta charset="utf-8"></head><body><a href="t1.html">{TITLE}</a></body>'


def middleware(tmp_path, encoding: str | None) -> EncodingMiddleware:
    line = f", encoding: {encoding}" if encoding else ""
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  - {id: s, name: S, domains: [s.gov.cn], "
                     f"homepage: 'http://www.s.gov.cn/'{line}}}\n", encoding="utf-8")
    return EncodingMiddleware.from_crawler(
        get_crawler(ReportsSpider, {"NIANBAO_SITES_FILE": str(sites)}))


def fetched(body: bytes, content_type: str) -> tuple[Request, HtmlResponse]:
    request = Request("http://www.s.gov.cn/nb/", meta={meta.SITE: "s", meta.ROLE: meta.Role.LIST})
    return request, HtmlResponse(request.url, body=body, request=request,
                                 headers={"Content-Type": content_type})


def test_the_site_encoding_overrides_a_lying_declaration(tmp_path):
    request, response = fetched(PAGE.encode("gbk"), "text/html; charset=utf-8")
    assert TITLE not in response.text  # as the portal declares it: mojibake
    decoded = middleware(tmp_path, "gbk").process_response(request, response)
    assert decoded.encoding == "gbk" and TITLE in decoded.css("a::text").get()


def test_without_an_override_a_strict_decode_catches_the_lie(tmp_path):
    request, response = fetched(PAGE.encode("gbk"), "text/html; charset=utf-8")
    decoded = middleware(tmp_path, None).process_response(request, response)
    assert TITLE in decoded.css("a::text").get()
    request, response = fetched(PAGE.encode("utf-8"), "text/html; charset=utf-8")
    assert middleware(tmp_path, None).process_response(request, response) is response


def test_the_parser_gets_the_override_as_the_charset():
    item = FetchedDocument(site_id="s", url="http://www.s.gov.cn/nb/t1.html", role="detail",
                           body=PAGE.encode("gbk"), content_type="text/html; charset=utf-8",
                           status=200, fetched_at=datetime.now(UTC), warc={}, encoding="gbk")
    assert declared_type(item) == "text/html; charset=gbk"
    item.encoding = None
    assert declared_type(item) == "text/html; charset=utf-8"
