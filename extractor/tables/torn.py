"""Torn PDF-to-markdown tables: table 三 whose rows were cut into fragments, some pipe rows
holding a label and its numbers, others only numbers, their labels left as loose text lines.

A careful reader pairs them by order: the template fixes the order of the rows, and the
conversion keeps the order of the fragments. The pipe rows that carry a recognised label keep
their own numbers; the number-only pipe rows, in document order, go to the rows that have no
labelled pipe row, in template order. This is accepted only when the counts agree exactly, every
row has exactly seven cells and every identity (H1, H2 per column, H3 per row) holds on the
result; otherwise nothing is paired.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from extractor.read.normalise import SPAN, fold_for_match, has_cjk
from extractor.spec import RowSpec
from extractor.tables.cells import atoms_of, fit

_RULE: Final = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*$")

_DIGIT: Final = re.compile(r"\d")

Rows = dict[str, tuple[str, ...]]


def _pipe_rows(region: str) -> list[tuple[str, list[str]]]:
    """(label text, value cells) of every markdown pipe row of the region, a number-only row
    printed right under its label-only row (a wrapped grid row) joined to it."""
    out: list[tuple[str, list[str]]] = []
    for line in region.split("\n"):
        s = line.strip()
        if not s.startswith("|") or _RULE.match(s):
            if s:
                out.append(("\n", []))  # loose text between pipe rows
            continue
        cells = [c.strip().replace(SPAN, "") for c in s.strip("|").split("|")]
        label = "".join(c for c in cells if has_cjk(c))
        values = [c for c in cells if not has_cjk(c)]
        if not label and out and out[-1][0] not in ("", "\n") and not any(out[-1][1]):
            out[-1] = (out[-1][0], values)  # the label's own numbers, on the next grid row
            continue
        out.append((label, values))
    return [r for r in out if r[0] != "\n"]


def has_loose_rows(text: str) -> bool:
    """True when a pipe row holds numbers and no label, and is not the continuation of the
    label-only row above it: a fragment of a torn table."""
    if "|" not in text:
        return False
    return any(not label and _DIGIT.search("".join(values)) for label, values in _pipe_rows(text))


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


def _cells(values: list[str], accept: Callable[[tuple[str, ...]], bool]) -> tuple[str, ...] | None:
    f = fit(atoms_of("\t" + "\t".join(values) + "\t"), 7, accept, blank_row_ok=True)
    return f.candidates[0] if f.how == "positional" and len(f.candidates) == 1 else None


def pair_torn_rows(
    region: str,
    rows: tuple[RowSpec, ...],
    accept: Callable[[tuple[str, ...]], bool],
    identities: Callable[[Rows], bool],
) -> tuple[Rows, list[str], dict[str, str]] | None:
    """All rows of a torn table 三, the keys that were paired by order and the labels the other
    rows print in their own pipe rows; ``None`` when the table cannot be paired."""
    if region.count("|") < 50:  # not a pipe table
        return None
    own: Rows = {}
    printed: dict[str, str] = {}
    loose: list[tuple[str, ...]] = []
    for label, values in _pipe_rows(region):
        key = _label_of(label, rows) if label else None
        if label and key is None:
            continue  # a header fragment
        cells = _cells(values, accept)
        if cells is None:
            if key is not None or any(v for v in values):
                return None  # a row we cannot read cell for cell: no pairing at all
            continue
        if key is None:
            loose.append(cells)
        elif key in own:
            return None
        else:
            own[key], printed[key] = cells, label
    unpaired = [r.key for r in rows if r.key not in own]
    if not loose or len(loose) != len(unpaired):
        return None
    out = {r.key: own[r.key] if r.key in own else loose[unpaired.index(r.key)] for r in rows}
    return (out, unpaired, printed) if identities(out) else None
