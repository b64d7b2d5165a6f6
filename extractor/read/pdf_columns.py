"""Unruled PDF tables read by column: each number placed under the header it stands below.

Without ruling lines the text layout (:func:`extractor.read.pdf_text.band_text`) prints a row's
numbers one space apart, so a row with blank cells (``行政处罚 1 16`` for three cells) cannot
say which cells are blank. A person reads such a table by looking at which column each number
stands under; :func:`band_text` does the same from the character boxes:

* a *header block* is a run of lines made only of the templates' column headings (table 二's
  ``信息内容 本年新制作数量 …``, table 三's ``自然人 … 总计``, table 四's ``结果维持 … 总计``,
  headings wrapped over lines joined where their x-extents overlap). Its leaf headings are the columns;
  each column's x-band reaches half-way to its neighbours';
* the lines below it, up to the first line that is not a table row, form a *section*: a data
  line's numbers go into the band that wholly holds each (a margin kept from every edge) if they
  also stand under its heading (their x-extents overlap); its other words (the row label) stay
  text. A block of label lines without numbers (rows told apart by the gaps between line tops)
  that holds a whole template row label is a row of blank cells;
* a section is rewritten only where this is unambiguous and needed: every number in exactly one
  band, no band holding two numbers of a line, no word straddling the label/value border, and at
  least one row printing fewer numbers than columns. Then its data lines end in pipe cells
  (``行政处罚 |  | -3 |  |``) with blanks kept, so the grid reading of the rule path decides
  blank → 0; anything else leaves the text exactly as the text layout gives it.

A section still open at the end of a page is carried (:class:`Carry`) to the top of the next,
where a table split over pages goes on without repeating its header.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final, NamedTuple

from extractor.read import pdf_text
from extractor.read.pdf_text import Char
from extractor.spec import (
    ACTIVE_COLUMN_LABELS,
    ACTIVE_ROWS,
    APPLICANT_COLUMN_LABELS,
    APPLICATION_ROWS,
    REVIEW_COLUMN_LABELS,
)

MARGIN: Final = 1.0  # pt a number keeps from its band's edges
_ROW_GAP: Final = 1.5  # a gap between line tops over this many line heights starts a new row


class XWord(NamedTuple):
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


Line = list[XWord]


def _key(s: str) -> str:
    """CJK letters and ASCII letters/digits only, full-width folded: for comparing labels."""
    s = unicodedata.normalize("NFKC", s)
    return "".join(c for c in s if c.isalnum() or c == "/")


_LEAVES: Final[dict[str, str]] = {}
for _table, _labels in (
    ("active_disclosure", ACTIVE_COLUMN_LABELS.values()),
    ("applications", APPLICANT_COLUMN_LABELS.values()),
    ("review_litigation", REVIEW_COLUMN_LABELS.values()),
):
    for _label in _labels:
        if "原文" not in _label:
            _LEAVES[_key(_label)] = _table
            _LEAVES[_key(re.sub(r"\(.*\)", "", _label))] = _table
_LEAVES[_key("处理决定数量")] = "active_disclosure"  # 2019's heading of ``decisions``
#: headings over other headings (never a column of their own)
_GROUPS: Final = frozenset(
    _key(s)
    for s in (
        "信息内容",
        "申请人情况",
        "法人或其他组织",
        "行政复议",
        "行政诉讼",
        "未经复议直接起诉",
        "复议后起诉",
    )
)
_WIDTH: Final = {"applications": (7,), "review_litigation": (15,), "active_disclosure": (1, 2, 3)}
#: a row of blank cells must hold its whole label (a piece of a wrapped label is not a row)
_ROW_LABELS: Final[dict[str, frozenset[str]]] = {
    table: frozenset(_key(r.label) for rows in specs.values() for r in rows)
    for table, specs in (("active_disclosure", ACTIVE_ROWS), ("applications", APPLICATION_ROWS))
}
#: a group heading printed in the row of its first sub-row (``（四）无法提供 府信息``)
_HEADING_WORD: Final = re.compile(
    r"[（(][一二三四五六七八九十][）)][\u3400-\u9fff]*|[一二三四五六七八九十]、[\u3400-\u9fff]*"
)
_OTHER_HEADINGS: Final = frozenset({_key("(六)其他处理"), _key("(六)其他")})
_OTHER_SUB: Final = _key("逾期不补正")
_VALUE: Final = re.compile(r"[+\-−]?\d[\d,.]*(?:万元|元|万)?|[/\-—–无]|--|——")
_PAGE_MARK: Final = re.compile(r"[-—\s]*\d+[-—\s]*|\d+\s*/\s*\d+|第\s*\d+\s*页.*")
#: text any header block of the three tables holds (also wrapped): bands without it are not read twice
_HINT: Final = re.compile(r"信息内容|商业|公益组|结果维|结果纠|尚未审")
_RUNNING: Final = re.compile(r"年度报告|^[-—\s]*\d+[-—\s]*$|^\d+\s*/\s*\d+$|^第\s*\d+\s*页")
_T2_BLOCK: Final = re.compile(r"第二十条第[（(]")


def _is_value(text: str) -> bool:
    return _VALUE.fullmatch(unicodedata.normalize("NFKC", text)) is not None


@dataclass
class Columns:
    """A section's columns: the table, the band edges (``edges[0]``: the label/value border) and
    each column heading's x-extent."""

    table: str
    edges: list[float]  # len = columns + 1
    heads: list[tuple[float, float]]

    def band_of(self, w: XWord) -> int | None:
        """The column whose band holds the word with the margin kept and whose heading it stands
        under (their x-extents overlap), or None."""
        for i, (a, b) in enumerate(self.heads):
            if self.edges[i] + MARGIN <= w.x0 and w.x1 <= self.edges[i + 1] - MARGIN:
                return i if w.x0 <= b and a <= w.x1 else None
        return None


