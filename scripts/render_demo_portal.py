"""Render the demo portal's files (``commands/demo/portal/``) from the five seed reports.

``nianbao demo`` serves those files as they are, so a user's installed package needs neither
the tests nor LibreOffice. This script made them once; run it again only to change the portal:

    .venv/bin/python -m scripts.render_demo_portal

The reports are drawn by the test renderer (``tests/mockserver/render.py``: the seed's text,
its tables redrawn from the hand-checked figures); the portal pages around them, their ids and
their publication dates are invented here, and ``commands/demo/README.md`` says so.
"""

from __future__ import annotations

import dataclasses
import html
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from tests.mockserver import content, render
from tests.mockserver.families.trs import CREATE_PAGE_HTML

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "commands" / "demo" / "portal"
SEEDS = {seed.split("_")[0]: seed for seed in render.seed_ids()}
COLUMN = "政府信息公开年报"
CSS = """body{margin:0;font:14px/1.8 "Microsoft YaHei",sans-serif;color:#333}
.top{background:#b5121b;color:#fff;padding:14px 40px;font-size:24px}
.nav{background:#8e0e15;margin:0;padding:0 40px}.nav li{display:inline-block;margin-right:24px}
.nav a{color:#fff;text-decoration:none}.wrap{width:1000px;margin:0 auto}
.list li{border-bottom:1px dashed #ccc;list-style:none}.list li span{float:right;color:#999}
.foot{background:#444;color:#ccc;padding:16px 40px;text-align:center}
.xxgk-box td{border:1px solid #dbe3ee;padding:2px 8px}"""
DEMO_NOTE = ("<!-- nianbao demo portal: rendered by scripts/render_demo_portal.py; the page, "
             "its ids and its dates are invented (commands/demo/README.md) -->")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclasses.dataclass(frozen=True)
class Portal:
    """One small portal of the demo, served under ``/<slug>/``."""

    slug: str
    name: str
    gateway: str  # where the 政务公开 link of the navigation points
    encoding: str = "utf-8"

    def page(self, title: str, main: str, meta: dict[str, str] | None = None,
             head: str = "") -> bytes:
        tags = {"SiteName": self.name, **(meta or {})}
        meta_html = "\n".join(f'<meta name="{k}" content="{esc(v)}">' for k, v in tags.items())
        text = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={self.encoding}">
<title>{esc(title)}_{esc(self.name)}</title>
{meta_html}
<style>{CSS}</style>
{head}</head>
<body>
{DEMO_NOTE}
<div class="top">{esc(self.name)}</div>
<ul class="nav"><li><a href="/{self.slug}/">首页</a></li>
<li><a href="{self.gateway}">政务公开</a></li></ul>
<div class="wrap">
{main}
</div>
<div class="foot">主办单位：{esc(self.name)}办公室（演示）</div>
</body>
</html>
"""
        return text.encode("gb18030" if self.encoding == "gbk" else self.encoding)

    def column(self, entries: list[tuple[str, str, str]], pager: str = "", head: str = "") -> bytes:
        """A 年报 column page: (title, href, date) entries and the pagination markup."""
        items = "\n".join(f'<li><a href="{esc(href)}" title="{esc(title)}" target="_blank">'
                          f"{esc(title)}</a><span>{day}</span></li>"
                          for title, href, day in entries)
        main = f'<h2>{COLUMN}</h2>\n<ul class="list">\n{items}\n</ul>\n{pager}'
        return self.page(COLUMN, main, {"ColumnName": COLUMN, "ColumnType": "信息公开年报"}, head)

    def article(self, title: str, body: str, published: datetime, source: str) -> bytes:
        """A detail page: the 国办发〔2017〕47号 meta tags, the 信息公开 box and ``body``."""
        meta = {"ArticleTitle": title, "PubDate": f"{published:%Y-%m-%d %H:%M}",
                "ColumnName": COLUMN, "ContentSource": source}
        main = f"""<table class="xxgk-box" cellspacing="0">
