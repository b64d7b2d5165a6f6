"""HTML → report text with tables as grids: rowspan/colspan expanded, each row emitted as
``| a | b |`` so blank cells stay positioned; a slot a merged cell covers holds
:data:`~extractor.read.normalise.SPAN`. A small, forgiving scanner (never raises on bad HTML);
one regex pass over the tags, the cells handled first (most tags of a report are cells).
"""

from __future__ import annotations

import functools
import re
from html import unescape
from typing import Final

from extractor.errors import InputTooLargeError
from extractor.read.grid import Grid, cell_text, render_grid

#: Upper bound on the cells of one HTML table once row/col spans are expanded.
MAX_GRID_CELLS: Final = 250_000

_BLOCK: Final = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section",
    "article", "header", "footer", "blockquote", "pre", "hr", "caption", "title",
}  # fmt: skip
_SKIP: Final = {"script", "style", "head", "noscript", "template"}


class _Cell:
    __slots__ = ("colspan", "parts", "rowspan")

    def __init__(self, rowspan: int, colspan: int) -> None:
        self.parts: list[str] = []
        self.rowspan = rowspan
        self.colspan = colspan


class _Table:
    def __init__(self) -> None:
        self.rows: list[list[_Cell]] = []
        #: some cell spans more than one row or column (else the grid is the rows as printed)
        self.spanned = False


#: A tag, comment, doctype or processing instruction. The attribute runs are possessive: their
#: tokenisation is unique, so this matches exactly what the backtracking form did, with less work.
_TAG_ONLY: Final = re.compile(
    r"<!--.*?(?:-->|$)|<![^>]*+>?|<\?[^>]*+>?|<(/?)([A-Za-z][\w:-]*+)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>",
    re.S,
)
#: :data:`_TAG_ONLY`, with a plain cell ``<td>text</td>`` (no attributes, no tag inside) first as
#: one match: the three steps it stands for (open, text, close) in one turn of the loop. Where it
#: matches, the tag pattern would match ``<td>`` there and then ``</td>`` right after the text.
_TAG_OR_CELL: Final = re.compile(r"<td>([^<]*+)</td>|" + _TAG_ONLY.pattern, re.S)
_CELL_OR_TABLE: Final = frozenset({"table", "tr", "td", "th"})
_SPAN_ATTR: Final = re.compile(r"\b(rowspan|colspan)\s*=\s*[\"']?\s*(\d+)", re.I)
#: Tag names as printed → lower case, for the names met in nearly every report (the scanner's
#: hot loop; any other name is lowered on the spot).
_LOWER: Final = {
    form: name
    for name in (*_BLOCK, *_SKIP, *_CELL_OR_TABLE, "html", "body", "span", "font", "b", "strong", "tbody")
    for form in (name, name.upper())
}
_CELLS: Final = frozenset({"td", "th"})


@functools.lru_cache(maxsize=1024)
def _unescape(text: str) -> str:
    """:func:`html.unescape`, kept for the short texts that repeat (``&nbsp;`` cells)."""
    return unescape(text)


