"""The five seed reports rendered as HTML (three CMS styles, and GBK without a charset), DOCX
with merged cells, PDF with a text layer, legacy DOC and an image-only PDF: every rendering must
give the gold metrics (the OCR rendering reports its score)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nianbao.parsers.pipeline import parse_bytes
from nianbao.vocabulary.dates import calendar_day
from tests.conftest import gold, metric_mismatches, require_tool, seed_ids
from tests.mockserver import render

TEXT_KINDS = ["html_trs", "html_word", "html_borderless", "html_gbk", "docx", "pdf", "doc"]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    require_tool("soffice", "LibreOffice renders the PDF and DOC fixtures")
    out = tmp_path_factory.mktemp("renderings")
    return render.render_all(out, image_seeds=[seed_ids()[3]])


def _parse(path: Path, seed_id: str) -> dict:
    return parse_bytes(path.read_bytes(), f"http://www.example.gov.cn{render.fixture_url(seed_id)}")


@pytest.mark.parametrize("kind", TEXT_KINDS)
@pytest.mark.parametrize("seed_id", seed_ids())
def test_rendering_gives_gold_metrics(rendered: dict, seed_id: str, kind: str) -> None:
    record, expected = _parse(rendered[seed_id][kind], seed_id), gold(seed_id)
    assert record["format"] == "2021"
    assert metric_mismatches(record, expected["metrics"]) == []
    assert record["issuer"] in expected["issuer_aliases"]
    assert record["report_year"] == expected["report_year"]
    assert [c["id"] for c in record["checks"] if c["severity"] == "error" and not c["ok"]] == []


@pytest.mark.parametrize("seed_id", seed_ids())
def test_html_dates_are_evidenced(rendered: dict, seed_id: str) -> None:
    record = _parse(rendered[seed_id]["html_trs"], seed_id)
    sources = {d["source"] for d in record["date_evidence"]}
    assert {"meta:PubDate", "visible", "url"} <= sources
    published = render.published_at(seed_id, gold(seed_id)).date().isoformat()
    assert record["published_date"] == published




@pytest.mark.parametrize("written", ["2024-01-05 08:00", "2024-1-5 8:00:00", "2024/01/05 08:00",
                                     "2024.01.05", "2024年1月5日", " 2024-01-05T08:00:00+08:00"])
def test_the_pubdate_meta_is_read_in_the_forms_cms_write_it(written: str) -> None:
    """The 47号 guide's form and the separators CMSs use instead (the visible date's too)."""
    report = render.load_report(seed_ids()[0])
    html = render.page_html(report, "trs", declare_charset=True).replace(
        f'content="{report.published:%Y-%m-%d %H:%M}"', f'content="{written}"')
    url = f"http://www.example.gov.cn{render.fixture_url(seed_ids()[0])}"
    record = parse_bytes(html.encode(), url, "text/html")
    assert [d["value"] for d in record["date_evidence"] if d["source"] == "meta:PubDate"] == [
        "2024-01-05"]


@pytest.mark.parametrize("seed_id", seed_ids()[:2])
def test_a_day_the_calendar_does_not_have_is_no_date_evidence(seed_id: str) -> None:
    """A page that prints 2月30日 as its PubDate and its visible 发布日期 (a CMS typo, or a
    hostile page) states no date: its date comes from the next source that names a real day."""
    report = render.load_report(seed_id)
    printed = f"{report.published:%Y-%m-%d}"
    impossible = f"{report.published.year}-02-30"
    html = render.page_html(report, "trs", declare_charset=True)
    assert html.count(printed) >= 2  # the PubDate meta and the visible date
    url = f"http://www.example.gov.cn{render.fixture_url(seed_id)}"
    record = parse_bytes(html.replace(printed, impossible).encode(), url, "text/html")
    values = {d["source"]: d["value"] for d in record["date_evidence"]}
    assert impossible not in values.values()
    assert {"meta:PubDate", "visible"}.isdisjoint(values)
    assert record["published_date"] in values.values()
    assert calendar_day(record["published_date"]) is not None


def test_gbk_page_has_no_charset_declaration(rendered: dict) -> None:
    data = rendered[seed_ids()[0]]["html_gbk"].read_bytes()
    assert b"charset" not in data.lower()
    data.decode("gbk")  # strict GBK
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_image_only_pdf_is_read_by_ocr(rendered: dict, capsys: pytest.CaptureFixture) -> None:
    seed_id = seed_ids()[3]
    record = _parse(rendered[seed_id]["image_pdf"], seed_id)
    expected = gold(seed_id)["metrics"]
    wrong = metric_mismatches(record, expected)
    score = 1 - len(wrong) / len(expected)
    with capsys.disabled():
        print(f"\nOCR score on image-only PDF of seed {seed_id}: {score:.1%} of "
              f"{len(expected)} metrics exact; notes: {record['notes']}")
    assert record["input"] == "pdf-ocr"
    assert any("ocr" in n.lower() for n in record["notes"])
    # Honest results: what OCR did not read is null, never a wrong number passing the checks.
    assert all(got is None for _, _, got in wrong) or any(
        not c["ok"] for c in record["checks"] if c["severity"] == "error"
    ), json.dumps(wrong[:5], ensure_ascii=False)


@pytest.fixture(scope="session")
def rows_split_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_tool("soffice", "LibreOffice renders the PDF fixtures")
    out = tmp_path_factory.mktemp("rows-split")
    return {s: render.render_pdf_rows_split(s, out / f"{s}.pdf") for s in seed_ids()}


@pytest.mark.parametrize("seed_id", seed_ids())
def test_pdf_rows_cut_by_page_breaks_are_read_exactly(
    rows_split_pdfs: dict[str, Path], seed_id: str
) -> None:
    """Rows may break across pages (Word's default): a page break then leaves a row's numbers
    and the start of its label on one page and the rest of the label on the next."""
    record = _parse(rows_split_pdfs[seed_id], seed_id)
    assert metric_mismatches(record, gold(seed_id)["metrics"]) == []
    assert [c["id"] for c in record["checks"] if c["severity"] == "error" and not c["ok"]] == []


def test_some_seed_pdf_really_cuts_a_row_across_pages(rows_split_pdfs: dict[str, Path]) -> None:
    """The test above exercises the case: a table continues on a new page with a row holding
    only the rest of a label (values all empty)."""
    from nianbao.parsers.document import Table
    from nianbao.parsers.readers.pdf import read_pdf

    fragments = []
    for path in rows_split_pdfs.values():
        for block in read_pdf(path.read_bytes()).blocks:
            if isinstance(block, Table):
                fragments += [r for r in block.rows
                              if len(r) >= 7 and r[0] and not any(c.strip() for c in r[1:])]
    assert fragments, "no row cut by a page break in the rendered PDFs"


@pytest.mark.parametrize("seed_id", seed_ids())
def test_text_export_of_the_pdf_gives_gold_metrics(
    rendered: dict, seed_id: str, tmp_path: Path
) -> None:
    """The PDF as `pdftotext -layout` exports it: single-value rows as 'label   number' lines,
    row labels wrapped over several lines around their numbers, and the vertical parent labels
    (（三）不予公开, （五）不予处理…) cut into pieces printed beside them."""
    import subprocess

    pdftotext = require_tool("pdftotext", "poppler exports the PDF as text")
    out = tmp_path / "report.txt"
    subprocess.run([pdftotext, "-layout", str(rendered[seed_id]["pdf"]), str(out)], check=True,
                   timeout=60)
    record = parse_bytes(out.read_bytes(), f"{seed_id}.txt")
    expected = gold(seed_id)
    assert record["format"] == "2021"
    assert metric_mismatches(record, expected["metrics"]) == []
    assert record["issuer"] in expected["issuer_aliases"]
    assert [c["id"] for c in record["checks"] if c["severity"] == "error" and not c["ok"]] == []
