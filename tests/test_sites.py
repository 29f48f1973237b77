"""The sites file: the real one loads, and a broken entry is reported by line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.crawler.links import normalize_url, trs_pages
from nianbao.sites import SitesError, load_sites, select_sites

ROOT = Path(__file__).resolve().parents[1]


def test_real_sites_file_loads_with_every_mission_site():
    sites = {s.id: s for s in load_sites(ROOT / "config" / "sites.yaml")}
    assert {"jccq", "jiyuan", "quwo", "sifangtai"} <= set(sites)
    assert len(sites) >= 24
    assert sites["jccq"].in_scope("http://xxgk.jccq.gov.cn/qzf/qzfb/zfxxgknb/")
    assert not sites["jccq"].in_scope("http://www.jiyuan.gov.cn/")
    assert sites["sifangtai"].homepage and not sites["sifangtai"].columns
    for site in sites.values():
        assert site.raw.get("verified") is False and site.raw.get("seen_at"), site.id


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "expected"), [
    ("sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n    render: sometimes\n"
     "    homepage: http://a.gov.cn/\n", "line 5: site 'a': render: 'sometimes' is not one of"),
    ("sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n",
     "needs 'columns' or a 'homepage'"),
    ("sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n"
     "    colums: [http://a.gov.cn/]\n", "line 5: site 'a': colums: unknown field"),
    ("sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n    homepage: http://b.gov.cn/\n",
     "http://b.gov.cn/ is outside the site's domains"),
    ("sites:\n  - id: Bad Id\n    name: A\n    domains: [a.gov.cn]\n"
     "    homepage: http://a.gov.cn/\n", "line 2: site 'Bad Id': id:"),
    ("sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n    homepage: http://a.gov.cn/\n"
     "  - id: a\n    name: B\n    domains: [a.gov.cn]\n    homepage: http://a.gov.cn/\n",
     "line 6: site 'a': id: duplicate (first at line 2)"),
    ("sites: [\n", "not valid YAML"),
    ("sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n    columns:\n"
     "      - url: ftp://a.gov.cn/x\n", "is not an http(s) URL"),
])
def test_broken_entries_are_reported_by_line_and_field(tmp_path, body, expected):
    with pytest.raises(SitesError) as err:
        load_sites(_write(tmp_path, body))
    assert expected in str(err.value)


def test_unknown_site_id_is_an_error(tmp_path):
    sites = load_sites(_write(tmp_path, "sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n"
                                        "    homepage: http://a.gov.cn/\n"))
    with pytest.raises(SitesError, match="unknown site id"):
        select_sites(sites, ["b"])


def test_trs_pagination_and_session_ids():
    html = '<script>createPageHTML(3, 0, "index", "html");</script>'
    assert trs_pages(html, "http://x.gov.cn/col/") == [
        "http://x.gov.cn/col/index_1.html", "http://x.gov.cn/col/index_2.html"]
    assert trs_pages(html.replace("3, 0", "3, 1"), "http://x.gov.cn/col/index_1.html") == []
    assert normalize_url("http://X.gov.cn/a;jsessionid=AB12?page=2&sid=9#top") == \
        "http://x.gov.cn/a?page=2"


def test_every_list_family_in_the_sites_vocabulary_has_its_crawler_module():
    from nianbao.crawler.families import FAMILIES
    from nianbao.sites import LIST_FAMILIES, PAGINATIONS

    assert set(FAMILIES) == set(PAGINATIONS) == {*LIST_FAMILIES, "none"}


def test_cms_and_selectors_are_checked_against_what_the_crawler_reads(tmp_path):
    head = "sites:\n  - id: a\n    name: A\n    domains: [a.gov.cn]\n    homepage: http://a.gov.cn/\n"
    with pytest.raises(SitesError, match="'c-col' is not one of"):
        load_sites(_write(tmp_path, head + "    cms: c-col\n"))
    with pytest.raises(SitesError, match="unknown key"):
        load_sites(_write(tmp_path, head + "    selectors: {content: '#zoom'}\n"))
    (site,) = load_sites(_write(tmp_path, head + "    cms: js-list\n    encoding: gbk\n"
                                "    selectors: {wait_for: '#list a'}\n"))
    assert (site.cms, site.encoding, site.selectors["wait_for"]) == ("js-list", "gbk", "#list a")
