"""Tie a model's answer to the source: only an answer whose every cell stands where the source
prints it can be accepted.

For each row the echoed label is found in the table's region (the rule path's label position
where it found one, else the echo itself, tolerant to a misprint, between its neighbours); the
row's segment runs to the next row's label. The answer's cells must then be *exactly* the
printed items of that segment, in order: each cell one printed token (or a blank read as 0),
or consecutive cells that concatenate back to one run-together token. No printed item may be
skipped and none may be left over, so a cell moved to another column, row or table cannot
align. Table 四 prints no row labels: its 15 cells must be the region's printed items.

Where the rule path read a cell, the model must read the same value; a difference is a
finding on that cell, never a silent replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from extractor.llm.schema import Answer, AnswerRow, CanonRow
from extractor.models import CellValue, Finding, finding
from extractor.read.normalise import edit_distance, fold_for_match, normalise_text
from extractor.tables.atoms import Atom, atoms_of
from extractor.tables.cells import CellSpan
from extractor.tables.rules import LabelHit, SqueezedText, TableRead
from extractor.tables.values import to_value

_MAX_SHOWN: Final = 12
Raw = int | float | str | None


def _f(t: str, row: str | None, col: str | None, message: str, actual: object = None) -> Finding:
    return finding("llm.align", "error", message, table=t, row=row, column=col, actual=actual)


def _printed(c: Raw) -> str:
    if c is None:
        return ""
    if isinstance(c, str):
        return normalise_text(c).strip()
    if isinstance(c, float) and c.is_integer():
        return str(int(c))
    return str(c)


def _same(v: CellValue, atom: Atom, money: bool) -> bool:
    if atom.kind == "marker":
        return v == atom.text
    got = to_value(atom.text, money_yuan=money)
    return got is not None and not isinstance(got, str) and not isinstance(v, str) and got == v


def tie_cells(
    cells: Sequence[Raw], values: Sequence[CellValue], atoms: Sequence[Atom], money: Sequence[bool]
) -> list[CellSpan] | None:
    """Spans of ``cells`` (as answered; ``values`` parsed) over ``atoms``, or None. An empty
    line is a blank cell only where it makes the row's cell count exactly n, as for the rules
    (:func:`extractor.tables.cells.fit`)."""
    n = len(cells)
    printed = [a for a in atoms if a.kind != "line"]
    got = _tie(cells, values, printed, money)
    if got is not None or len(printed) == len(atoms):
        return got
    lines = [a._replace(kind="blank") if a.kind == "line" else a for a in atoms]
    while len(lines) > n and lines[0].kind == "blank":
        lines.pop(0)
    while len(lines) > n and lines[-1].kind == "blank":
        lines.pop()
    return _tie(cells, values, lines, money) if len(lines) == n else None


def _tie(
    cells: Sequence[Raw], values: Sequence[CellValue], atoms: Sequence[Atom], money: Sequence[bool]
) -> list[CellSpan] | None:
    items = list(atoms)
    n = len(cells)
    while len(items) > n and items and items[0].kind == "blank":
        items.pop(0)
    while len(items) > n and items and items[-1].kind == "blank":
        items.pop()

    def go(i: int, j: int) -> list[CellSpan] | None:
        if j == n:
            return [] if i == len(items) else None
        if i == len(items):
            return None
        a, v = items[i], values[j]
        if a.kind == "blank":
            rest = go(i + 1, j + 1) if v == 0 else None
            return None if rest is None else [(a.start, a.end, "blank"), *rest]
        if _same(v, a, money[j]):
            rest = go(i + 1, j + 1)
            if rest is not None:
                return [(a.start, a.end, "llm"), *rest]
        if a.kind != "num":
            return None
        acc, pieces = "", []
        for k in range(j, n):  # consecutive cells cut from one run-together token
            p = _printed(cells[k])
            if not p or (len(p) > 1 and p[0] == "0") or not a.text.startswith(acc + p):
                return None
            pieces.append((a.start + len(acc), a.start + len(acc) + len(p), "cut"))
            acc += p
            if acc == a.text and k > j:
                rest = go(i + 1, k + 1)
                return None if rest is None else [*pieces, *rest]
        return None

    return go(0, 0)


def _find_echo(sq: SqueezedText, echo: str, lo: int, hi: int) -> tuple[int, int] | None:
    """Squeezed [start, end) of the echoed label in sq[lo:hi], exact or within a small edit
    distance (a printed misprint the model copied, or one the model made)."""
    e = fold_for_match(normalise_text(echo))
    if len(e) < 2:
        return None
    i = sq.sq.find(e, lo, hi)
    if i >= 0:
        return i, i + len(e)
    d = max(1, len(e) // 6)
    best: tuple[int, int, int] | None = None
    for start in range(lo, max(lo, hi - len(e) + d) + 1):
        for size in range(max(1, len(e) - d), len(e) + d + 1):
            if start + size > hi:
                break
            dist = edit_distance(e, sq.sq[start : start + size], d)
            if dist <= d and (best is None or dist < best[0]):
                best = (dist, start, start + size)
    return None if best is None else (best[1], best[2])


def _labels(answer: Answer, rows: tuple[CanonRow, ...], rule: TableRead) -> dict[str, LabelHit]:
    """Where each row's label stands in the region: the rule path's hit, else the echo."""
    sq = SqueezedText(rule.source)
    hits: dict[str, LabelHit] = {}
    sq_pos: list[int | None] = []
    for row in rows:
        h = rule.labels.get(row.key)
        sq_pos.append(sq.pos.index_at(h.start) if h is not None and h.start >= 0 else None)
    for i, (got, row) in enumerate(zip(answer.rows, rows, strict=True)):
        h = rule.labels.get(row.key)
        if h is not None and h.start >= 0:
            hits[row.key] = LabelHit(row.key, h.match, got.label, h.start, h.end)
            continue
        lo = max((p for p in sq_pos[:i] if p is not None), default=0)
        hi = min((p for p in sq_pos[i + 1 :] if p is not None), default=len(sq.sq))
        found = _find_echo(sq, got.label, lo, hi)
        if found is None:
            hits[row.key] = LabelHit(row.key, "missing", got.label)
            continue
        ts, te = sq.to_text(*found)
        hits[row.key] = LabelHit(row.key, "fuzzy", sq.text[ts:te], ts, te)
        sq_pos[i] = found[0]
    return hits


def _segments(region: str, hits: dict[str, LabelHit], table: str) -> dict[str, tuple[int, int]]:
    anchors: list[int] = []
    if table == "active_disclosure":  # as the rule path: 第二十条 / 信息内容 lines end a row too
        sq = SqueezedText(region)
        anchors = [sq.to_text(i, i + 1)[0] for p in ("第二十条", "信息内容") for i in sq.hits(p)]
    starts = sorted({h.start for h in hits.values() if h.start >= 0} | set(anchors))
    out: dict[str, tuple[int, int]] = {}
    for key, h in hits.items():
        if h.start >= 0:
            out[key] = (h.end, next((s for s in starts if s >= h.end), len(region)))
    return out


def align_answer(
    answer: Answer, rows: tuple[CanonRow, ...], cand: TableRead, rule: TableRead
) -> list[Finding]:
    """Tie ``cand`` (the parsed answer over ``rule.source``) to the source: fills its spans,
    methods and label positions; returns the ``llm.align`` findings (none: every cell tied)."""
    t, region = cand.key, rule.source
    cand.offset, cand.columns = rule.offset, rule.columns
    # The model answers in the template's column order; the source prints the header's order.
    printed = rule.columns or (rows[0].columns if rows else ())
    if t == "review_litigation":
        return _align_review(answer, rows, cand, region, printed)
    hits = _labels(answer, rows, rule)
    for k, h in hits.items():
        old = cand.labels.get(k)
        if h.start >= 0:  # keep what the echo matched; add where the label stands
            cand.labels[k] = LabelHit(
                k, old.match if old else h.match, old.printed if old else h.printed, h.start, h.end
            )
    segs = _segments(region, hits, t)
    out = [
        f
        for got, row in zip(answer.rows, rows, strict=True)
        if (f := _align_row(got, row, cand, region, segs, hits, printed)) is not None
    ]
    return out[:_MAX_SHOWN]


def _align_review(
    answer: Answer, rows: tuple[CanonRow, ...], cand: TableRead, region: str, printed: Sequence[str]
) -> list[Finding]:
    """Table 四 prints no row labels: its 15 answered cells, in printed order, over its region."""
    t = cand.key
    flat = [
        c for r, row in zip(answer.rows, rows, strict=True) for c in _pick(r.values, row.columns, printed)
    ]
    values = [cand.values.get(r.key, {}).get(c) for r in rows for c in printed]
    spans = tie_cells(flat, values, atoms_of(region), [False] * len(flat))
    if spans is None:
        shown = " ".join(a.text or "□" for a in atoms_of(region))[:200]
        return [
            _f(
                t,
                None,
                None,
                f"table 四: you gave {[_printed(c) for c in flat]} but the table prints {shown}",
            )
        ]
    cells = [(r.key, c) for r in rows for c in printed]
    for (key, col), span in zip(cells, spans, strict=True):
        cand.tie(key, col, span)
    return []


def _align_row(
    got: AnswerRow,
    row: CanonRow,
    cand: TableRead,
    region: str,
    segs: dict[str, tuple[int, int]],
    hits: dict[str, LabelHit],
    printed: Sequence[str],
) -> Finding | None:
    """One answered row tied to its segment's printed cells (None: tied, or already reported)."""
    t = cand.key
    vals = cand.values.get(row.key, {})
    if len(got.values) != len(row.columns) or any(vals.get(c) is None for c in row.columns):
        return None  # the shape/value checks already say what is wrong
    seg = segs.get(row.key)
    if seg is None:
        return _f(
            t, row.key, None, f"{row.label}: the label you echoed ('{got.label}') is not in the table text"
        )
    atoms = atoms_of(region[seg[0] : seg[1]], stop_at_text=True, base=seg[0])
    columns = printed if t == "applications" else row.columns
    values = [vals.get(c) for c in columns]
    money = [row.key == "procurement" and c == "amount" for c in columns]
    picked = _pick(got.values, row.columns, columns)
    spans = tie_cells(picked, values, atoms, money)
    if spans is None:
        return _misfit(t, row, hits[row.key], picked, atoms, columns)
    for col, span in zip(columns, spans, strict=True):
        cand.tie(row.key, col, span)
    return None