<tr><td>发布机构：</td><td>{esc(source)}</td><td>发布日期：</td><td>{published:%Y-%m-%d}</td></tr>
<tr><td>名　　称：</td><td colspan="3">{esc(title)}</td></tr>
</table>
<h1>{esc(title)}</h1>
<div class="article-info">发布日期：{published:%Y-%m-%d}　来源：{esc(source)}</div>
<div class="article-content" id="zoom">
{body}
</div>"""
        return self.page(title, main, meta)


def report(seed: str, published: datetime) -> render.Report:
    """The seed report, dated as the demo portal publishes it."""
    return dataclasses.replace(render.load_report(SEEDS[seed]), published=published)


def write(path: str, data: bytes | str) -> None:
    target = PORTAL / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)


def docx_and_pdf(seed: str, published: datetime, docx: str | None, pdf: str | None) -> None:
    """The report as a Word file and/or its PDF export (LibreOffice, at render time only)."""
    with tempfile.TemporaryDirectory(prefix="nianbao-demo-") as tmp:
        made = render.write_docx(report(seed, published), Path(tmp, f"{seed}.docx"))
        if docx:
            write(docx, made.read_bytes())
        if pdf:
            write(pdf, render.soffice_convert(made, "pdf", Path(tmp, "out.pdf")).read_bytes())


def attachment_body(title: str, href: str, ext: str) -> str:
    return (f'<p style="text-indent: 2em;">{esc(title)}详见附件。</p>\n'
            f'<p>附件：<a href="{esc(href)}">{esc(title)}.{ext}</a></p>')


def lookalike(portal: Portal, path: str, kind: str, published: datetime) -> tuple[str, str]:
    """A look-alike document (content.py's invented texts) at ``path``: (title, path)."""
    like = content.LOOKALIKES[kind]
    title = like.title.format(name=portal.name)
    body = like.body(portal.name, "127.0.0.1", "0000000000")
    write(path, portal.article(title, body, published, portal.name))
    return title, path


def day(value: datetime) -> str:
    return f"{value:%Y-%m-%d}"


def jccq() -> None:
    """TRS: a two-page column drawn by ``createPageHTML``; an HTML report, a department's report
    as a DOCX attachment, look-alikes, a dead link and a link to a cloud metadata address."""
    base = "/jccq/xxgk/zfxxgknb/"
    p = Portal("jccq", "晋城市城区人民政府", base)
    gov, dept = datetime(2024, 3, 27, 9, 36), datetime(2024, 2, 5, 10, 12)
    gov_path = f"{base}202403/t20240327_1314028.shtml"
    dept_path = f"{base}202402/t20240205_1309876.shtml"
    docx = f"{base}202402/P020240205509876.docx"
    gov_report = report("000", gov)
    write(gov_path, p.article(gov_report.title, render.report_body(gov_report, "trs"), gov, p.name))
    dept_title = report("003", dept).title
    write(dept_path, p.article(dept_title, attachment_body(dept_title, "./P020240205509876.docx",
                                                             "docx"), dept, "晋城市城区应急管理局"))
    docx_and_pdf("003", dept, docx, None)
    reading = lookalike(p, f"{base}202403/t20240329_1314310.shtml", "interpretation",
                        datetime(2024, 3, 29, 10, 12))
    law = lookalike(p, f"{base}202402/t20240226_1311205.shtml", "rule_of_law",
                    datetime(2024, 2, 26, 16, 5))
    website = lookalike(p, f"{base}202401/t20240115_1305112.shtml", "website_report",
                        datetime(2024, 1, 15, 9, 30))
    pages = [
        [(gov_report.title, "./" + gov_path.removeprefix(base), day(gov)),
         (reading[0], "./" + reading[1].removeprefix(base), "2024-03-29"),
         (law[0], "./" + law[1].removeprefix(base), "2024-02-26"),
         (dept_title, "./" + dept_path.removeprefix(base), day(dept))],
        [(website[0], "./" + website[1].removeprefix(base), "2024-01-15"),
         (f"{p.name}2021年政府信息公开工作年度报告", "./202203/t20220328_1021337.shtml",
          "2022-03-28"),
         ("年报数据备份", "http://169.254.169.254/latest/meta-data/", "2023-05-09")],
    ]
    for index, entries in enumerate(pages):
        pager = (f'<div class="page"><script>createPageHTML({len(pages)}, {index}, "index", '
                 f'"html");</script></div>')
        write(f"{base}index.html" if index == 0 else f"{base}index_{index}.html",
              p.column(entries, pager, head=CREATE_PAGE_HTML))
    write("/jccq/index.html", p.page(p.name, f'<p><a href="{base}">{COLUMN}</a></p>'))


def jiyuan() -> None:
    """Lists paged by 下一页 links; the report as a PDF attachment; a budget look-alike, a
    soft 404 (HTTP 200 saying the page is gone) and a notice titled like a report."""
    base = "/jiyuan/zwgk/zfxxgknb/"
    p = Portal("jiyuan", "济源市人民政府", base)
    pub = datetime(2024, 3, 24, 9, 3)
    title = report("001", pub).title
    write(f"{base}202403/t20240324_482915.html",
          p.article(title, attachment_body(title, "/jiyuan/uploadfiles/202403/482915.pdf", "pdf"),
                    pub, p.name))
    docx_and_pdf("001", pub, None, "/jiyuan/uploadfiles/202403/482915.pdf")
    budget = lookalike(p, f"{base}202402/t20240205_470316.html", "budget",
                       datetime(2024, 2, 5, 11, 40))
    soft404 = content.SOFT_404.format(charset='<meta charset="utf-8">', name=p.name)
    write(f"{base}202303/t20230330_391204.html", soft404)
    notice = "关于做好2023年政府信息公开工作年度报告编制发布工作的通知"
    write(f"{base}202401/t20240110_465021.html", p.article(notice, (
        '<p style="text-indent: 2em;">各乡镇人民政府、街道办事处，市政府各部门：</p>\n'
        '<p style="text-indent: 2em;">根据《中华人民共和国政府信息公开条例》第四十九条、第五十条'
        "规定，请各单位按照国办公开办函〔2021〕30号规定的格式编制本单位2023年政府信息公开工作"
        "年度报告，部门报告于2024年1月31日前向社会公布。</p>\n"
        '<p style="text-indent: 2em;">特此通知。（演示门户虚构的通知）</p>'),
        datetime(2024, 1, 10, 15, 20), "济源市人民政府办公室"))
    website = lookalike(p, f"{base}202401/t20240115_466733.html", "website_report",
                        datetime(2024, 1, 15, 9, 30))
    first = [(title, f"{base}202403/t20240324_482915.html", day(pub)),
             (budget[0], budget[1], "2024-02-05"),
             (notice, f"{base}202401/t20240110_465021.html", "2024-01-10")]
    second = [(website[0], website[1], "2024-01-15"),
              (f"{p.name}2022年政府信息公开工作年度报告", f"{base}202303/t20230330_391204.html",
               "2023-03-30")]
    write(f"{base}index.html", p.column(first, '<div class="pages">第1/2页　'
                                               '<a href="index_2.html">下一页</a></div>'))
    write(f"{base}index_2.html", p.column(second, '<div class="pages"><a href="index.html">'
                                                  "上一页</a>　第2/2页</div>"))
    write("/jiyuan/index.html", p.page(p.name, f'<p><a href="{base}">{COLUMN}</a></p>'))


def quwo() -> None:
    """An old GBK portal: one list page and the report as Word HTML pasted into the editor;
    the report was posted after the 31 March deadline."""
    base = "/quwo/zfxxgk/zfxxgknb/"
    p = Portal("quwo", "曲沃县人民政府", base, encoding="gbk")
    pub = datetime(2024, 4, 8, 10, 20)
    seed = report("002", pub)
    write(f"{base}202404/t20240408_87120.html",
          p.article(seed.title, render.report_body(seed, "word"), pub, p.name))
    law = lookalike(p, f"{base}202402/t20240226_86544.html", "rule_of_law",
                    datetime(2024, 2, 26, 16, 5))
    write(f"{base}index.html", p.column([
        (seed.title, f"{base}202404/t20240408_87120.html", day(pub)),
        (law[0], law[1], "2024-02-26")]))
    write("/quwo/index.html", p.page(p.name, f'<p><a href="{base}">{COLUMN}</a></p>'))


def sifangtai() -> None:
    """Only a homepage is configured: the column is found through 政务公开 → 政府信息公开年报."""
    p = Portal("sifangtai", "双鸭山市四方台区人民政府", "/sifangtai/zwgk/")
    base = "/sifangtai/zwgk/xxgknb/"
    pub = datetime(2024, 3, 28, 15, 47)
    seed = report("004", pub)
    write(f"{base}202403/t20240328_20931.html",
          p.article(seed.title, render.report_body(seed, "borderless"), pub, p.name))
    write(f"{base}index.html", p.column([(seed.title, "./202403/t20240328_20931.html", day(pub))]))
    write("/sifangtai/zwgk/index.html", p.page("政务公开", (
        '<ul><li><a href="/sifangtai/zwgk/xxgkzn/">政府信息公开指南</a></li>\n'
        f'<li><a href="{base}">{COLUMN}</a></li></ul>')))
    write("/sifangtai/zwgk/xxgkzn/index.html", p.page("政府信息公开指南", (
        f"<p>{content.STUBS['xxgkzn'][1]}</p>")))
    write("/sifangtai/index.html", p.page(p.name, "<p>欢迎访问（演示门户）。</p>"))


def front_page() -> None:
    links = "\n".join(f'<li><a href="/{slug}/">{name}</a></li>' for slug, name in [
        ("jccq", "晋城市城区人民政府"), ("jiyuan", "济源市人民政府"), ("quwo", "曲沃县人民政府"),
        ("sifangtai", "双鸭山市四方台区人民政府")])
    write("/index.html", f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>nianbao 演示门户</title></head>
<body>
<h1>nianbao 演示门户 (demo portal)</h1>
<p>Four small portals built for <code>nianbao demo</code> around five real annual reports; the
pages, ids and publication dates are invented (see commands/demo/README.md).</p>
<ul>
{links}
</ul>
</body></html>
""")
    write("/404.html", content.NOT_FOUND)
    write("/robots.txt", "User-agent: *\nDisallow:\n")


def main() -> int:
    shutil.rmtree(PORTAL, ignore_errors=True)
    for build in (front_page, jccq, jiyuan, quwo, sifangtai):
        build()
    files = sorted(p for p in PORTAL.rglob("*") if p.is_file())
    print(f"{len(files)} files, {sum(p.stat().st_size for p in files)} bytes in {PORTAL}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
