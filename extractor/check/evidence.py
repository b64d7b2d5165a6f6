"""The positional check: every accepted value stands, in the source text, where it is said to.

Pure: from the source text (exactly what the readers saw, see ``pipeline.source_text``), the
record's ``evidence`` (table → row → column → ``[start, end]``), ``evidence_method`` and the
anchors (each table's region and its row labels' spans) alone, for every read cell:

* the span holds that number as printed (a blank read as 0 holds only whitespace; a plain
  cell is a whole printed token, never a piece of a longer one);
* the span lies inside its row's segment: after the row's label and before the next row's
  label (table 四 prints no row labels: inside the table's region);
* the cells of a row stand in column order (table 四: its 15 cells in group order);
* no span is used twice;
* the cells cut from one run-together token tile it exactly.

A value failing any of these is an ``evidence`` error, naming table, row and column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from extractor.models import CellValue, Finding, TableValues
from extractor.read.normalise import SPAN
from extractor.spec import ACTIVE_ROWS, APPLICANT_COLUMNS, REVIEW_COLUMNS, REVIEW_GROUPS
from extractor.tables.cells import MARKERS, to_value
from extractor.tables.columns import printed_order

Spans = Mapping[str, Mapping[str, Sequence[int]]]  # row → column → [start, end]
_UNIT: Final = re.compile(r"万元|元|万|件|个|项|次|条|宗")
_SKIP: Final = frozenset({"amount_text"})


@dataclass
class Anchors:
    """Where one table stands in the source text: its region and its row labels' spans."""

    region: Sequence[int] = ()
    labels: Mapping[str, Sequence[int]] = field(default_factory=dict)
    #: 三/四: the columns in the order the header prints them, when not the template's
    columns: Sequence[str] = ()


def anchors_from(saved: object) -> dict[str, Anchors]:
    """The anchors as kept in a record's ``meta["anchors"]`` (anything else: none)."""
    if not isinstance(saved, Mapping):
        return {}
    return {
        str(k): Anchors(a.get("region", ()), a.get("labels", {}), a.get("columns", ()))
        for k, a in saved.items()
        if isinstance(a, Mapping)
    }


