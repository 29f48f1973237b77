"""The page chrome every replica page shares: head with the 国办发〔2017〕47号 meta tags,
header and navigation, breadcrumb, footer with 网站标识码.

Real portal pages are mostly chrome around a little content; a crawler must find the content
(list entries, article body, meta tags) among navigation and unrelated links, so the replicas
carry that chrome too, kept small.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from tests.mockserver.content import STUBS
from tests.mockserver.portals import Item, Portal

COLUMN_NAME = "政府信息公开年报"
GATEWAY_NAME = "政府信息公开"
# Sibling columns shown beside the 年报 column; each is a stub page at /<slug>/.
SIBLINGS = ("xxgkzn", "xxgkzd", "fdzdgknr")
CSS = """body{margin:0;font:14px/1.8 "Microsoft YaHei",sans-serif;color:#333}
.top{background:#b5121b;color:#fff;padding:14px 40px;font-size:24px}
.nav{background:#8e0e15;margin:0;padding:0 40px}.nav li{display:inline-block;margin-right:24px}
.nav a,.foot a{color:#fff;text-decoration:none}.wrap{width:1000px;margin:0 auto}
.crumb{padding:8px 0;border-bottom:1px solid #ddd}.side{float:left;width:200px}
.cont{margin-left:220px}.list li{border-bottom:1px dashed #ccc;list-style:none}
.list li span{float:right;color:#999}.foot{clear:both;background:#444;color:#ccc;
padding:16px 40px;text-align:center}.xxgk-box td{border:1px solid #dbe3ee;padding:2px 8px}"""


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def charset_meta(portal: Portal) -> str:
    """The charset declaration, or nothing for a portal that declares none anywhere."""
    if not portal.declare_charset:
        return ""
    return f'<meta http-equiv="Content-Type" content="text/html; charset={portal.encoding}">\n'


def links(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for text, href in pairs)


def page(
    portal: Portal,
    *,
    title: str,
    main: str,
    meta: Sequence[tuple[str, str]] = (),
    crumbs: Sequence[tuple[str, str]] = (),
    head: str = "",
    interact: str = "/hdjl/",
    gateway: str | None = None,
) -> str:
    """A whole page. ``meta`` adds column or article tags to the site tags; ``interact`` is the
    互动交流 link (a session-stamped one on a jsessionid portal); ``gateway`` overrides the 政务公开
    link (the front host links across to the 信息公开 host)."""
    tags = [
        ("SiteName", portal.name),
        ("SiteDomain", portal.host),
        ("SiteIDCode", portal.site_code),
        *meta,
    ]
    meta_html = "\n".join(f'<meta name="{k}" content="{esc(v)}">' for k, v in tags)
    nav = links(
        [
            ("首页", "/"),
            ("政务公开", gateway or portal.gateway),
            ("要闻动态", "/xwdt/"),
            ("政务服务", "/zwfw/"),
            ("互动交流", interact),
        ]
    )
    crumb = " &gt; ".join(f'<a href="{esc(h)}">{esc(t)}</a>' for t, h in [("首页", "/"), *crumbs])
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
{charset_meta(portal)}<title>{esc(title)}_{esc(portal.name)}</title>
{meta_html}
<style>{CSS}</style>
{head}</head>
<body>
<div class="top">{esc(portal.name)}</div>
<ul class="nav">
{nav}
</ul>
<div class="wrap">
<div class="crumb">当前位置：{crumb}</div>
{main}
</div>
<div class="foot">
<p><a href="/wzdt/">网站地图</a>　<a href="/lxwm/">联系我们</a>　<a href="http://www.gov.cn/">中国政府网</a></p>
<p>主办单位：{esc(portal.name)}办公室　网站标识码：{portal.site_code}</p>
<p>ICP备{portal.site_code[:8]}号　建议使用1366×768分辨率浏览</p>
</div>
</body>
</html>
"""


def column_crumbs(portal: Portal) -> list[tuple[str, str]]:
    return [(GATEWAY_NAME, portal.gateway), (COLUMN_NAME, portal.column)]


def column_page(portal: Portal, listing: str, *, head: str = "") -> str:
    """A 年报 column page: column meta tags, sibling columns at the side, ``listing`` inside."""
    side = links([(STUBS[s][0], f"/{s}/") for s in SIBLINGS] + [(COLUMN_NAME, portal.column)])
    main = f"""<div class="side"><h3>{GATEWAY_NAME}</h3><ul>
{side}
</ul></div>
<div class="cont"><h2 class="column-title">{COLUMN_NAME}</h2>
{listing}
</div>"""
    meta = [("ColumnName", COLUMN_NAME), ("ColumnType", "信息公开年报")]
    return page(portal, title=COLUMN_NAME, main=main, meta=meta, crumbs=column_crumbs(portal),
                head=head)


def index_number(portal: Portal, item: Item) -> str:
    """An invented 索引号 in the usual ``<organ code>/<year>-<serial>`` form."""
    organ = f"{portal.site_code[:6]}{item.number % 1000:03d}"
    return f"{organ}/{item.published.year}-{item.number % 10**5:05d}"


def detail_page(portal: Portal, item: Item, body: str, *, source: str, head: str = "") -> str:
    """An article page: the meta tags, the 信息公开 box, title, visible 发布日期 and ``body``."""
    pub = item.published
    meta = [
        ("ArticleTitle", item.title),
        ("PubDate", f"{pub:%Y-%m-%d %H:%M}"),
        ("ColumnName", COLUMN_NAME),
        ("ContentSource", source),
    ]
    main = f"""<table class="xxgk-box" cellspacing="0">
<tr><td>索引号：</td><td>{index_number(portal, item)}</td>
<td>发布机构：</td><td>{esc(source)}</td></tr>
<tr><td>名　　称：</td><td colspan="3">{esc(item.title)}</td></tr>
<tr><td>发布日期：</td><td>{pub:%Y-%m-%d}</td><td>主题分类：</td><td>{COLUMN_NAME}</td></tr>
</table>
<div class="article">
<h1 class="article-title">{esc(item.title)}</h1>
<div class="article-info"><span>发布日期：{pub:%Y-%m-%d}</span>
<span>来源：{esc(source)}</span></div>
<div class="article-content" id="zoom">
{body}
</div>
<div class="article-tools"><a href="javascript:window.print()">【打印本页】</a>
<a href="javascript:window.close()">【关闭窗口】</a></div>
</div>"""
    return page(portal, title=item.title, main=main, meta=meta, crumbs=column_crumbs(portal),
                head=head)


def attachment_body(title: str, href: str, ext: str) -> str:
    """The body of a page whose report is an attachment (详见附件), as editors write it."""
    return (
        f'<p style="text-indent: 2em;">{esc(title)}详见附件。</p>\n'
        f'<p>附件：<a href="{esc(href)}" target="_blank">{esc(title)}.{ext}</a></p>'
    )
