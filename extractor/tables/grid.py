"""Grid helpers of the rule path: where a table's printed grid (tab or pipe cells, its header
lines) tells which cells are a row's, beyond what the row's text segment alone says.

Everything here keeps offsets: atoms carry offsets in the table's region, and blanked text has
the length of the text it replaces, so every cell read through these helpers keeps its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from extractor.read.normalise import SPAN
from extractor.spec import RowSpec
from extractor.tables.atoms import Atom, atoms_of
from extractor.tables.values import MARKERS

_DATA_LINE: Final = re.compile(r"\d|(?:^|[\t|])[ \t]*(?:/|-|—|无)[ \t]*(?:[\t|]|$)")
_DATA_LINES: Final = re.compile(_DATA_LINE.pattern, re.M)


def review_rows(region: str) -> tuple[int, int]:
    """Where table 四's data lines stand in its region, [start, end): the header-only lines
    around them (``行政复议\t\t\t\t行政诉讼``) hold empty header cells, never blank data cells.
    ``end`` is one past the line break of the last line kept."""
    m = _DATA_LINES.search(region)
    if m is None:
        return 0, len(region)
    lo = region.rfind("\n", 0, m.start()) + 1
    end = len(region)  # the last data line: looked for from the end (a few lines at most)
    while True:
        start = region.rfind("\n", 0, end) + 1
        if _DATA_LINES.search(region, start, end):
            break
        end = start - 1
    while lo > 0:  # empty lines just above: blank cells, maybe
        above = region.rfind("\n", 0, lo - 1) + 1
        if region[above : lo - 1].strip():
            break
        lo = above
    while end < len(region):  # and just below
        below = region.find("\n", end + 1)
        below = len(region) if below < 0 else below
        if region[end + 1 : below].strip():
            break
        end = below
    return lo, end + 1


_MONEY_COLS: Final = frozenset({"amount", "amount_wan_yuan"})


def domain(spec: RowSpec) -> Callable[[tuple[str, ...]], bool]:
    """Cells that fit their columns: counts are whole and unsigned, only 本年增/减 has a sign,
    only money has decimals or a unit (used to choose where blanks at both ends are ambiguous)."""

    def ok(cells: tuple[str, ...]) -> bool:
        for col, text in zip(spec.columns, cells, strict=True):
            t = text.strip()
            if not t or t in MARKERS:
                continue
            if t[0] in "+-" and col not in spec.signed:
                return False
            if col not in _MONEY_COLS and ("." in t or "元" in t or "万" in t):
                return False
        return True

    return ok


def fields(line: str) -> list[tuple[int, str]] | None:
    """The cells of one grid line (pipe or tab separated) with their offsets in the line; the
    empty outside of a pipe row's outer ``|`` is no cell."""
    sep = "|" if "|" in line else "\t" if "\t" in line else None
    if sep is None:
        return None
    out: list[tuple[int, str]] = []
    at = 0
    for piece in line.split(sep):
        out.append((at, piece))
        at += len(piece) + 1
    if sep == "|":
        if out and not out[0][1].strip():
            out.pop(0)
        if out and not out[-1][1].strip():
            out.pop()
    return out


def header_aligned(region: str, label_start: int, label_end: int, n: int) -> list[Atom] | None:
    """A table 二 grid row read by column: the cells under the block header's printed column
    labels (``信息内容 | 本年增/减 | 处理决定数量 | <padding>``), so grid padding is never a cell.
    Atoms carry region offsets."""
    if label_start < 0:
        return None
    start = region.rfind("\n", 0, label_start) + 1
    end = region.find("\n", label_end)
    head_at = region.rfind("信息内容", 0, start)
    if head_at < 0:
        return None
    head_line = region[region.rfind("\n", 0, head_at) + 1 : region.find("\n", head_at)]
    row, head = fields(region[start : end if end >= 0 else len(region)]), fields(head_line)
    if row is None or head is None or len(row) != len(head) or "信息内容" not in head[0][1]:
        return None
    cells = [(start + at, c) for (at, c), (_, h) in zip(row[1:], head[1:], strict=True) if h.strip()]
    if len(cells) != n or any(SPAN in c for _, c in cells):
        return None
    atoms: list[Atom] = []
    for at, c in cells:
        if c.strip():
            atoms += atoms_of(c, base=at)
        else:
            atoms.append(Atom("blank", "", at, at + len(c)))
    return atoms