class _GridParser:
    """A small, forgiving HTML reader: text in order, tables as grids. Never raises on bad HTML."""

    def __init__(self, path: str = "<html>") -> None:
        self.path = path
        self.out: list[str] = []
        self.tables: list[_Table] = []
        self.cell: _Cell | None = None

    def _emit(self, s: str) -> None:
        if self.cell is not None:
            self.cell.parts.append(s)
        else:
            self.out.append(s)

    def feed(self, html: str) -> None:
        pos = 0
        n = len(html)
        out, tables, lower = self.out, self.tables, _LOWER.get
        for m in _TAG_OR_CELL.finditer(html):
            start = m.start()
            if start < pos:
                continue  # inside a skipped <script>/<style> body
            if start > pos:
                text = html[pos:start]
                if "&" in text:
                    text = _unescape(text) if len(text) < 64 else unescape(text)
                cell = self.cell
                (out if cell is None else cell.parts).append(text)
            pos = m.end()
            plain, closing, tag, attrs = m.groups()
            if plain is not None:  # <td>text</td>
                if tables:
                    self._cell(tables[-1], None)
                if plain:
                    if "&" in plain:
                        plain = _unescape(plain) if len(plain) < 64 else unescape(plain)
                    cell = self.cell
                    (out if cell is None else cell.parts).append(plain)
                self.cell = None
                continue
            if tag is None:
                continue  # comment, doctype, processing instruction
            tag = lower(tag) or tag.lower()
            if tag in _CELLS:  # (the cells first: most tags of a report are cells)
                if closing:
                    self.cell = None
                elif tables:
                    self._cell(tables[-1], attrs)
            elif closing:
                self.end(tag)
            elif tag in _SKIP:
                close = re.compile(rf"</\s*{tag}\s*>", re.I).search(html, pos)
                pos = close.end() if close else n
            elif tag in _CELL_OR_TABLE:
                self.start(tag, attrs or "")
            elif tag in _BLOCK:
                self._emit("\n")
        if pos < n:
            text = html[pos:]
            self._emit(unescape(text) if "&" in text else text)

    def _cell(self, table: _Table, attrs: str | None) -> None:
        """A ``<td>``/``<th>`` inside a table: a new cell of the last row (an unclosed cell ends here)."""
        if attrs and "span" in attrs.lower():
            spans = {k.lower(): v for k, v in _SPAN_ATTR.findall(attrs)}
            cell = _Cell(_span(spans.get("rowspan")), _span(spans.get("colspan")))
            if cell.rowspan != 1 or cell.colspan != 1:
                table.spanned = True
        else:
            cell = _Cell(1, 1)
        if not table.rows:
            table.rows.append([])
        table.rows[-1].append(cell)
        self.cell = cell

    def start(self, tag: str, attrs: str) -> None:
        if tag == "table":
            if self.tables and self.cell is not None:
                return  # nested table: its text flows into the enclosing cell
            self.tables.append(_Table())
        elif tag == "tr" and self.tables and self.cell is None:
            self.tables[-1].rows.append([])
        elif tag in _CELLS and self.tables:
            self._cell(self.tables[-1], attrs)
        elif tag in _BLOCK:
            self._emit("\n")

    def end(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.cell = None
        elif tag == "tr":
            self.cell = None
        elif tag == "table" and self.tables:
            self.cell = None
            self._flush_table()
        elif tag in _BLOCK:
            self._emit("\n")

    def close(self) -> None:
        self.cell = None
        while self.tables:
            self._flush_table()

    def _flush_table(self) -> None:
        table = self.tables.pop()
        check_grid_size(table, self.path)
        self.out.append("\n" + _render(table, self.path) + "\n")


def _span(v: str | None) -> int:
    if v is None:
        return 1
    try:
        return max(1, min(int(str(v).strip().strip('"')), 200))
    except (TypeError, ValueError):
        return 1


def check_grid_size(table: _Table, path: str) -> None:
    """Refuse a table whose spans expand past :data:`MAX_GRID_CELLS` (a rowspan/colspan bomb)."""
    if not table.spanned:  # every cell one slot: the count only grows, so its total decides
        if sum(map(len, table.rows)) + len(table.rows) > MAX_GRID_CELLS:
            raise InputTooLargeError(
                path, f"an HTML table expands to over {MAX_GRID_CELLS} cells (row/col spans); refused"
            )
        return
    cells = 0
    for row in table.rows:
        for cell in row:
            cells += cell.rowspan * cell.colspan
        cells += 1
        if cells > MAX_GRID_CELLS:
            raise InputTooLargeError(
                path, f"an HTML table expands to over {MAX_GRID_CELLS} cells (row/col spans); refused"
            )


def _cell_text(cell: _Cell) -> str:
    parts = cell.parts
    return cell_text(parts[0] if len(parts) == 1 else "".join(parts))


def _render(table: _Table, path: str = "<html>") -> str:
    """Expand row/col spans into a grid; render rows as ``| a | b |`` with blank span copies."""
    if not table.spanned:
        return _render_plain(table.rows, path)
    grid: dict[tuple[int, int], str | None] = {}
    width = 0
    for r, row in enumerate(table.rows):
        c = 0
        for cell in row:
            while (r, c) in grid:
                c += 1
            text = _cell_text(cell)
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    grid[(r + dr, c + dc)] = text if dr == 0 and dc == 0 else None
            c += cell.colspan
            width = max(width, c)
    nrows = max((r for r, _ in grid), default=-1) + 1
    if nrows * width > MAX_GRID_CELLS:
        raise InputTooLargeError(path, f"an HTML table spans {nrows} × {width} cells, over {MAX_GRID_CELLS}")
    rows: Grid = [[grid.get((r, c)) for c in range(width)] for r in range(nrows)]
    return render_grid(rows, clean=False)


def _render_plain(rows: list[list[_Cell]], path: str) -> str:
    """:func:`_render` of a table without spans: each row as printed, padded to the widest (the
    grid ends at its last row holding a cell)."""
    nrows = len(rows)
    while nrows and not rows[nrows - 1]:
        nrows -= 1
    width = max(map(len, rows), default=0)
    if nrows * width > MAX_GRID_CELLS:
        raise InputTooLargeError(path, f"an HTML table spans {nrows} × {width} cells, over {MAX_GRID_CELLS}")
    return render_grid([[_cell_text(cell) for cell in row] for row in rows[:nrows]], clean=False)


def html_to_text(html: str, path: str = "<html>") -> str:
    parser = _GridParser(path)
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)