def _pick(cells: Sequence[Raw], answered: Sequence[str], printed: Sequence[str]) -> list[Raw]:
    """The answered cells (in ``answered`` column order) in the printed column order."""
    if tuple(answered) == tuple(printed) or len(cells) != len(answered):
        return list(cells)
    by_col = dict(zip(answered, cells, strict=True))
    return [by_col[c] for c in printed]


def _misfit(
    t: str, row: CanonRow, hit: LabelHit, cells: Sequence[Raw], atoms: Sequence[Atom], columns: Sequence[str]
) -> Finding:
    names = dict(zip(row.columns, row.column_labels, strict=True))
    label = hit.printed or row.label
    printed = [a.text or "□" for a in atoms]
    gave = [_printed(c) for c in cells]
    col = None
    if len(printed) == len(gave):
        j = next(
            (
                j
                for j, (g, p) in enumerate(zip(gave, printed, strict=True))
                if g != p and not (g == "0" and p == "□")
            ),
            0,
        )
        col = columns[j]
        msg = (
            f"{label}: you gave {gave[j]} for {names[col]} but the row after {label} "
            f"prints {printed[j]} there ({' '.join(printed)})"
        )
    else:
        shown = " ".join(printed) or "nothing"
        msg = f"{label}: you gave {' '.join(gave)} but the row after {label} prints {shown}"
    return _f(t, row.key, col, msg[:300], actual=gave)


def disagreements(cand: TableRead, rule: TableRead) -> list[Finding]:
    """Cells the rule path read with evidence that the model reads differently."""
    out = []
    for row, cols in rule.spans.items():
        for col, (s, e) in cols.items():
            rv, cv = rule.values.get(row, {}).get(col), cand.values.get(row, {}).get(col)
            if rv is None or cv == rv:
                continue
            out.append(
                finding(
                    "llm.cell_disagreement",
                    "error",
                    f"{cand.key}.{row}.{col}: the model says {cv!r} but the rule path read {rv!r} "
                    f"printed at [{s + rule.offset}, {e + rule.offset}]",
                    table=cand.key,
                    row=row,
                    column=col,
                    expected=rv,
                    actual=cv,
                )
            )
    return out[:_MAX_SHOWN]
