"""What the spider reads off a page besides its links: the visible text a soft 404 or a
challenge is told by."""

from __future__ import annotations

from scrapy.http import HtmlResponse, XmlResponse

from nianbao.crawler.responses import visible_text


def test_visible_text_leaves_out_scripts_and_comments_and_stops_at_8000_characters():
    page = ("<html><head><title>标题</title></head><body>页面<script>if (a<b) "
            "{ document.write('<p>x</p>') }</script>不存在<!-- 注释 -->。<noscript><script>z"
            "</script>请启用</noscript><p>" + "字" * 9000 + "</p></body></html>")
    text = visible_text(HtmlResponse(url="http://example.test/", body=page.encode(),
                                     encoding="utf-8"))
    assert text.startswith("页面 不存在 。 请启用 字字")
    assert len(text) == 8000


def test_visible_text_of_an_xml_page_leaves_out_everything_inside_a_script():
    page = b"<doc><body>a<script>s<b>inside</b>s</script>t</body></doc>"
    assert visible_text(XmlResponse(url="http://example.test/", body=page)) == "a t"
