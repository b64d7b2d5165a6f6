"""Stage 4 — rule-based extraction of tables 二, 三 and 四 from their located text regions.

Rows are found by their labels on squeezed text (layout-independent), each row's values are
read from the text between its label and the next (see :mod:`extractor.tables.cells`), run-together
digits are cut with :mod:`extractor.tables.splitting` and disambiguated with the identities. What
cannot be read stays ``None`` with a finding; nothing is ever filled in.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from extractor.models import CellValue, Finding, TableValues, finding
from extractor.read.normalise import SqMap, SubMap, fold_for_match, squeeze_for_match
from extractor.spec import (
    ACTIVE_ROWS,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    RowSpec,
)
from extractor.tables.atoms import Atom, atoms_of
from extractor.tables.cells import (
    AMBIGUOUS_BLANKS,
    SPLIT_OR_BLANKS,
    CellSpan,
    Fit,
    cell_spans,
    empty_lines_lazily,
    fit,
)
from extractor.tables.columns import printed_order
from extractor.tables.grid import domain, header_aligned, review_rows
from extractor.tables.labels import best_near
from extractor.tables.values import as_int, to_value

_SPAN_OF: Final = operator.itemgetter(2, 3)  # an Atom's (start, end)
_KIND_OF: Final = operator.itemgetter(0)

MAX_COMBINATIONS = 50_000
Cells = tuple[str, ...]


@dataclass
class LabelHit:
    key: str
    match: str  # "exact" | "fuzzy" (a listed variant) | "near" (a misprint, by position) | "missing"
    printed: str = ""
    start: int = -1  # offsets in the region text
    end: int = -1


@dataclass
class TableRead:
    """What the rule path read for one table."""

    key: str
    values: TableValues
    labels: dict[str, LabelHit]
    source: str
    findings: list[Finding] = field(default_factory=list)
    found: bool = True
    variant: str | None = None
    #: Where each read cell stands: row → column → (start, end) in ``source`` (the region).
    spans: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    #: How a cell was tied when not by the plain ordinal after its row label.
    methods: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Offset of ``source`` in the whole source text.
    offset: int = 0
    #: The columns in the order the header prints them, when not the template's (三, 四).
    columns: tuple[str, ...] | None = None
    #: Rows whose cells stand apart from their label (torn tables): row → (start, end) in
    #: ``source`` of the number-only row the row was paired with.
    segments: dict[str, tuple[int, int]] = field(default_factory=dict)

    def tie(self, row: str, col: str, span: CellSpan) -> None:
        """Record where ``row.col`` was read (region offsets) and how."""
        self.spans.setdefault(row, {})[col] = (span[0], span[1])
        if span[2]:
            self.methods.setdefault(row, {})[col] = span[2]

    def tie_fit(
        self, row: str, values: Mapping[str, CellValue], cols: Sequence[str], f: Fit, cand: Cells
    ) -> None:
        """Tie a whole row read by ``f`` as ``cand`` (cells whose value is None are not tied)."""
        items = f.items
        if f.how == "positional" and len(items) == len(cand) and None not in values.values():
            self.spans[row] = dict(zip(cols, map(_SPAN_OF, items), strict=True))  # the common case
            if "blank" in map(_KIND_OF, items):
                self.methods[row] = {c: "blank" for c, a in zip(cols, items, strict=True) if a[0] == "blank"}
            return
        self.tie_row(row, values, zip(cols, cell_spans(f, cand), strict=True))

    def tie_row(
        self, row: str, values: Mapping[str, CellValue], spans: Iterable[tuple[str, CellSpan]]
    ) -> None:
        """:meth:`tie` for a whole row (cells whose value is None are not tied)."""
        pairs = [(c, sp) for c, sp in spans if values.get(c) is not None]
        self.spans[row] = {c: (sp[0], sp[1]) for c, sp in pairs}
        how = {c: sp[2] for c, sp in pairs if sp[2]}
        if how:
            self.methods[row] = how

    def evidence(self, base: int | None = None) -> dict[str, dict[str, list[int]]]:
        """The spans as offsets into the whole source text (the record's ``evidence``), or
        into ``source`` itself with ``base=0``."""
        o = self.offset if base is None else base
        return {r: {c: [s + o, e + o] for c, (s, e) in cols.items()} for r, cols in self.spans.items()}

    def segment_spans(self, base: int | None = None) -> dict[str, list[int]]:
        """:attr:`segments` as offsets into the whole source text (``base=0``: into ``source``)."""
        o = self.offset if base is None else base
        return {k: [s + o, e + o] for k, (s, e) in self.segments.items()}

    def label_spans(self, base: int | None = None) -> dict[str, list[int]]:
        """Each found row label as offsets into the whole source text (``base=0``: into ``source``)."""
        o = self.offset if base is None else base
        return {k: [h.start + o, h.end + o] for k, h in self.labels.items() if h.start >= 0}


# ------------------------------------------------------------------ labels
Squeezed = tuple[str, SqMap | SubMap]


class SqueezedText:
    def __init__(self, text: str, pre: Squeezed | None = None) -> None:
        self.text = text
        self.sq, self.pos = pre if pre is not None else squeeze_for_match(text)

    def hits(self, pattern: str) -> list[int]:
        pat = fold_for_match(pattern)
        out, i = [], self.sq.find(pat)
        while i >= 0:
            out.append(i)
            i = self.sq.find(pat, i + 1)
        return out

    def find_label(self, spec: RowSpec, from_sq: int) -> tuple[int, int, str] | None:
        """(sq_start, sq_end, match kind) of the first hit of ``spec`` at/after ``from_sq``."""
        primary = fold_for_match(spec.patterns[0])
        p0 = self.sq.find(primary, from_sq)
        best: tuple[int, int, str] | None = None
        for alt in spec.patterns[1:]:
            a = fold_for_match(alt)
            # a variant wins only more than 40 before the label: look no further (p0 found)
            i = self.sq.find(a, from_sq) if p0 < 0 else self.sq.find(a, from_sq, p0 - 41 + len(a))
            if i >= 0 and (best is None or i < best[0]):
                best = (i, i + len(a), "fuzzy")
        if p0 >= 0 and (best is None or p0 <= best[0] + 40):
            best = (p0, p0 + len(primary), "exact")
        if best is None:
            return None
        return self.with_number(spec, best[0]), best[1], best[2]

    def with_number(self, spec: RowSpec, start: int) -> int:
        """Back up over the sub-item ordinal printed before a label ("2." …)."""
        if spec.number:
            for prefix in (f"{spec.number}.", f"{spec.number},", f"({spec.number})"):
                if self.sq[max(0, start - len(prefix)) : start] == prefix:
                    return start - len(prefix)
        return start

    def to_text(self, sq_start: int, sq_end: int) -> tuple[int, int]:
        return self.pos[sq_start], self.pos[sq_end - 1] + 1


def locate_rows(sq: SqueezedText, rows: tuple[RowSpec, ...], sequential: bool) -> dict[str, LabelHit]:
    hits: dict[str, LabelHit] = {}
    cursor = 0
    for spec in rows:
        got = sq.find_label(spec, cursor if sequential else 0)
        if got is None:
            hits[spec.key] = LabelHit(spec.key, "missing")
            continue
        s, e, kind = got
        ts, te = sq.to_text(s, e)
        hits[spec.key] = LabelHit(spec.key, kind, sq.text[ts:te], ts, te)
        if sequential:
            cursor = e
    _near_misses(sq, rows, hits)
    return hits


def _near_misses(sq: SqueezedText, rows: tuple[RowSpec, ...], hits: dict[str, LabelHit]) -> None:
    """Rows still missing: search the text between the neighbouring rows that were found, in
    template order, for a misprinted label (see :mod:`extractor.tables.labels`)."""
    keys = [r.key for r in rows]
    for k, spec in enumerate(rows):
        if hits[spec.key].match != "missing":
            continue
        before = next((hits[x] for x in reversed(keys[:k]) if hits[x].start >= 0), None)
        after = next((hits[x] for x in keys[k + 1 :] if hits[x].start >= 0), None)
        lo = sq.pos.index_at(before.end) if before else 0
        hi = sq.pos.index_at(after.start) if after else len(sq.sq)
        if (before is None and after is None) or lo >= hi:
            continue
        got = best_near(sq.sq, spec.patterns, lo, hi)
        if got is None:
            continue
        ts, te = sq.to_text(sq.with_number(spec, max(lo, got[0])), got[1])
        hits[spec.key] = LabelHit(spec.key, "near", sq.text[ts:te], ts, te)


def segments_of(
    text: str, hits: dict[str, LabelHit], extra_anchors: list[int] | None = None
) -> dict[str, str]:
    starts = sorted({h.start for h in hits.values() if h.start >= 0} | set(extra_anchors or []))
    out: dict[str, str] = {}
    for key, h in hits.items():
        if h.start < 0:
            continue
        k = bisect.bisect_left(starts, h.end)  # the first start at or after the label's end
        out[key] = text[h.end : starts[k] if k < len(starts) else len(text)]
    return out


def unread_row_finding(table: str, key: str, f: Fit | None, why_ambiguous: str) -> Finding:
    """Why a row's cells stay unread: ambiguous run-together digits, or nothing that fits."""
    if f is not None and len(f.candidates) > 1:
        return finding(
            "split",
            "error",
            f"row {key}: run-together digits '{f.printed}' can be cut {len(f.candidates)} ways "
            f"{why_ambiguous}; cells left unread",
            table=table,
            row=key,
            actual=[list(c) for c in f.candidates[:12]],
        )
    return finding(
        "unreadable",
        "error",
        f"row {key}: {f.problem if f else 'no values'}",
        table=table,
        row=key,
        actual=f.printed if f else None,
    )


def blank_finding(table: str, cells: list[str]) -> Finding:
    shown = ", ".join(cells[:20]) + (f" … ({len(cells)} in all)" if len(cells) > 20 else "")
    return finding(
        "blank", "info", f"blank cells read as 0 (the usual meaning): {shown}", table=table, actual=len(cells)
    )


def forced_finding(table: str, rows: list[str]) -> Finding:
    return finding(
        "split",
        "info",
        f"{len(rows)} row(s) printed their cells run together with a single possible cut "
        f"(no leading zeros): {', '.join(rows)}",
        table=table,
    )


# ------------------------------------------------------------------ table 四
_REVIEW_HEADER_WORDS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "复议后起诉", "直接起诉")


