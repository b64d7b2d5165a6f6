"""The positional check: every accepted value stands, in the source text, where it is said to.

Pure: from the source text (exactly what the readers saw, see ``pipeline.source_text``), the
record's ``evidence`` (table → row → column → ``[start, end]``), ``evidence_method`` and the
anchors (each table's region and its row labels' spans) alone, for every read cell:

* the span holds that number as printed (a blank read as 0 holds only whitespace; a plain
  cell is a whole printed token, never a piece of a longer one);
* the span lies inside its row's segment: after the row's label and before the next row's
  label (table 四 prints no row labels: inside the table's region; a row of a torn table
  paired by order: the number-only pipe row it was paired with, see ``Anchors.segments``);
* the cells of a row stand in column order (table 四: its 15 cells in group order);
* no span is used twice;
* the cells cut from one run-together token tile it exactly.

A value failing any of these is an ``evidence`` error, naming table, row and column. A cell
whose method is ``human`` was set by a reviewer (``meta["reviews"]`` says who and why) and
carries no span: it is not checked here.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from extractor.models import CellValue, Finding, TableValues, finding
from extractor.read.normalise import SPAN, has_cjk
from extractor.spec import ACTIVE_ROWS, APPLICANT_COLUMNS, REVIEW_COLUMNS, REVIEW_GROUPS
from extractor.tables.columns import printed_order
from extractor.tables.values import MARKERS, to_value

Spans = Mapping[str, Mapping[str, Sequence[int]]]  # row → column → [start, end]
_UNIT: Final = re.compile(r"万元|元|万|件|个|项|次|条|宗")
_SKIP: Final = frozenset({"amount_text"})
_PLAIN: Final = frozenset({"", "cut", "llm", "paired"})
_NONE: Final[Mapping[str, Sequence[int]]] = {}
_DIGIT: Final = re.compile(r"\d")
_START: Final = operator.itemgetter(0)
_END: Final = operator.itemgetter(1)


@dataclass
class Anchors:
    """Where one table stands in the source text: its region and its row labels' spans."""

    region: Sequence[int] = ()
    labels: Mapping[str, Sequence[int]] = field(default_factory=dict)
    #: 三/四: the columns in the order the header prints them, when not the template's
    columns: Sequence[str] = ()
    #: rows of a torn table 三 paired by order: row → [start, end] of the number-only pipe row
    #: (a line holding no text) that carries its cells; such lines stand in template order
    segments: Mapping[str, Sequence[int]] = field(default_factory=dict)


def anchors_from(saved: object) -> dict[str, Anchors]:
    """The anchors as kept in a record's ``meta["anchors"]`` (anything else: none)."""
    if not isinstance(saved, Mapping):
        return {}
    return {
        str(k): Anchors(a.get("region", ()), a.get("labels", {}), a.get("columns", ()), a.get("segments", {}))
        for k, a in saved.items()
        if isinstance(a, Mapping)
    }


def _f(table: str, row: str | None, col: str | None, message: str, actual: object = None) -> Finding:
    where = ".".join(p for p in (table, row, col) if p)
    return finding(
        "evidence", "error", f"{where}: {message}", table=table, row=row, column=col, actual=actual
    )


def check_evidence(
    text: str,
    template: str | None,
    tables: Mapping[str, TableValues],
    evidence: Mapping[str, Spans],
    methods: Mapping[str, Mapping[str, Mapping[str, str]]],
    anchors: Mapping[str, Anchors],
) -> list[Finding]:
    out: list[Finding] = []
    used: list[tuple[int, int, str, str, str]] = []
    for table, values in tables.items():
        spans = evidence.get(table, {})
        how: Mapping[str, Mapping[str, object]] = methods.get(table, {})
        anchor = anchors.get(table, Anchors())
        bounds = _row_bounds(table, values, anchor, how, len(text))
        if anchor.segments:
            out += _paired_segments(text, table, values, anchor, bounds)
        order = _ordered_cells(table, template, tuple(values), tuple(anchor.columns))
        for printed_row in order:  # one pass per printed row: span, segment, value, column order
            prev: tuple[int, str] = (-1, "")
            for row, cols in printed_row:
                vals = values.get(row)
                if vals is None:
                    continue
                rsp, m, bound = spans.get(row, _NONE), how.get(row), bounds.get(row)
                plain = None if bound is None else _plain_row(text, vals, rsp, m, cols, bound, prev[0])
                if plain is not None:
                    used += [(s, e, table, row, c) for s, e, c in plain[1] if s < e]
                    prev = (plain[0], cols[-1])
                    continue
                row_used: list[tuple[int, int, str, str, str]] = []
                prev = _check_row(text, (table, row), vals, rsp, m, bound, cols, prev, out, row_used)
                used += row_used
        out += _stray_cells(table, values, order)
        if anchor.columns:
            out += _header_problems(text, table, anchor, spans)
        if how:
            out += _cut_problems(text, table, spans, how, bounds)
    out += _reuse_problems(used)
    return out


