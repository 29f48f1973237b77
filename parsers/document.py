"""The intermediate document every reader produces and every table reader consumes.

Readers (text, HTML, DOCX, PDF, OCR) differ wildly in what they can see, so they all reduce a
file to the same thing: paragraphs and tables in reading order. A table is a list of rows; a row
holds only the cells that *start* in it (a cell spanning rows or columns appears once, where it
starts), which is what an HTML ``<tr>`` holds and what a DOCX ``<w:tr>`` holds once vertical-merge
continuations are dropped. ``positional`` says whether an empty cell is a real, deliberate blank
(a grid the reader could see) or may be an artefact of text extraction (tabs, OCR lines).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    rows: list[list[str]]
    positional: bool = True


Block = Paragraph | Table


@dataclass
class DateEvidence:
    source: str  # meta:PubDate, visible, url, signature, http:last-modified, first-seen
    value: str  # ISO date YYYY-MM-DD
    raw: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"source": self.source, "value": self.value}
        if self.raw and self.raw != self.value:
            out["raw"] = self.raw
        return out


@dataclass
class Document:
    """What a reader saw in one file: blocks in reading order plus page metadata."""

    blocks: list[Block] = field(default_factory=list)
    kind: str = "text"  # text, html, docx, pdf, doc, image, pdf-ocr
    title_hint: str | None = None  # e.g. ArticleTitle meta or <h1>
    meta: dict[str, str] = field(default_factory=dict)  # 47号 meta tags and the like
    dates: list[DateEvidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reader remarks (fallbacks taken, OCR score)

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]
