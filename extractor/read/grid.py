"""The one form every reader gives a table in: a grid of cells, rendered as ``| a | b |`` lines.

HTML (:mod:`extractor.read.html_grid`), DOCX (:mod:`extractor.read.docx`) and ruled PDF tables
(:mod:`extractor.read.formats`, :mod:`extractor.read.pdf_layout`) build a :data:`Grid`; a cell a
merged cell covers is ``None`` and is written as the span mark, so a blank cell stays a blank
cell and a covered one is no cell.
The table readers (:mod:`extractor.tables`) read these lines, one way for every format.
"""

from __future__ import annotations

from extractor.read.normalise import SPAN

#: Rows of cells; ``None``: covered by a merged cell (row or column span).
Grid = list[list[str | None]]


def cell_text(text: str) -> str:
    """A cell's text on one line, ``|`` (the cell separator) written ``/``."""
    return " ".join(text.split()).replace("|", "/")


def render_grid(rows: Grid, *, clean: bool = True) -> str:
    """Rows of cells → ``| a | b |`` lines, padded to the widest row with span marks.
    ``clean=False``: the cells are already :func:`cell_text`."""
    width = max((len(r) for r in rows), default=0)
    lines = []
    for row in rows:
        cells = [SPAN if c is None else cell_text(c) if clean else c for c in row]
        if len(cells) < width:
            cells += [SPAN] * (width - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