def _plain_row(
    text: str,
    vals: Mapping[str, CellValue],
    rsp: Mapping[str, Sequence[int]],
    m: Mapping[str, object] | None,
    cols: Sequence[str],
    bound: tuple[int, int, str],
    prev_end: int,
) -> tuple[int, list[tuple[int, int, str]]] | None:
    """The common case, checked in one tight loop: a row of whole numbers (and blanks read as
    0), each printed exactly at its span, in column order, inside the row's segment, a plain
    cell not glued to other digits. Returns the row's end and its cells' (start, end, column),
    or None to check cell by cell (which says what is wrong)."""
    lo, hi = bound[0], bound[1]
    prev = max(lo, prev_end, 1)
    tied: list[tuple[int, int, str]] = []
    isdigit = str.isdigit
    for c in cols:
        try:
            v = vals[c]
            s, e = rsp[c]
        except (KeyError, TypeError, ValueError):  # no value or no span, or a span not [start, end]
            return None
        if type(v) is not int or s < prev or e > hi:
            return None
        how = m.get(c) if m else None
        if how is None or how == "llm" or how == "block" or how == "paired":
            if text[s:e] != str(v) or isdigit(text[s - 1]) or (e < hi and isdigit(text[e])):
                return None
        elif how == "cut":
            if text[s:e] != str(v):
                return None  # (that the cuts make up their token is checked per token)
        elif how != "blank" or v != 0 or text[s:e].strip():
            return None
        tied.append((s, e, c))
        prev = e
    return prev, tied


def _check_row(
    text: str,
    where: tuple[str, str],
    vals: Mapping[str, CellValue],
    rsp: Mapping[str, Sequence[int]],
    m: Mapping[str, object] | None,
    bound: tuple[int, int, str] | None,
    cols: Sequence[str],
    prev: tuple[int, str],
    out: list[Finding],
    used: list[tuple[int, int, str, str, str]],
) -> tuple[int, str]:
    """Cell by cell: findings into ``out``, tied spans into ``used``; returns the last end."""
    table, row = where
    for col in cols:
        v = vals.get(col)
        if v is None:
            continue
        method = str(m.get(col, "")) if m else ""
        if method == "human":
            continue  # a person's reading, recorded in meta["reviews"]: it has no printed span
        span = rsp.get(col)
        if span is None or len(span) != 2:
            out.append(_f(table, row, col, f"{v!r} has no evidence of where it is printed"))
            continue
        s, e = int(span[0]), int(span[1])
        problem = _problem(text, s, e, v, method, bound, row, col)
        if not problem and s < prev[0]:
            problem = f"printed before {prev[1]}: the cells are not in column order"
        if problem:
            out.append(_f(table, row, col, problem, actual=[s, e]))
            continue
        prev = (e, col)
        if s < e:  # (a blank's empty slot ties nothing printed)
            used.append((s, e, table, row, col))
    return prev


def _problem(
    text: str,
    s: int,
    e: int,
    v: CellValue,
    method: str,
    bound: tuple[int, int, str] | None,
    row: str,
    col: str,
) -> str:
    problem = _segment_problem(s, e, bound)
    if problem or bound is None:
        return problem
    printed = text[s:e]
    if method in _PLAIN and type(v) is int and printed.isdigit() and printed.isascii():  # the common case
        if int(printed) != v:
            return f"{v!r} but the source prints {printed!r} at [{s}, {e}]"
        if method == "cut":
            return ""  # _cut_problems checks the cut's token
        if (s > 0 and text[s - 1].isdigit()) or (e < bound[1] and text[e].isdigit()):
            return f"[{s}, {e}] holds {printed!r}, only a piece of a longer printed number"
        return ""
    return _cell_problem(text, s, e, v, method, row == "procurement" and col == "amount", bound[1])


PrintedRow = tuple[tuple[str, tuple[str, ...]], ...]  # (row key, its columns in printed order)…


@functools.lru_cache(maxsize=256)
def _ordered_cells(
    table: str, template: str | None, rows: tuple[str, ...], columns: tuple[str, ...]
) -> tuple[PrintedRow, ...]:
    """Each printed row's cells in printed column order (table 四: its three groups in one row)."""
    if table == "review_litigation":
        return (tuple((g, columns or REVIEW_COLUMNS) for g in REVIEW_GROUPS),)
    if table == "applications":
        return tuple(((r, columns or APPLICANT_COLUMNS),) for r in rows)
    spec = {r.key: r.columns for r in ACTIVE_ROWS.get(template or "2021", ())}
    return tuple(((r, spec[r]),) for r in rows if r in spec)