@dataclass
class Carry:
    """The section open at the end of the last page read (a table going on over the page)."""

    columns: Columns | None = None
    header: list[Line] | None = None  # a header block cut by the page's end, its lines so far


# ------------------------------------------------------------------------------- lines
def lines_of(chars: list[Char], bbox: tuple[float, float, float, float]) -> list[Line]:
    """:func:`pdf_text.band_text`'s lines as words with their boxes (same crop, same words)."""
    found = _words(pdf_text.crop(chars, bbox))
    index = pdf_text.clusters(w.top for w in found)
    return [list(line) for _, line in itertools.groupby(found, key=lambda w: index[w.top])]


def _words(chars: list[Char]) -> list[XWord]:
    """``pdf_text.words`` keeping each word's box."""
    out: list[XWord] = []
    if not chars:
        return out
    tol = pdf_text.TOLERANCE
    for line in pdf_text._lines(chars):
        word: list[Char] = []
        for c in line:
            if c[0].isspace() or c[0] == "":
                if word:
                    out.append(_merge(word))
                if c[0] == "":
                    out.append(_merge([c]))
                word = []
            elif word and (c[1] < (p := word[-1])[1] or c[1] > p[2] + tol or abs(c[3] - p[3]) > tol):
                out.append(_merge(word))
                word = [c]
            else:
                word.append(c)
        if word:
            out.append(_merge(word))
    return out


def _merge(word: list[Char]) -> XWord:
    text = "".join([c[0] for c in word]).translate(_EXPAND)
    return XWord(
        text, word[0][1], max([c[2] for c in word]), min([c[3] for c in word]), max([c[4] for c in word])
    )


_EXPAND: Final = str.maketrans(pdf_text.LIGATURES)


def _line_text(line: Line) -> str:
    """The line as ``band_text`` writes it: one space before a word once the line holds a letter."""
    parts: list[str] = []
    length = 0
    for w in line:
        if length:
            parts.append(" ")
            length += 1
        parts.append(w.text)
        length += len(w.text)
    return "".join(parts)


# ------------------------------------------------------------------------------- headers
#: every piece of every heading (a heading wrapped in its cell prints pieces of it)
_PIECES: Final = frozenset(
    h[i:j] for h in (*_LEAVES, *_GROUPS) for i in range(len(h)) for j in range(i + 1, len(h) + 1)
)


def _header_word(w: XWord) -> bool:
    return _key(w.text) in _PIECES


def _heading_line(line: Line) -> bool:
    """Only headings or pieces of them, one at least whole."""
    return all(_header_word(w) for w in line) and any(
        _key(w.text) in _LEAVES or _key(w.text) in _GROUPS for w in line
    )


def _is_header(lines: list[Line], k: int) -> bool:
    """A header line: headings only, one whole, or pieces of headings next to such a line."""
    if not lines[k] or not all(_header_word(w) for w in lines[k]):
        return False
    return any(0 <= j < len(lines) and _heading_line(lines[j]) for j in (k - 1, k, k + 1))


