"""Plain text as document converters leave it: paragraphs, and tables flattened two ways.

Converters write a table one row per line with cells separated by tabs or pipes, one cell per
line (each cell line starts with a tab, a cell broken over lines continues on a line without a
tab, and a blank line ends the row), or, from PDF text, a label followed by numbers separated
by spaces. Both become :class:`Table` rows. Cells merged in the source
are often simply lost, so empties here are not trusted as blanks (``positional=False``).
"""

from __future__ import annotations

import re

from nianbao.parsers.document import Document, Paragraph, Table

_STRIP = " \t\u00a0\u3000\ufeff\r"
_NUM = r"[+\-]?\d[\d,]*(?:\.\d+)?"
# "四、结转下年度继续办理 0 0 0 0 0 0 0" or "0 0 0 0 0": numbers separated by spaces (PDF text)
_SPACED_NUMBERS = re.compile(rf"^(?:(.*?[^\d\s+\-,.])\s+)?((?:{_NUM}\s+)+{_NUM})$")


def _cell(text: str) -> str:
    return text.strip(_STRIP)


def read_text(text: str) -> Document:
    blocks: list[Paragraph | Table] = []
    rows: list[list[str]] = []
    cell_row: list[str] = []  # the one-cell-per-line row being gathered
    last_was_cell = False

    def end_cell_row() -> None:
        nonlocal cell_row
        if cell_row:
            rows.append(cell_row)
            cell_row = []

    def end_table() -> None:
        nonlocal rows
        end_cell_row()
        if rows:
            blocks.append(Table(rows=rows, positional=False))
            rows = []

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        body = line[1:] if line.startswith("\t") else line
        spaced = _SPACED_NUMBERS.match(line.strip(_STRIP))
        if "\t" in body or "|" in line:  # one row per line, cells between tabs or pipes
            end_cell_row()
            cells = re.split(r"[\t|]", line)
            if line.rstrip(_STRIP).endswith("|"):  # "a | b |": the last pipe closes a cell
                cells.pop()
            rows.append([_cell(c) for c in cells])
            last_was_cell = False
        elif spaced:
            end_cell_row()
            label = [spaced.group(1)] if spaced.group(1) else []
            rows.append(label + spaced.group(2).split())
            last_was_cell = False
        elif line.startswith("\t"):  # one cell per line
            cell_row.append(_cell(body))
            last_was_cell = True
        elif not line.strip(_STRIP):
            end_cell_row()
            last_was_cell = False
        elif last_was_cell and cell_row:  # a cell's text broken over lines
            cell_row[-1] += _cell(line)
        else:
            end_table()
            blocks.append(Paragraph(line.strip(_STRIP)))
            last_was_cell = False
    end_table()
    return Document(blocks=blocks, kind="text")