@functools.lru_cache(maxsize=256)
def _allowed(order: tuple[PrintedRow, ...]) -> dict[str, frozenset[str]]:
    return {row: frozenset(cols) | _SKIP for printed in order for row, cols in printed}


def _stray_cells(table: str, values: TableValues, order: tuple[PrintedRow, ...]) -> list[Finding]:
    """Values outside the template's cells (nothing can tie them to a printed place)."""
    allowed = _allowed(order)
    stray = [
        f"{row}.{c}"
        for row, cols in values.items()
        if (row not in allowed or cols.keys() - allowed[row])
        for c, v in cols.items()
        if v is not None and c not in allowed.get(row, _SKIP)
    ]
    if not stray:
        return []
    return [_f(table, None, None, f"{', '.join(stray[:10])}: value(s) standing in no cell of the template")]


def _cell_problem(text: str, s: int, e: int, v: CellValue, method: str, money: bool, limit: int) -> str:
    """What is wrong with ``v`` standing at [s, e) (``limit``: where the row's segment ends,
    i.e. where a printed number ends at the latest); "" when nothing is."""
    if not 0 <= s <= e <= len(text):
        return f"span [{s}, {e}] lies outside the source text"
    printed = text[s:e].replace(SPAN, "").strip()
    if method == "blank":
        if printed or v != 0:
            return f"read as a blank (0) but the span holds {printed!r}"
        return ""
    if not printed:
        return f"{v!r} is said to stand at [{s}, {e}] but the source prints nothing there"
    if method != "cut" and _inside_token(text, s, e, printed, limit):
        return f"[{s}, {e}] holds {printed!r}, only a piece of a longer printed number"
    if printed in MARKERS:
        return "" if printed == v else f"{v!r} but the source prints {printed!r} at [{s}, {e}]"
    got = to_value(printed, money_yuan=money)
    if got is None or isinstance(got, str) or isinstance(v, str) or got != v:
        return f"{v!r} but the source prints {printed!r} at [{s}, {e}]"
    return ""


def _inside_token(text: str, s: int, e: int, printed: str, limit: int) -> bool:
    """A digit glued before the span (unless the span starts with a sign) or after it (unless
    the span ends with a unit, which ends a printed number)."""
    before = s > 0 and text[s - 1].isdigit() and printed[0] not in "+-"
    after = e < limit and text[e].isdigit() and printed[-1].isdigit()
    return before or after


def _token_around(text: str, s: int, e: int, limit: int) -> tuple[int, int]:
    """The printed number token (sign, digits, decimals, unit) that contains [s, e), ending at
    ``limit`` at the latest."""
    ts, te = s, e
    while ts > 0 and text[ts - 1].isdigit():
        ts -= 1
    if ts > 0 and text[ts - 1] in "+-":
        ts -= 1
    while te < limit and text[te].isdigit():
        te += 1
    if te + 1 < limit and text[te] == "." and text[te + 1].isdigit():
        te += 1
        while te < limit and text[te].isdigit():
            te += 1
    m = _UNIT.match(text, te, limit)
    return ts, (m.end() if m else te)


def _row_bounds(
    table: str,
    values: TableValues,
    anchor: Anchors,
    how: Mapping[str, Mapping[str, object]],
    n: int,
) -> dict[str, tuple[int, int, str]]:
    """Row → (segment start, segment end, what bounds it) from the anchors."""
    lo, hi = (int(anchor.region[0]), int(anchor.region[1])) if len(anchor.region) == 2 else (0, n)
    if table == "review_litigation":
        return dict.fromkeys(values, (lo, hi, "the table's region"))
    labels = sorted((int(sp[0]), int(sp[1]), row) for row, sp in anchor.labels.items() if len(sp) == 2)
    starts = [st for st, _, _ in labels]
    out: dict[str, tuple[int, int, str]] = {}
    blocks = any("block" in cols.values() for cols in how.values())
    what = "its row (after its label, before the next row's)"
    for i, (_, end, row) in enumerate(labels):
        j = i + 1
        if blocks and "block" in how.get(row, {}).values():  # labels printed before a block of numbers
            while j < len(labels) and "block" in how.get(labels[j][2], {}).values():
                j += 1
        k = bisect.bisect_left(starts, end, j)
        nxt = starts[k] if k < len(starts) else hi
        out[row] = (max(end, lo), min(nxt, hi), what)
    return out


