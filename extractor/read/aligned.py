"""Tables laid out with spaces (``pdftotext -layout``, pasted fixed-width text): blank cells
placed by column.

A row such as ``行政处罚         1              16`` prints two numbers for three cells; only their
positions under the header's column labels say which cell is blank. For each run of header
lines (column labels parted by two or more spaces, no numbers) the *leaf* labels — those with
no label printed under them — mark the columns; each column's band reaches halfway to its
neighbours. A data line under them is rewritten as a pipe row (``行政处罚 | 1 |  | 16``) when
every number it prints lies inside one band, no band holds two, and the layout's character
widths are certain: a CJK character is one column in some producers and two in others, so both
widths are tried and the rows are rewritten only when exactly the same placement follows from
every width that fits (or only one width fits). Anything else — a number across a band's edge,
two numbers in one band, a table with no row missing a cell — leaves the text as it is.

Only separators are added around the cells: every number stays as printed.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from typing import Final, NamedTuple

from extractor.read.normalise import fold_for_match
from extractor.spec import (
    ACTIVE_COLUMN_LABELS,
    ACTIVE_ROWS,
    APPLICANT_COLUMN_LABELS,
    APPLICATION_ROWS,
    REVIEW_COLUMN_LABELS,
    REVIEW_GROUP_LABELS,
)

_GAP: Final = re.compile(r"\S+(?: \S+)*")  # fields: runs parted by two or more spaces
_NUMBER: Final = re.compile(r"[+\-＋－]?[0-9０-９][0-9０-９,，.．]*(?:万元|元|万)?")
_HAS_DIGIT: Final = re.compile(r"[0-9０-９]")
_MAX_HEADER_LINES: Final = 4


class Field(NamedTuple):
    start: int  # character offsets in the line
    end: int
    text: str


class Column(NamedTuple):
    lo: int  # the column label's extent, in display columns
    hi: int


def _widths(line: str, wide: int) -> list[int]:
    """Display column at which each character of ``line`` starts (and one past the end)."""
    out = [0]
    for ch in line:
        out.append(out[-1] + (wide if unicodedata.east_asian_width(ch) in "WF" else 1))
    return out


def _fields(line: str) -> list[Field]:
    return [Field(m.start(), m.end(), m.group(0)) for m in _GAP.finditer(line)]


def _is_header(line: str, *, more: bool = False) -> bool:
    """Column labels parted by wide gaps — two or more, or (``more``: a further line of a
    header) one, a label wrapped in its cell — with no number and no row label (a row printing
    no number, ``三、本年度办理结果    （一）予以公开``, is no header)."""
    fields = _fields(line)
    if len(fields) < (1 if more else 2) or _HAS_DIGIT.search(line) is not None:
        return False
    here = _folded(line)
    if any(lab in here for lab in _row_labels()):
        return False
    return any(_header_word(_folded(f.text)) for f in fields)


@functools.cache
def _header_terms() -> tuple[str, ...]:
    """The column labels the templates print over their numbers (and over the row labels)."""
    labels = [
        *ACTIVE_COLUMN_LABELS.values(),
        *APPLICANT_COLUMN_LABELS.values(),
        *REVIEW_COLUMN_LABELS.values(),
    ]
    groups = [g for v in REVIEW_GROUP_LABELS.values() for g in v.split("/")]
    return tuple({fold_for_match(t) for t in [*labels, *groups, "信息内容", "申请人情况", "法人或其他组织"]})


def _header_word(word: str) -> bool:
    """A field of a header line: a column label, or two or more characters of one (a label
    wrapped in a narrow cell)."""
    return len(word) >= 2 and any(word in t or t in word for t in _header_terms())


def align_space_tables(text: str) -> str:
    """``text`` with the data rows of space-laid tables that leave cells blank as pipe rows."""
    if "   " not in text or "|" in text or "\t" in text:
        return text
    lines = text.split("\n")
    blocks = list(_blocks(lines))
    if not blocks:
        return text
    by_width = {wide: [_placement(lines, head, body, wide) for head, body in blocks] for wide in (2, 1)}
    # the layout's width places every row of every table; one that cannot is not the layout's
    fits = [got for got in by_width.values() if all(isinstance(p, Placement) for p in got)]
    if not fits or any(got != fits[0] for got in fits[1:]):
        return text
    placed: list[Placement] = fits[0]  # type: ignore[assignment]
    if not any(_blanks(lines, p) for p in placed):
        return text  # every row prints all its cells: the text reads as it is
    for p in placed:
        _rewrite(lines, p)
    return "\n".join(lines)


def _blocks(lines: list[str]) -> list[tuple[range, range]]:
    """(header lines, body lines) of each space-laid table: up to four header lines, then the
    lines up to the next header or the report's next section heading (empty lines included:
    layout text keeps the vertical gaps of a tall row)."""
    out = []
    i = 0
    while i < len(lines):
        if not _is_header(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and j - i < _MAX_HEADER_LINES and _is_header(lines[j], more=j > i):
            j += 1
        end = j
        while end < len(lines) and not _is_header(lines[end]) and not _SECTION.match(lines[end]):
            end += 1
        out.append((range(i, j), range(j, end)))
        i = end
    return out


Row = tuple[int, int, tuple[str | None, ...]]  # line index, end of the label, cells


class Placement(NamedTuple):
    rows: tuple[Row, ...]
    n: int
    body: range


def _blanks(lines: list[str], p: Placement) -> bool:
    """Whether a row of the block leaves a cell blank."""
    return any(None in cells for _, _, cells in p.rows) or bool(_blank_rows(lines, p))


def _blank_rows(lines: list[str], p: Placement) -> list[int]:
    """The lines that end a row printing no number at all: a run of label-only lines that holds
    a whole row label, ended by a line that starts another row, a heading or the table's end —
    not by a line of numbers whose own text holds no row label (those are the run's cells) —
    and not just below a line of numbers alone (maybe the run's cells, printed above it)."""
    placed = {k: lines[k][:end] for k, end, _ in p.rows}  # line → its label
    out: list[int] = []
    run: list[int] = []
    for k in [*p.body, None]:
        if k is not None and not lines[k].strip():
            continue
        starts = k is None or _HEADING.match(lines[k]) is not None or _starts_row(placed.get(k, lines[k]))
        if run and starts and _holds_label(_folded(" ".join(lines[r] for r in run))):
            above = run[0] - 1
            while above in p.body and not lines[above].strip():
                above -= 1
            if placed.get(above, "x").strip():
                out.append(run[-1])
        if k is None:
            break
        if k in placed or starts:
            run = [] if k in placed else [k]
        else:
            run.append(k)
    return out


def _starts_row(label: str) -> bool:
    """Whether a line's label text begins a row: it holds a whole row label, or a field starts
    with a row's ordinal (``2.``, ``一、``), or with a group's (``（一）``) and no other text
    follows it (``（四）无法提供    府信息`` continues the label of the line above)."""
    if _holds_label(_folded(label)):
        return True
    fields = _fields(label)
    if any(_SUB_ORDINAL.match(f.text) for f in fields):
        return True
    return bool(fields) and _GROUP_ORDINAL.match(fields[0].text) is not None and len(fields) == 1


_SUB_ORDINAL: Final = re.compile(r"(?:\d{1,2}[.．、]|[一二三四五六七八九十]、)")
_GROUP_ORDINAL: Final = re.compile(r"[（(][一二三四五六七八九十][）)]")


def _holds_label(folded: str) -> bool:
    return any(lab in folded for lab in _row_patterns())


@functools.cache
def _row_patterns() -> tuple[str, ...]:
    """Every row label of tables 二 and 三, and the variants label matching tolerates, folded."""
    specs = [*itertools.chain(*ACTIVE_ROWS.values()), *itertools.chain(*APPLICATION_ROWS.values())]
    return tuple({fold_for_match(pat) for r in specs for pat in r.patterns})


def _rewrite(lines: list[str], p: Placement) -> None:
    for k in _blank_rows(lines, p):
        lines[k] = lines[k].rstrip() + " |" + "  |" * p.n
    for k, label_end, cells in p.rows:
        label = lines[k][:label_end].rstrip()
        lines[k] = label + " | " + " | ".join("" if c is None else c for c in cells) + " |"


@functools.cache
def _row_labels() -> tuple[str, ...]:
    """Every row label of tables 二 and 三 as label matching folds it."""
    specs = [*itertools.chain(*ACTIVE_ROWS.values()), *itertools.chain(*APPLICATION_ROWS.values())]
    return tuple({fold_for_match(r.label) for r in specs})


def _folded(label: str) -> str:
    return fold_for_match("".join(label.split()))


#: The report's own section headings (四、政府信息公开行政复议…): a table ends before them.
_SECTION: Final = re.compile(
    r"\s*[一二三四五六七八九十]、\s*(?:总体情况|主动公开|收到和处理|政府信息公开行政复议|存在的主要问题|其他需要报告)"
)
#: Lines inside a table that start no row and continue none: 第二十条第（六）项, （续表）.
_HEADING: Final = re.compile(r"\s*(?:第[一二三四五六七八九十]+条|[（(]续表[）)])")


def _placement(lines: list[str], head: range, body: range, wide: int) -> Placement | None:
    """The block's rows placed under its columns; None when a number cannot be placed or the
    header gives no columns."""
    labels = [
        _widths(lines[k], wide)[f[0].start]
        for k in body
        if (f := _fields(lines[k])) and not _NUMBER.fullmatch(f[0].text.split()[0])
    ]
    columns = _columns([lines[k] for k in head], wide, min(labels, default=None))
    if columns is None:
        return None
    rows: list[Row] = []
    for k in body:
        row = _place(lines[k], columns, wide)
        if row is None:
            return None
        if row[1]:
            rows.append((k, row[0], row[1]))
    return Placement(tuple(rows), len(columns), body)


def _columns(head: Sequence[str], wide: int, label_at: int | None) -> list[Column] | None:
    """The leaf labels' extents, left to right; None when none or they overlap. ``label_at``:
    where the rows print their labels (display column), so a header label starting there heads
    the label column, not a column of numbers."""
    spans: list[tuple[int, int, int]] = []  # (header line, start, end) in display columns
    for h, line in enumerate(head):
        w = _widths(line, wide)
        spans.extend(
            (h, w[f.start], w[f.end]) for f in _fields(line) if label_at is None or w[f.start] > label_at + 1
        )
    leaves = sorted(
        (s, e) for h, s, e in spans if not any(h2 > h and s2 < e and s < e2 for h2, s2, e2 in spans)
    )
    if not leaves or any(a[1] > b[0] for a, b in itertools.pairwise(leaves)):
        return None
    return [Column(s, e) for s, e in leaves]


def _place(line: str, columns: list[Column], wide: int) -> tuple[int, tuple[str | None, ...]] | None:
    """(end of the label, the cells) of a data line — ``(0, ())`` for a line without numbers
    right of its label — or None when a number overlaps no column label or two, or shares
    one. A number stands in the column whose label it overlaps."""
    w = _widths(line, wide)
    cells: list[str | None] = [None] * len(columns)
    label_end = len(line)
    for f in _fields(line):
        if w[f.end] <= columns[0].lo:
            continue  # the row's label (its own numbers, 1.属于…, stay text)
        for m in re.finditer(r"\S+", f.text):
            s, e = f.start + m.start(), f.start + m.end()
            if _NUMBER.fullmatch(m.group(0)) is None:
                if w[s] < columns[0].lo:
                    continue  # the label's last word reaching under the first column label
                return None
            under = [i for i, c in enumerate(columns) if c.lo < w[e] and w[s] < c.hi]
            if len(under) != 1 or cells[under[0]] is not None:
                return None
            cells[under[0]] = m.group(0)
            label_end = min(label_end, s)
    if label_end == len(line):
        return 0, ()
    return label_end, tuple(cells)