def _f(table: str, row: str | None, col: str | None, message: str, actual: object = None) -> Finding:
    where = ".".join(p for p in (table, row, col) if p)
    return Finding(
        check="evidence",
        severity="error",
        table=table,
        row=row,
        column=col,
        actual=actual,
        message=f"{where}: {message}",
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
        for row, cols in values.items():
            for col, v in cols.items():
                if v is None or col in _SKIP:
                    continue
                span = spans.get(row, {}).get(col)
                if span is None or len(span) != 2:
                    out.append(_f(table, row, col, f"{v!r} has no evidence of where it is printed"))
                    continue
                s, e = int(span[0]), int(span[1])
                method = str(how.get(row, {}).get(col, ""))
                bound = bounds.get(row)
                problem = _segment_problem(s, e, bound)
                if not problem and bound is not None:
                    seg = text[: bound[1]]  # a number ends where the next row's label starts
                    problem = _cell_problem(seg, s, e, v, method, row == "procurement" and col == "amount")
                if problem:
                    out.append(_f(table, row, col, problem, actual=[s, e]))
                    continue
                used.append((s, e, table, row, col))
        out += _order_problems(table, template, values, spans, tuple(anchor.columns))
        if anchor.columns:
            out += _header_problems(text, table, anchor, spans)
        out += _cut_problems(text, table, spans, how, bounds)
    out += _reuse_problems(used)
    return out


def _cell_problem(text: str, s: int, e: int, v: CellValue, method: str, money: bool) -> str:
    if not 0 <= s <= e <= len(text):
        return f"span [{s}, {e}] lies outside the source text"
    raw = text[s:e]
    printed = raw.replace(SPAN, "").strip()
    if method == "blank":
        if printed or v != 0:
            return f"read as a blank (0) but the span holds {printed!r}"
        return ""
    if not printed:
        return f"{v!r} is said to stand at [{s}, {e}] but the source prints nothing there"
    if method != "cut" and _inside_token(text, s, e, printed):
        return f"[{s}, {e}] holds {printed!r}, only a piece of a longer printed number"
    if printed in MARKERS:
        return "" if printed == v else f"{v!r} but the source prints {printed!r} at [{s}, {e}]"
    got = to_value(printed, money_yuan=money)
    if got is None or isinstance(got, str) or isinstance(v, str) or got != v:
        return f"{v!r} but the source prints {printed!r} at [{s}, {e}]"
    return ""


def _inside_token(text: str, s: int, e: int, printed: str) -> bool:
    """A digit glued before the span (unless the span starts with a sign) or after it (unless
    the span ends with a unit, which ends a printed number)."""
    before = s > 0 and text[s - 1].isdigit() and printed[0] not in "+-"
    after = e < len(text) and text[e].isdigit() and printed[-1].isdigit()
    return before or after


def _token_around(text: str, s: int, e: int) -> tuple[int, int]:
    """The printed number token (sign, digits, decimals, unit) that contains [s, e)."""
    ts, te = s, e
    while ts > 0 and text[ts - 1].isdigit():
        ts -= 1
    if ts > 0 and text[ts - 1] in "+-":
        ts -= 1
    while te < len(text) and text[te].isdigit():
        te += 1
    if te + 1 < len(text) and text[te] == "." and text[te + 1].isdigit():
        te += 1
        while te < len(text) and text[te].isdigit():
            te += 1
    m = _UNIT.match(text, te)
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
    out: dict[str, tuple[int, int, str]] = {}
    for i, (_, end, row) in enumerate(labels):
        j = i + 1
        if "block" in how.get(row, {}).values():  # labels printed before a block of numbers
            while j < len(labels) and "block" in how.get(labels[j][2], {}).values():
                j += 1
        nxt = next((st for st, _, r in labels[j:] if st >= end), hi)
        out[row] = (max(end, lo), min(nxt, hi), "its row (after its label, before the next row's)")
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


def _order_problems(
    table: str, template: str | None, values: TableValues, spans: Spans, columns: tuple[str, ...]
) -> list[Finding]:
    if table == "review_litigation":
        rows = [[(g, c) for g in REVIEW_GROUPS for c in columns or REVIEW_COLUMNS]]
    elif table == "applications":
        rows = [[(r, c) for c in columns or APPLICANT_COLUMNS] for r in values]
    else:
        rows = [[(r.key, c) for c in r.columns] for r in ACTIVE_ROWS[template or "2021"] if r.key in values]
    out = []
    for cells in rows:
        prev: tuple[int, str] | None = None
        for row, col in cells:
            sp = spans.get(row, {}).get(col)
            if sp is None or len(sp) != 2 or values.get(row, {}).get(col) is None:
                continue
            if prev is not None and int(sp[0]) < prev[0]:
                out.append(
                    _f(table, row, col, f"printed before {prev[1]}: the cells are not in column order")
                )
            prev = (int(sp[1]), f"{row}.{col}")
    return out


def _cut_problems(
    text: str,
    table: str,
    spans: Spans,
    how: Mapping[str, Mapping[str, object]],
    bounds: Mapping[str, tuple[int, int, str]],
) -> list[Finding]:
    cuts: dict[tuple[int, int], list[tuple[int, int, str, str]]] = {}
    for row, cols in how.items():
        for col, m in cols.items():
            sp = spans.get(row, {}).get(col)
            if m != "cut" or sp is None or len(sp) != 2 or not 0 <= int(sp[0]) < int(sp[1]) <= len(text):
                continue
            s, e = int(sp[0]), int(sp[1])
            lo, hi = bounds[row][:2] if row in bounds else (0, len(text))
            ts, te = _token_around(text[:hi], max(s, lo), e)
            ts = max(ts, lo)
            cuts.setdefault((ts, te), []).append((s, e, row, col))
    out = []
    for (ts, te), pieces in cuts.items():
        pieces.sort()
        pos = ts
        for s, e, _, _ in pieces:
            if s != pos:
                break
            pos = e
        if pos != te:
            row, col = pieces[0][2], pieces[0][3]
            got = [text[s:e] for s, e, _, _ in pieces]
            msg = f"the cut cells {got} do not make up the printed {text[ts:te]!r}"
            out.append(_f(table, row, col, msg))
    return out


def _reuse_problems(used: list[tuple[int, int, str, str, str]]) -> list[Finding]:
    out = []
    used.sort()
    for (s1, e1, *first), (s2, e2, table, row, col) in itertools.pairwise(used):
        if s2 < e1 or (s1, e1) == (s2, e2):
            msg = f"[{s2}, {e2}] is also the evidence of {'.'.join(first)}: one printed number, two cells"
            out.append(_f(table, row, col, msg))
    return out