def _paired_segments(
    text: str,
    table: str,
    values: TableValues,
    anchor: Anchors,
    bounds: dict[str, tuple[int, int, str]],
) -> list[Finding]:
    """Rows of a torn table whose cells stand in a number-only pipe row of their own: each such
    line must be one line inside the region holding no text (no label), and the lines must
    stand in the rows' template order (the pairing is by order). A claim that holds becomes the
    row's segment; one that does not is an error and the row keeps its label's segment."""
    lo, hi = (int(anchor.region[0]), int(anchor.region[1])) if len(anchor.region) == 2 else (0, len(text))
    out: list[Finding] = []
    last = -1
    for row in values:
        sp = anchor.segments.get(row)
        if sp is None:
            continue
        s, e = (int(sp[0]), int(sp[1])) if len(sp) == 2 else (-1, -1)
        line = text[s:e] if lo <= s < e <= hi else ""
        if not line.lstrip().startswith("|") or "\n" in line or has_cjk(line) or line.count("|") < 2:
            out.append(
                _f(
                    table,
                    row,
                    None,
                    f"[{s}, {e}] is said to be the row's own number row but is not "
                    "one pipe row of cells alone (no label)",
                )
            )
        elif s <= last:
            out.append(_f(table, row, None, f"[{s}, {e}] is paired out of the template's row order"))
        elif row in bounds:
            bounds[row] = (s, e, "the number-only row it was paired with")
            last = e
    return out


def _segment_problem(s: int, e: int, bound: tuple[int, int, str] | None) -> str:
    if bound is None:
        return "its row's label was not found in the source, so nothing ties the value to the row"
    lo, hi, what = bound
    if s < lo or e > hi:
        return f"[{s}, {e}] lies outside {what} [{lo}, {hi}]"
    return ""


def _header_problems(text: str, table: str, anchor: Anchors, spans: Spans) -> list[Finding]:
    """A column order other than the template's must be the one the table's header prints."""
    if len(anchor.region) != 2 or table not in ("applications", "review_litigation"):
        return [_f(table, None, None, f"a column order {list(anchor.columns)} is claimed without a header")]
    lo, hi = int(anchor.region[0]), int(anchor.region[1])
    starts = [int(sp[0]) for sp in anchor.labels.values() if len(sp) == 2]
    if table == "review_litigation":
        starts = [int(sp[0]) for cols in spans.values() for sp in cols.values() if len(sp) == 2]
    header = text[lo : min([hi, *starts])]
    printed = printed_order(table, header)
    if printed != tuple(anchor.columns):
        return [_f(table, None, None, f"the header does not print the columns as {list(anchor.columns)}")]
    return []


def _cut_problems(
    text: str,
    table: str,
    spans: Spans,
    how: Mapping[str, Mapping[str, object]],
    bounds: Mapping[str, tuple[int, int, str]],
) -> list[Finding]:
    """Cut cells, joined where they touch, must make up whole printed tokens."""
    pieces = sorted(
        (int(sp[0]), int(sp[1]), row, col)
        for row, cols in how.items()
        if "cut" in cols.values()  # (most rows tie no cut: skipped at C speed)
        for col, m in cols.items()
        if m == "cut" and (sp := spans.get(row, {}).get(col)) is not None and len(sp) == 2
    )
    out = []
    i = 0
    while i < len(pieces):
        j = i + 1
        seg = bounds.get(pieces[i][2])
        while j < len(pieces) and pieces[j][0] == pieces[j - 1][1] and bounds.get(pieces[j][2]) == seg:
            j += 1  # one token may hold cells of several rows only where rows share a segment (四)
        s, e, row, col = pieces[i][0], pieces[j - 1][1], pieces[i][2], pieces[i][3]
        lo, hi = bounds[row][:2] if row in bounds else (0, len(text))
        ts, te = _token_around(text, max(s, lo), min(e, hi), hi) if 0 <= s < e <= len(text) else (-1, -1)
        if (max(ts, lo), te) != (s, e):
            got = [text[a:b] for a, b, _, _ in pieces[i:j]]
            shown = text[max(ts, lo) : te] if ts >= 0 else ""
            out.append(_f(table, row, col, f"the cut cells {got} do not make up the printed {shown!r}"))
        i = j
    return out


def _reuse_problems(used: list[tuple[int, int, str, str, str]]) -> list[Finding]:
    used.sort()
    starts, ends = list(map(_START, used)), list(map(_END, used))
    if all(map(operator.lt, starts, ends)) and not any(map(operator.lt, starts[1:], ends)):
        return []  # the usual case, decided at C speed: no empty span, none overlaps the one before
    clash = [(a, b) for a, b in itertools.pairwise(used) if b[0] < a[1] or a[:2] == b[:2]]
    out = []
    for (_, _, *first), (s2, e2, table, row, col) in clash:
        msg = f"[{s2}, {e2}] is also the evidence of {'.'.join(first)}: one printed number, two cells"
        out.append(_f(table, row, col, msg))
    return out