def _h4(cells: tuple[str, ...]) -> bool:
    vals = [as_int(c) for c in cells]
    if any(v is None for v in vals):
        return False
    for g in range(3):
        grp = vals[g * 5 : g * 5 + 5]
        if sum(v for v in grp[:4] if v is not None) != grp[4]:
            return False
    return True


def _in_template_order(cells: tuple[str, ...], order: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for g in range(3):
        by_col = dict(zip(order, cells[g * 5 : g * 5 + 5], strict=True))
        out += [by_col[c] for c in REVIEW_COLUMNS]
    return tuple(out)


def read_review(region: str) -> TableRead:
    table = "review_litigation"
    findings: list[Finding] = []
    lo, hi = review_rows(region)
    atoms = [a for a in atoms_of(region) if lo <= a.start and a.end <= hi]
    first = next((a.start for a in atoms if a.kind == "num"), len(region))
    order = printed_order(table, region[:first])
    cols = order or REVIEW_COLUMNS
    accept = _h4 if order is None else lambda c: _h4(_in_template_order(c, order))
    f = fit(atoms, 15, accept, empty_lines=empty_lines_lazily(region))
    labels = {
        g: LabelHit(g, "exact" if g == "review" or "行政诉讼" in region else "fuzzy") for g in REVIEW_GROUPS
    }
    if not _has_header(region):
        for g in REVIEW_GROUPS:
            labels[g] = LabelHit(g, "missing")
    if len(f.candidates) != 1:
        findings.append(_review_unread(f, atoms, region))
        empty: TableValues = {g: dict.fromkeys(REVIEW_COLUMNS) for g in REVIEW_GROUPS}
        return TableRead(table, empty, labels, region, findings)
    read = TableRead(table, {}, labels, region, findings, columns=order)
    _take_review(read, f, cols)
    return read


def _review_unread(f: Fit, atoms: list[Atom], region: str) -> Finding:
    """Why table 四 stays unread: several cuts satisfy its identities, or nothing fits."""
    table = "review_litigation"
    if f.candidates:
        msg = (
            f"table 四: run-together digits '{f.printed}' split {len(f.candidates)} ways that all "
            "satisfy 总计 = 维持+纠正+其他+尚未审结; cells left unread"
        )
        return finding("split", "error", msg, table=table, actual=[list(c) for c in f.candidates[:12]])
    msg = f"table 四 cannot be read: {f.problem}"
    if _numbers_inside_header(atoms, region):
        msg += "; numbers stand where the header labels should be and the data row is empty"
    return finding("unreadable", "error", msg, table=table, actual=f.printed)


def _take_review(read: TableRead, f: Fit, cols: tuple[str, ...]) -> None:
    """Table 四's one candidate into ``read``: values by group in template order, ties, findings."""
    table, values, findings = read.key, read.values, read.findings
    cand = f.candidates[0]
    blanks: list[str] = []
    spans = cell_spans(f, cand)
    for gi, g in enumerate(REVIEW_GROUPS):
        row: dict[str, CellValue] = {}
        for ci, c in enumerate(cols):
            t = cand[gi * 5 + ci]
            v = to_value(t)
            if v is None and not t.strip():
                v = 0
                blanks.append(f"{g}.{c}")
            row[c] = v
            if v is not None:
                read.tie(g, c, spans[gi * 5 + ci])
        values[g] = {c: row[c] for c in REVIEW_COLUMNS}
    if read.columns is not None:
        shown = " ".join(REVIEW_COLUMN_LABELS[c] for c in read.columns)
        findings.append(
            finding("layout", "info", f"table 四 prints its columns as {shown}; read so", table=table)
        )
    if blanks:
        findings.append(blank_finding(table, blanks))
    if f.how == "split" and f.raw_count == 1:
        findings.append(forced_finding(table, ["review_litigation"]))
    elif f.how == "split":
        findings.append(
            finding(
                "split",
                "info",
                f"table 四: run-together digits '{f.printed}' split as {' '.join(cand)} "
                "(unique under 总计 = 维持+纠正+其他+尚未审结 for each group)",
                table=table,
                actual=list(cand),
            )
        )


def _has_header(region: str) -> bool:
    sq = fold_for_match(region)
    return "行政复议" in sq or "结果维持" in sq


def _numbers_inside_header(atoms: list[Atom], region: str) -> bool:
    """True when numbers appear before the last header label (e.g. seed 004's table 四)."""
    last_header = max((region.rfind(w) for w in _REVIEW_HEADER_WORDS), default=-1)
    first_num = min((region.find(a.text) for a in atoms if a.kind == "num"), default=-1)
    return 0 <= first_num < last_header


# ------------------------------------------------------------------ table 二
def read_active(region: str, template: str, squeezed: Squeezed | None = None) -> TableRead:
    table = "active_disclosure"
    rows = ACTIVE_ROWS[template]
    sq = SqueezedText(region, squeezed)
    hits = locate_rows(sq, rows, sequential=False)
    anchors = [sq.to_text(i, i + 1)[0] for p in ("第二十条", "信息内容") for i in sq.hits(p)]
    segs = segments_of(region, hits, anchors)
    findings: list[Finding] = []
    values: TableValues = {}
    read = TableRead(table, values, hits, region, findings)
    forced: list[str] = []
    zeroed: list[str] = []
    lines = empty_lines_lazily(region)
    for spec in rows:
        n = len(spec.columns)
        seg = segs.get(spec.key)
        values[spec.key] = dict.fromkeys(spec.columns)
        if seg is None:
            continue
        hit = hits[spec.key]
        atoms = atoms_of(seg, stop_at_text=True, base=hit.end, cells=n)
        f = fit(atoms, n, blank_row_ok=True, empty_lines=lines)
        if f.problem in (AMBIGUOUS_BLANKS, SPLIT_OR_BLANKS):  # the block header's columns may tell
            aligned = header_aligned(region, hit.start, hit.end, n)
            f = fit(aligned or atoms, n, domain(spec), blank_row_ok=True, empty_lines=lines)
        if len(f.candidates) != 1:
            why = "and table 二 has no identity to choose"
            findings.append(unread_row_finding(table, spec.key, f, why))
            continue
        cand = f.candidates[0]
        row, blanks = _active_cells(spec, cand)
        read.tie_fit(spec.key, row, spec.columns, f, cand)
        zeroed.extend(f"{spec.key}.{c}" for c in blanks)
        if f.how == "split":
            forced.append(spec.key)
        values[spec.key] = row
    if forced:
        findings.append(forced_finding(table, forced))
    if zeroed:
        findings.append(blank_finding(table, zeroed))
    return read


def _active_cells(spec: RowSpec, cand: Cells) -> tuple[dict[str, CellValue], list[str]]:
    """A table 二 row's cell texts as values (a blank is 0; 采购 keeps its amount as printed)
    and the columns read from blanks."""
    row: dict[str, CellValue] = {}
    blanks = []
    for col, text in zip(spec.columns, cand, strict=True):
        money = spec.key == "procurement" and col == "amount"
        v = to_value(text, money_yuan=money)
        if v is None and not text.strip():
            v = 0
            blanks.append(col)
        row[col] = v
        if money:
            row["amount_text"] = text
    return row, blanks