def _stacked(words: list[XWord]) -> list[XWord]:
    """Words of successive lines whose x-extents overlap, joined top to bottom: a heading or a
    label wrapped in its cell (left-aligned, centred or right-aligned)."""
    stacks: list[list[XWord]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        for stack in stacks:
            last = stack[-1]
            if last.top + pdf_text.TOLERANCE < w.top and w.x0 < last.x1 and last.x0 < w.x1:
                stack.append(w)
                break
        else:
            stacks.append([w])
    return [
        XWord(
            "".join(w.text for w in ws),
            min(w.x0 for w in ws),
            max(w.x1 for w in ws),
            ws[0].top,
            ws[-1].bottom,
        )
        for ws in stacks
    ]


def _columns(block: list[Line]) -> Columns | None:
    """The columns a header block names, or None when its leaf headings make no known table."""
    exact: list[XWord] = []
    pieces: list[XWord] = []
    for line in block:
        for w in line:
            k = _key(w.text)
            (exact if k in _LEAVES or k in _GROUPS else pieces).append(w)
    exact += _stacked(pieces)
    leaves = sorted((w for w in exact if _key(w.text) in _LEAVES), key=lambda w: w.x0)
    if any(_key(w.text) not in _LEAVES and _key(w.text) not in _GROUPS for w in exact) or not leaves:
        return None
    tables = {_LEAVES[_key(w.text)] for w in leaves}
    if len(tables) > 1 and tables != {"applications", "review_litigation"}:
        return None
    table = (
        "active_disclosure"
        if "active_disclosure" in tables
        else "applications"
        if len(leaves) == 7
        else "review_litigation"
    )
    if len(leaves) not in _WIDTH[table] or any(
        a.x1 + 2 * MARGIN >= b.x0 for a, b in itertools.pairwise(leaves)
    ):
        return None
    if table == "active_disclosure":
        head = [w for w in exact if _key(w.text) == _key("信息内容")]
        if len(head) != 1 or head[0].x1 >= leaves[0].x0:
            return None
    mids = [(a.x1 + b.x0) / 2 for a, b in itertools.pairwise(leaves)]
    reach = min((b.x0 - a.x1) / 2 for a, b in itertools.pairwise(leaves)) if len(leaves) > 1 else 0.0
    right = leaves[-1].x1 + max(reach, leaves[-1].x1 - leaves[-1].x0)
    return Columns(table, [leaves[0].x0 - 2 * MARGIN, *mids, right], [(w.x0, w.x1) for w in leaves])


# ------------------------------------------------------------------------------- sections
def band_text(chars: list[Char], bbox: tuple[float, float, float, float], carry: Carry | None = None) -> str:
    """:func:`pdf_text.band_text`, with the unruled tables it holds rewritten by column where
    that is unambiguous and needed (``carry``: the section open on the page before; without it
    the text layout's own text)."""
    if carry is None or (carry.columns is None and not _HINT.search("".join([c[0] for c in chars]))):
        return pdf_text.band_text(chars, bbox)
    lines = lines_of(chars, bbox)
    out = _rewrite(lines, carry)
    return "\n".join(out if out is not None else [_line_text(line) for line in lines])


def laid_out_band(chars: list[Char], bbox: tuple[float, float, float, float], carry: Carry, text: str) -> str:
    """The same for a band another layout wrote as ``text`` (pdfplumber's own, on a page pdfium
    cannot describe): rewritten only where its lines are the lines of ``chars``."""
    if carry.columns is None and not _HINT.search(text):
        return text
    lines = lines_of(chars, bbox)
    if "\n".join(_line_text(line) for line in lines) != text:  # not upright, or not the same lines
        carry.columns = None
        return text
    out = _rewrite(lines, carry)
    return text if out is None else "\n".join(out)


def _rewrite(lines: list[Line], carry: Carry) -> list[str] | None:
    out = [_line_text(line) for line in lines]
    changed = False
    cols, carry.columns = carry.columns, None
    head, carry.header = carry.header or [], None
    i = 0
    while (cols or head) and i < min(len(lines), 3) and _RUNNING.search(_line_text(lines[i])):
        i += 1  # the page's running title over a table going on from the page before
    while i < len(lines):
        if cols is None:
            j = i
            while j < len(lines) and _is_header(lines, j):
                j += 1
            cols = _columns(head + lines[i:j]) if j > i else None
            if cols is None and j == len(lines) > i:
                carry.header = lines[i:j]
            head, i = [], max(j, i + 1)
            if cols is None:
                continue
        end, reason = _section_end(lines, i, cols)
        cells = _section(lines, i, end, cols, reason)
        if cells:
            for k, row in cells.items():
                label = " ".join(w.text for w in lines[k] if w.x1 <= cols.edges[0])
                out[k] = (f"{label} " if label else "") + "| " + " | ".join(row) + " |"
            changed = True
        if end == len(lines) and reason == "open":
            carry.columns = cols
        cols, i = None, end
    return out if changed else None


def _split(line: Line, cols: Columns) -> tuple[Line, Line, bool]:
    """(label words, value-region words, a word straddles the label/value border)."""
    border = cols.edges[0]
    label = [w for w in line if w.x1 <= border]
    values = [w for w in line if w.x0 >= border]
    return label, values, len(label) + len(values) < len(line)


def _section_end(lines: list[Line], start: int, cols: Columns) -> tuple[int, str]:
    """Where the section starting at ``start`` ends and why: ``open`` (the band's end), ``block``
    (table 二's next 第二十条 block), ``header``, ``text`` (a line reaching into the values) or
    ``ambiguous`` (a number in no band or two in one band: the section is left as printed)."""
    for k in range(start, len(lines)):
        line = lines[k]
        text = _line_text(line)
        if _PAGE_MARK.fullmatch(text):
            continue
        if _T2_BLOCK.match(text):
            return k, "block"
        if _is_header(lines, k):
            return k, "header"
        label, values, straddles = _split(line, cols)
        if straddles or any(not _is_value(w.text) for w in values):
            if straddles and any(_is_value(w.text) for w in line if w not in label and w not in values):
                return k, "ambiguous"
            return k, "text"
        bands = [cols.band_of(w) for w in values]
        if None in bands or len(set(bands)) < len(bands):
            return k, "ambiguous"
    return len(lines), "open"


def _section(lines: list[Line], start: int, end: int, cols: Columns, reason: str) -> dict[int, list[str]]:
    """The pipe cells each line of a section ends in (line index → cells), or {} to leave it."""
    if reason == "ambiguous":
        return {}
    n = len(cols.edges) - 1
    cells: dict[int, list[str]] = {}
    data: list[int] = []
    for k in range(start, end):
        if _PAGE_MARK.fullmatch(_line_text(lines[k])):
            continue
        _label, values, _ = _split(lines[k], cols)
        if values:
            row = [""] * n
            for w in values:
                row[cols.band_of(w) or 0] = w.text
            cells[k] = row
            data.append(k)
    blank = _blank_rows(lines, start, end, cols, data)
    needed = blank or any("" in row for row in cells.values())
    if not needed:
        return {}
    cells.update({k: [""] * n for k in blank})
    return cells


def _blank_rows(lines: list[Line], start: int, end: int, cols: Columns, data: list[int]) -> list[int]:
    """Last lines of the label blocks that are rows with every cell blank: a block of label lines
    (rows told apart by the gap between line tops) holding a template row label (a group heading
    in its line left aside). None where a block holds two data lines."""
    labels = _ROW_LABELS.get(cols.table)
    kept = [k for k in range(start, end) if not _PAGE_MARK.fullmatch(_line_text(lines[k]))]
    if not labels or not kept:
        return []
    height = min(w.bottom - w.top for k in kept for w in lines[k])
    pitches = [lines[b][0].top - lines[a][0].top for a, b in itertools.pairwise(kept)]
    # a wrapped cell's leading: the pitch of lines clearly closer together than the rows
    leading = min(pitches, default=0.0) if pitches and min(pitches) < 0.8 * max(pitches) else 0.0
    gap = max(_ROW_GAP * height, leading + height / 2)
    blocks: list[list[int]] = [[kept[0]]]
    for k, pitch in zip(kept[1:], pitches, strict=True):
        if pitch > gap:
            blocks.append([])
        blocks[-1].append(k)
    has_data = [sum(k in data for k in block) for block in blocks]
    if max(has_data) > 1:
        return []
    out: list[int] = []
    for i, block in enumerate(blocks):
        if has_data[i]:
            continue
        words = [w for k in block for w in lines[k]]
        keys = (
            _key("".join(w.text for w in words)),
            _key("".join(w.text for w in words if not _HEADING_WORD.fullmatch(w.text))),
            *(_key(w.text) for w in _stacked(words)),
        )
        hit = {label for label in labels for key in keys if label in key}
        nxt = _key("".join(w.text for k in blocks[i + 1] for w in lines[k])) if i + 1 < len(blocks) else ""
        if hit <= _OTHER_HEADINGS and _OTHER_SUB in nxt:  # 2021's （六） heading over its sub-rows
            continue
        if hit:
            out.append(block[-1])
    return out
