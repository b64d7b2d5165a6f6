"""Page layout shared by both PDF readers: ruled tables as pipe rows, the rest as text lines.

:func:`page_text` lays out a page from pdfium's chars and edges
(:class:`extractor.read.pdfium.PageObjects`) with pdfplumber's own table finder and text layout;
:func:`plumber_page_text` is the same layout on a pdfplumber page, for the pages pdfium cannot
describe (:class:`PlumberPages` opens pdfplumber only when such a page comes).
"""

from __future__ import annotations

import functools
import io
from typing import Any

from extractor.errors import InputError, UnsupportedFormatError
from extractor.read import formats
from extractor.read.formats import Grid, render_grid


class PlumberPages:
    """pdfplumber on the same bytes, opened only if some page needs it."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data, self.path = data, path
        self.pdf: Any = None

    def page_text(self, index: int) -> str:
        import pdfplumber
        from pdfminer.pdfdocument import PDFPasswordIncorrect
        from pdfplumber.utils.exceptions import PdfminerException

        try:
            if self.pdf is None:
                self.pdf = pdfplumber.open(io.BytesIO(self.data))
            return plumber_page_text(self.pdf.pages[index])
        except InputError:
            raise
        except Exception as exc:  # pdfminer raises many unrelated types on hostile input
            cause: BaseException = exc
            if isinstance(exc, PdfminerException) and exc.args and isinstance(exc.args[0], BaseException):
                cause = exc.args[0]  # pdfplumber wraps pdfminer's exception as its first argument
            if isinstance(cause, PDFPasswordIncorrect):
                raise UnsupportedFormatError(self.path, "PDF is encrypted with a password") from exc
            msg = f"cannot read PDF: {type(cause).__name__}: {cause}".rstrip(": ")
            raise InputError(self.path, msg) from exc

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()


def page_text(page: Any) -> str:
    """A page's text from chars and edges (``PageObjects``), as pdfplumber lays it out."""
    from pdfplumber.table import TableFinder, TableSettings
    from pdfplumber.utils import geometry, text

    # Table finding grows much faster than linearly with ruling edges: a page of hatching or
    # vector art is read as text only.
    found = TableFinder(page, TableSettings()).tables if len(page.edges) <= formats.MAX_PDF_EDGES else []
    tables = sorted(found, key=lambda t: t.bbox[1])
    boxes = [t.bbox for t in tables]

    def outside(obj: dict[str, Any]) -> bool:
        cx = (obj["x0"] + obj["x1"]) / 2
        cy = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

    chars = [c for c in page.chars if outside(c)]
    x0, top, x1, bottom = page.bbox

    def band(b_top: float, b_bottom: float) -> str:
        if b_bottom - b_top < 0.5:
            return ""
        bbox = (x0, b_top, x1, b_bottom)
        cropped = geometry.crop_to_bbox(chars, bbox)
        if not cropped:
            return ""
        textmap = text.chars_to_textmap(
            cropped, layout_bbox=bbox, layout_width=x1 - x0, layout_height=b_bottom - b_top
        )
        return str(textmap.as_string)

    parts: list[str] = []
    cursor = top
    for table in tables:
        parts.append(band(cursor, table.bbox[1]))
        parts.append(_pdf_table_text(_extract(table, page.chars)))
        cursor = max(cursor, table.bbox[3])
    parts.append(band(cursor, bottom))
    return "\n".join(p for p in parts if p.strip())


@functools.cache
def _words() -> Any:
    from pdfplumber.utils.text import WordExtractor

    return WordExtractor()


def _cell_text(chars: list[dict[str, Any]]) -> str:
    """``pdfplumber.utils.extract_text(chars)`` (default settings) with one reused WordExtractor."""
    from pdfplumber.utils.clustering import cluster_objects
    from pdfplumber.utils.text import DEFAULT_Y_TOLERANCE, get_line_cluster_key

    words = _words().extract_words(chars)
    lines = cluster_objects(words, get_line_cluster_key("ttb"), DEFAULT_Y_TOLERANCE)
    return "\n".join(" ".join(word["text"] for word in line) for line in lines)


def _extract(table: Any, chars: list[dict[str, Any]]) -> list[list[str | None]]:
    """``pdfplumber.table.Table.extract()`` with each char's midpoint computed once, not per cell."""
    mids = [((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2, c) for c in chars]
    out: list[list[str | None]] = []
    for row in table.rows:
        x0, top, x1, bottom = row.bbox
        in_row = [m for m in mids if x0 <= m[0] < x1 and top <= m[1] < bottom]
        cells: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                cells.append(None)
                continue
            cx0, ctop, cx1, cbottom = cell
            found = [m[2] for m in in_row if cx0 <= m[0] < cx1 and ctop <= m[1] < cbottom]
            cells.append(_cell_text(found) if found else "")
        out.append(cells)
    return out


def plumber_page_text(page: Any) -> str:
    # Table finding grows much faster than linearly with ruling edges: a page of hatching or
    # vector art is read as text only.
    found = page.find_tables() if len(page.edges) <= formats.MAX_PDF_EDGES else []
    tables = sorted(found, key=lambda t: t.bbox[1])
    boxes = [t.bbox for t in tables]

    def outside(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx = (obj["x0"] + obj["x1"]) / 2
        cy = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

    text_page = page.filter(outside)
    x0, top, x1, bottom = page.bbox
    parts: list[str] = []
    cursor = top
    for table in tables:
        parts.append(_band_text(text_page, x0, x1, cursor, table.bbox[1]))
        parts.append(_pdf_table_text(table.extract()))
        cursor = max(cursor, table.bbox[3])
    parts.append(_band_text(text_page, x0, x1, cursor, bottom))
    return "\n".join(p for p in parts if p.strip())


def _band_text(page: Any, x0: float, x1: float, top: float, bottom: float) -> str:
    if bottom - top < 0.5:
        return ""
    text: str = page.crop((x0, top, x1, bottom)).extract_text() or ""
    return text


def _pdf_cell(text: str | None) -> str | None:
    """Join the lines of a wrapped cell: no space inside CJK text or digits."""
    if text is None:
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    out = ""
    for ln in lines:
        if out and out[-1].isascii() and out[-1].isalpha() and ln[0].isascii() and ln[0].isalpha():
            out += " "
        out += ln
    return out


def _pdf_table_text(rows: list[list[str | None]]) -> str:
    grid: Grid = [[_pdf_cell(c) for c in row] for row in rows]
    if max((len(r) for r in grid), default=0) <= 1:  # a framed paragraph, not a table
        return "\n".join(c for r in grid for c in r if c)
    return render_grid(grid)
