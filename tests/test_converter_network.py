"""LibreOffice converts crawled documents without network access: an .odt linking an image
on a server the test starts must be converted without that server ever being asked."""

from __future__ import annotations

import io
import zipfile

from nianbao.parsers.readers import legacy
from tests.conftest import require_tool
from tests.mockserver.attacks import Answer, AttackPortal

CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">
<office:body><office:text><text:p>2023年政府信息公开工作年度报告</text:p>
<text:p><draw:frame draw:name="i1" svg:width="2cm" svg:height="2cm" text:anchor-type="as-char">
<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>
</draw:frame></text:p></office:text></office:body></office:document-content>"""
MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
 manifest:version="1.2">
<manifest:file-entry manifest:full-path="/"
 manifest:media-type="application/vnd.oasis.opendocument.text"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def odt_linking(url: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", MANIFEST)
        z.writestr("content.xml", CONTENT.format(url=url))
    return buf.getvalue()


def test_a_linked_image_is_never_fetched_while_converting() -> None:
    require_tool("soffice", "LibreOffice converts .odt/.doc/.wps reports")
    with AttackPortal() as server:
        server.routes["/img.png"] = Answer(body=b"\x89PNG\r\n\x1a\n", content_type="image/png")
        docx = legacy.convert_to_docx(odt_linking(f"{server.url}/img.png"), "odt")
        assert server.hits == []
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        assert "年度报告" in z.read("word/document.xml").decode("utf-8")
