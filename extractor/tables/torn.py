"""Torn PDF-to-markdown tables: table 三 whose rows were cut into fragments, some pipe rows
holding a label and its numbers, others only numbers, their labels left as loose text lines.

A careful reader pairs them by order: the template fixes the order of the rows, and the
conversion keeps the order of the fragments. The pipe rows that carry a recognised label keep
their own numbers; the number-only pipe rows, in document order, go to the rows that have no
labelled pipe row, in template order. This is accepted only when the counts agree exactly, every
row has exactly seven cells and every identity (H1, H2 per column, H3 per row) holds on the
result; otherwise nothing is paired.

Every cell keeps its offsets in the region: a paired row's cells point at the number-only row's
numbers, and that row's line is the paired row's segment (``TableRead.segments``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from extractor.read.normalise import SPAN, fold_for_match, has_cjk
from extractor.spec import RowSpec
from extractor.tables.atoms import Atom, atoms_of
from extractor.tables.cells import Fit, fit

_RULE: Final = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*$")

_DIGIT: Final = re.compile(r"\d")

Rows = dict[str, tuple[str, ...]]
Cell = tuple[int, str]  # (offset in the region, text as printed)


@dataclass
class PipeRow:
    """One markdown pipe row: its label (the cells holding Chinese text) and where that label
    stands, its value cells, and the line its values stand on."""

    label: str
    values: list[Cell]
    label_span: tuple[int, int] = (-1, -1)
    line: tuple[int, int] = (-1, -1)


def _pipe_rows(region: str) -> list[PipeRow]:
    """Every markdown pipe row of the region, a number-only row printed right under its
    label-only row (a wrapped grid row) joined to it."""
    return list(_iter_pipe_rows(region))


def _iter_pipe_rows(region: str) -> Iterator[PipeRow]:
    """:func:`_pipe_rows` one row at a time (a row is given once the next line is known)."""
    last: PipeRow | None = None
    at = 0
    for line in region.split("\n"):
        start, at = at, at + len(line) + 1
        s = line.strip()
        if not s.startswith("|") or _RULE.match(s):
            if s and last is not None:  # loose text between pipe rows: no row joins across it
                yield last
                last = None
            continue
        row = _cells_of(line, start)
        if not row.label and last and last.label and not any(_filled(c) for _, c in last.values):
            last = PipeRow(last.label, row.values, last.label_span, row.line)  # the label's own numbers
            continue
        if last is not None:
            yield last
        last = row
    if last is not None:
        yield last


def _cells_of(line: str, start: int) -> PipeRow:
    label: list[Cell] = []
    values: list[Cell] = []
    off = start
    pipes = line.count("|")
    for i, c in enumerate(line.split("|")):
        if 0 < i < pipes or (i > 0 and c.strip()):
            if has_cjk(c):
                label.append((off, c))
                values.clear()  # cells before the label are the grid's empty label columns
            else:
                values.append((off, c))
        off += len(c) + 1
    text = "".join(c.strip().replace(SPAN, "") for _, c in label)
    span = (label[0][0], label[-1][0] + len(label[-1][1])) if label else (-1, -1)
    return PipeRow(text, values, span, (start, start + len(line)))


def _filled(cell: str) -> bool:
    return bool(cell.replace(SPAN, "").strip())


#: A pipe row holding a number and no Chinese text (no label): a candidate loose row.
_NUMBER_ROW: Final = re.compile(r"^[^\S\n]*\|[^\n\u3400-\u9fff]*\d[^\n\u3400-\u9fff]*$", re.M)


def has_loose_rows(text: str) -> bool:
    """True when a pipe row holds numbers and no label, and is not the continuation of the
    label-only row above it: a fragment of a torn table. (One regex pass finds the candidate
    rows; only the line above each is looked at, as :func:`_pipe_rows` would join them.)"""
    if "|" not in text:
        return False
    for m in _NUMBER_ROW.finditer(text):
        if not _label_only(_line_above(text, m.start())):
            return True
    return False


def _line_above(text: str, at: int) -> str:
    """The last non-empty line before offset ``at`` (a line start); "" if none."""
    end = at - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        if text[start:end].strip():
            return text[start:end]
        end = start - 1
    return ""


def _label_only(line: str) -> bool:
    """A pipe row with a label and no value after it: the next number-only row is its own."""
    s = line.strip()
    if not s.startswith("|") or _RULE.match(s):
        return False
    r = _pipe_rows(line)
    return len(r) == 1 and r[0].label not in ("", "\n") and not any(_filled(c) for _, c in r[0].values)


def _label_of(label: str, rows: tuple[RowSpec, ...]) -> str | None:
    """The row a pipe row's label names (its longest matching pattern), if any."""
    sq = fold_for_match(label)
    best: tuple[int, str] | None = None
    for spec in rows:
        for p in spec.patterns:
            fp = fold_for_match(p)
            if fp in sq and (best is None or len(fp) > best[0]):
                best = (len(fp), spec.key)
    return best[1] if best else None


def _fit(values: list[Cell], accept: Callable[[tuple[str, ...]], bool]) -> Fit | None:
    """The row's seven cells, each an atom with its region offsets (an empty cell is a blank)."""
    atoms: list[Atom] = []
    for at, c in values:
        t = c.strip()
        if t.isdigit() and t.isascii():  # the usual cell: one plain number
            k = at + c.index(t)
            atoms.append(Atom("num", t, k, k + len(t)))
        elif _filled(c):
            atoms += atoms_of(c, base=at)
        else:
            atoms.append(Atom("blank", "", at, at + len(c)))
    f = fit(atoms, 7, accept, blank_row_ok=True)
    return f if f.how == "positional" and len(f.candidates) == 1 else None


@dataclass
class Pairing:
    """A torn table read whole: every row's fit, the rows paired by order and the segments of
    their numbers, and the rows read from their own pipe rows (label, label span)."""

    fits: dict[str, Fit]
    paired: list[str]
    segments: dict[str, tuple[int, int]]
    own: dict[str, tuple[str, int, int]]


def pair_torn_rows(
    region: str,
    rows: tuple[RowSpec, ...],
    accept: Callable[[tuple[str, ...]], bool],
    identities: Callable[[Rows], bool],
) -> Pairing | None:
    """All rows of a torn table 三 paired, or ``None`` when the table cannot be paired."""
    if region.count("|") < 50:  # not a pipe table
        return None
    own: dict[str, tuple[Fit, PipeRow]] = {}
    loose: list[tuple[Fit, PipeRow]] = []
    for r in _iter_pipe_rows(region):
        key = _label_of(r.label, rows) if r.label else None
        if r.label and key is None:
            continue  # a header fragment
        f = _fit(r.values, accept)
        if f is None:
            if key is not None or any(_filled(c) for _, c in r.values):
                return None  # a row we cannot read cell for cell: no pairing at all
            continue
        if key is None:
            loose.append((f, r))
        elif key in own:
            return None
        else:
            own[key] = (f, r)
    unpaired = [r.key for r in rows if r.key not in own]
    if not loose or len(loose) != len(unpaired):
        return None
    got = {**own, **dict(zip(unpaired, loose, strict=True))}
    fits = {r.key: got[r.key][0] for r in rows}
    if not identities({k: f.candidates[0] for k, f in fits.items()}):
        return None
    return Pairing(
        fits,
        unpaired,
        {k: got[k][1].line for k in unpaired},
        {k: (r.label, *r.label_span) for k, (_, r) in own.items()},
    )
