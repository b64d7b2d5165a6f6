"""Page layout shared by both PDF readers: ruled tables as pipe rows, the rest as text lines.

:func:`page_text` lays out a page from pdfium's chars and edges
(:class:`extractor.read.pdfium.PageObjects`) with pdfplumber's own table finder and text layout;
:func:`plumber_page_text` is the same layout on a pdfplumber page, for the pages pdfium cannot
describe (:class:`PlumberPages` opens pdfplumber only when such a page comes).
"""

from __future__ import annotations

import bisect
import io
from typing import Any

from extractor.errors import InputError, UnsupportedFormatError
from extractor.read import formats, pdf_columns, pdf_text
from extractor.read.grid import Grid, render_grid
from extractor.read.pdf_text import Char

Point = tuple[float, float]
Box = tuple[float, float, float, float]


class PlumberPages:
    """pdfplumber on the same bytes, opened only if some page needs it."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data, self.path = data, path
        self.pdf: Any = None

    def page_text(self, index: int, carry: pdf_columns.Carry | None = None) -> str:
        import pdfplumber
        from pdfminer.pdfdocument import PDFPasswordIncorrect
        from pdfplumber.utils.exceptions import PdfminerException

        try:
            if self.pdf is None:
                self.pdf = pdfplumber.open(io.BytesIO(self.data))
            return plumber_page_text(self.pdf.pages[index], carry)
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


def page_text(page: Any, carry: pdf_columns.Carry | None = None) -> str:
    """A page's text from chars and edges (``PageObjects``), as pdfplumber lays it out; with
    ``carry``, unruled tables read by column (:mod:`extractor.read.pdf_columns`)."""
    # Table finding grows much faster than linearly with ruling edges: a page of hatching or
    # vector art is read as text only.
    found = _find_tables(page) if len(page.edges) <= formats.MAX_PDF_EDGES else []
    tables = sorted(found, key=lambda t: t.bbox[1])
    mids = _Midpoints(page.chars)
    chars = mids.outside([t.bbox for t in tables])
    bands = _Bands(chars)
    x0, top, x1, bottom = page.bbox
    if carry is not None and tables:  # ruled tables: the page is read as pdfplumber lays it out
        carry.columns, carry = None, None

    def band(b_top: float, b_bottom: float) -> str:
        if b_bottom - b_top < 0.5:
            return ""
        return pdf_columns.band_text(bands.near(b_top, b_bottom), (x0, b_top, x1, b_bottom), carry)

    parts: list[str] = []
    cursor = top
    for table in tables:
        parts.append(band(cursor, table.bbox[1]))
        parts.append(_pdf_table_text(_extract(table, mids)))
        cursor = max(cursor, table.bbox[3])
    parts.append(band(cursor, bottom))
    return "\n".join(p for p in parts if p.strip())


class _Midpoints:
    """The page's chars with their midpoints (as pdfplumber computes them), sorted by height on
    the page so the chars of a row or a table are found by bisection, then given in page order."""

    def __init__(self, chars: list[Char]) -> None:
        self.chars = chars
        self.mids = [((c[1] + c[2]) / 2, (c[3] + c[4]) / 2) for c in chars]
        ys = [m[1] for m in self.mids]
        self.order = sorted(range(len(chars)), key=ys.__getitem__)
        self.ys = [ys[k] for k in self.order]

    def _between(self, lo: int, hi: int, x0: float, x1: float) -> list[int]:
        mids = self.mids
        return [k for k in self.order[lo:hi] if x0 <= mids[k][0] <= x1]

    def row(self, bbox: Box) -> list[int]:
        """Indices of the chars with ``x0 <= mid x < x1`` and ``top <= mid y < bottom``, in no
        particular order."""
        x0, top, x1, bottom = bbox
        lo, hi = bisect.bisect_left(self.ys, top), bisect.bisect_left(self.ys, bottom)
        mids = self.mids
        return [k for k in self.order[lo:hi] if x0 <= mids[k][0] < x1]

    def outside(self, boxes: list[Box]) -> list[Char]:
        """The chars whose midpoint is in none of ``boxes`` (edges included), in page order."""
        if not boxes:
            return self.chars
        inside: set[int] = set()
        for x0, top, x1, bottom in boxes:
            lo, hi = bisect.bisect_left(self.ys, top), bisect.bisect_right(self.ys, bottom)
            inside.update(self._between(lo, hi, x0, x1))
        return [c for k, c in enumerate(self.chars) if k not in inside]


class _Bands:
    """The chars that may overlap a horizontal band, found by their tops (a superset: the band
    text crops exactly), in page order."""

    def __init__(self, chars: list[Char]) -> None:
        self.chars = chars
        tops = [c[3] for c in chars]
        self.order = sorted(range(len(chars)), key=tops.__getitem__)
        self.tops = [tops[k] for k in self.order]
        # a char overlapping [top, bottom] has its top within its height above ``top``
        self.reach = max((c[4] - c[3] for c in chars), default=0.0) + 1.0

    def near(self, top: float, bottom: float) -> list[Char]:
        lo = bisect.bisect_left(self.tops, top - self.reach)
        hi = bisect.bisect_right(self.tops, bottom)
        return [self.chars[k] for k in sorted(self.order[lo:hi])]


def _find_tables(page: Any) -> list[Any]:
    """``TableFinder(page, TableSettings()).tables`` (the "lines" strategies, no explicit lines),
    with :func:`_cells` and :func:`_tables` for pdfplumber's ``intersections_to_cells`` and
    ``cells_to_tables``."""
    from pdfplumber.table import Table, TableSettings, edges_to_intersections, merge_edges
    from pdfplumber.utils.geometry import filter_edges

    s = TableSettings()
    edges = filter_edges(page.edges, "v", min_length=s.edge_min_length_prefilter)
    edges += filter_edges(page.edges, "h", min_length=s.edge_min_length_prefilter)
    edges = merge_edges(
        edges,
        snap_x_tolerance=s.snap_x_tolerance,
        snap_y_tolerance=s.snap_y_tolerance,
        join_x_tolerance=s.join_x_tolerance,
        join_y_tolerance=s.join_y_tolerance,
    )
    edges = filter_edges(edges, min_length=s.edge_min_length)
    points = edges_to_intersections(edges, s.intersection_x_tolerance, s.intersection_y_tolerance)
    return [Table(page, group) for group in _tables(_cells(points))]


def _cells(intersections: dict[Point, dict[str, list[dict[str, Any]]]]) -> list[Box]:
    """``pdfplumber.table.intersections_to_cells``: two points are joined when their edge sets
    share a bbox; each point's edge bboxes are made into a bit mask once (bit = distinct bbox),
    so a test is one ``&``, and the points below/right of a point are looked up, not searched."""
    bits: dict[Box, int] = {}
    of_edge: dict[int, int] = {}  # id(edge dict) → its bbox's bit (an edge meets many points)

    def mask(edges: list[dict[str, Any]]) -> int:
        m = 0
        for e in edges:
            bit = of_edge.get(id(e))
            if bit is None:
                bit = of_edge[id(e)] = 1 << bits.setdefault(
                    (e["x0"], e["top"], e["x1"], e["bottom"]), len(bits)
                )
            m |= bit
        return m

    v = {pt: mask(d["v"]) for pt, d in intersections.items()}
    h = {pt: mask(d["h"]) for pt, d in intersections.items()}
    points = sorted(intersections)
    same_x: dict[float, list[Point]] = {}
    same_y: dict[float, list[Point]] = {}
    for pt in points:
        same_x.setdefault(pt[0], []).append(pt)
        same_y.setdefault(pt[1], []).append(pt)
    cells: list[Box] = []
    for pt in points:
        column, row = same_x[pt[0]], same_y[pt[1]]
        cell = _smallest_cell(pt, column[column.index(pt) + 1 :], row[row.index(pt) + 1 :], v, h)
        if cell is not None:
            cells.append(cell)
    return cells


def _smallest_cell(
    pt: Point, below: list[Point], right: list[Point], v: dict[Point, int], h: dict[Point, int]
) -> Box | None:
    # a point below shares x (and not y) with ``pt``: pdfplumber's edge_connects is the vertical
    # test alone; a point to the right, the horizontal one; the corner likewise with each
    pv, ph = v[pt], h[pt]
    for below_pt in below:
        if not pv & v[below_pt]:
            continue
        for right_pt in right:
            if not ph & h[right_pt]:
                continue
            corner = (right_pt[0], below_pt[1])
            if corner in v and v[corner] & v[right_pt] and h[corner] & h[below_pt]:
                return (pt[0], pt[1], corner[0], corner[1])
    return None


def _tables(cells: list[Box]) -> list[list[Box]]:
    """``pdfplumber.table.cells_to_tables``: passes over the cells left, each taking those that
    share a corner with the group so far, until a pass takes none; corners made once per cell."""
    corners = {c: ((c[0], c[1]), (c[0], c[3]), (c[2], c[1]), (c[2], c[3])) for c in cells}
    remaining = list(cells)
    group_corners: set[Point] = set()
    group: list[Box] = []
    tables: list[list[Box]] = []
    while remaining:
        before = len(group)
        left: list[Box] = []
        for cell in remaining:
            a, b, c, d = corners[cell]
            if (
                not group
                or a in group_corners
                or b in group_corners
                or c in group_corners
                or d in group_corners
            ):
                group_corners.update((a, b, c, d))
                group.append(cell)
            else:
                left.append(cell)
        remaining = left
        if len(group) == before:
            tables.append(group)
            group_corners = set()
            group = []
    if group:
        tables.append(group)
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in tables if len(t) > 1]


def _extract(table: Any, mids: _Midpoints) -> list[list[str | None]]:
    """``pdfplumber.table.Table.extract()``: a row's chars found once, then split by cell."""
    chars, points = mids.chars, mids.mids
    out: list[list[str | None]] = []
    for row in table.rows:
        # by mid x: a cell's chars are a slice, put back in page order (ties in x do not matter)
        by_x = sorted(mids.row(row.bbox), key=lambda k: points[k][0])
        xs = [points[k][0] for k in by_x]
        cells: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                cells.append(None)
                continue
            cx0, ctop, cx1, cbottom = cell
            lo, hi = bisect.bisect_left(xs, cx0), bisect.bisect_left(xs, cx1)  # cx0 <= mid x < cx1
            found = sorted(k for k in by_x[lo:hi] if ctop <= points[k][1] < cbottom)
            cells.append(pdf_text.cell_text([chars[k] for k in found]) if found else "")
        out.append(cells)
    return out


def plumber_page_text(page: Any, carry: pdf_columns.Carry | None = None) -> str:
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
    parts.append(_band_text(text_page, x0, x1, cursor, bottom, None if tables else carry))
    if carry is not None and tables:  # ruled tables: the page is read as pdfplumber lays it out
        carry.columns = None
    return "\n".join(p for p in parts if p.strip())


def _band_text(
    page: Any, x0: float, x1: float, top: float, bottom: float, carry: pdf_columns.Carry | None = None
) -> str:
    if bottom - top < 0.5:
        return ""
    text: str = page.crop((x0, top, x1, bottom)).extract_text() or ""
    if carry is None:
        return text
    chars = [(c["text"], c["x0"], c["x1"], c["top"], c["bottom"]) for c in page.chars]
    return pdf_columns.laid_out_band(chars, (x0, top, x1, bottom), carry, text)


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
