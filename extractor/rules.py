"""Stage 4 — rule-based extraction of tables 二, 三 and 四 from their located text regions.

Rows are found by their labels on squeezed text (layout-independent), each row's values are
read from the text between its label and the next (see :mod:`extractor.cells`), run-together
digits are cut with :mod:`extractor.splitting` and disambiguated with the identities. What
cannot be read stays ``None`` with a finding; nothing is ever filled in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from .cells import Atom, Fit, as_int, atoms_of, fit, to_value
from .keys import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    OUTCOME_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    RowSpec,
)
from .models import CellValue, Finding, TableValues
from .normalise import SqMap, SubMap, fold_for_match, squeeze_for_match

MAX_COMBINATIONS = 50_000


@dataclass
class LabelHit:
    key: str
    match: str  # "exact" | "fuzzy" | "missing"
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


def _finding(check: str, severity: str, table: str, message: str, **kw: object) -> Finding:
    return Finding(check=check, severity=severity, table=table, message=message, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ labels
Squeezed = tuple[str, SqMap | SubMap]


class _Squeezed:
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
            i = self.sq.find(a, from_sq)
            if i >= 0 and (best is None or i < best[0]):
                best = (i, i + len(a), "fuzzy")
        if p0 >= 0 and (best is None or p0 <= best[0] + 40):
            best = (p0, p0 + len(primary), "exact")
        if best is None:
            return None
        start = best[0]
        if spec.number:
            for prefix in (f"{spec.number}.", f"{spec.number},", f"({spec.number})"):
                if self.sq[max(0, start - len(prefix)) : start] == prefix:
                    start -= len(prefix)
                    break
        return start, best[1], best[2]

    def to_text(self, sq_start: int, sq_end: int) -> tuple[int, int]:
        return self.pos[sq_start], self.pos[sq_end - 1] + 1


def _locate_rows(sq: _Squeezed, rows: tuple[RowSpec, ...], sequential: bool) -> dict[str, LabelHit]:
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
    return hits


def _segments(text: str, hits: dict[str, LabelHit], extra_anchors: list[int] | None = None) -> dict[str, str]:
    starts = sorted({h.start for h in hits.values() if h.start >= 0} | set(extra_anchors or []))
    out: dict[str, str] = {}
    for key, h in hits.items():
        if h.start < 0:
            continue
        nxt = next((s for s in starts if s >= h.end), len(text))
        out[key] = text[h.end : nxt]
    return out


# ------------------------------------------------------------------ table 三
def _h3(cells: tuple[str, ...]) -> bool:
    vals = [as_int(c) for c in cells]
    if any(v is None for v in vals):
        return False
    return sum(v for v in vals[:6] if v is not None) == vals[6]


def read_applications(region: str, template: str | None, squeezed: Squeezed | None = None) -> TableRead:
    table = "applications"
    sq = _Squeezed(region, squeezed)
    variant = "2021" if sq.hits("逾期不补正") or sq.hits("缴纳费用") else "2019"
    rows = APPLICATION_ROWS[variant]
    findings: list[Finding] = []
    if template is not None and template != variant:
        findings.append(
            _finding(
                "template",
                "warning",
                table,
                f"table 三 prints the {variant} rows for （六）其他处理 but the report's headers "
                f"are template {template}; rows were read as {variant}",
            )
        )
    hits = _locate_rows(sq, rows, sequential=True)
    segs = _segments(region, hits)
    fits: dict[str, Fit] = {}
    atoms: dict[str, list[Atom]] = {}
    forced: list[str] = []
    zeroed: list[str] = []
    for spec in rows:
        seg = segs.get(spec.key)
        if seg is None:
            continue
        atoms[spec.key] = atoms_of(seg, stop_at_text=True)
        fits[spec.key] = fit(atoms[spec.key], 7, _h3, blank_row_ok=True)
    findings += _read_blocks(rows, fits, atoms)
    chosen, resolution = _resolve_applications(fits, variant)
    values: TableValues = {}
    for spec in rows:
        key = spec.key
        f = fits.get(key)
        cand = chosen.get(key)
        if cand is None:
            values[key] = dict.fromkeys(APPLICANT_COLUMNS)
            if hits[key].match == "missing":
                continue
            if f is not None and len(f.candidates) > 1:
                findings.append(
                    _finding(
                        "split",
                        "error",
                        table,
                        f"row {key}: run-together digits '{f.printed}' split {len(f.candidates)} ways "
                        "that all satisfy the identities; cells left unread",
                        row=key,
                        actual=[list(c) for c in f.candidates[:12]],
                    )
                )
            else:
                findings.append(
                    _finding(
                        "unreadable",
                        "error",
                        table,
                        f"row {key}: {f.problem if f else 'no values'}",
                        row=key,
                        actual=f.printed if f else None,
                    )
                )
            continue
        values[key] = _blank_policy(
            key, dict(zip(APPLICANT_COLUMNS, cand, strict=True)), table, findings, zeroed
        )
        if f is not None and f.how == "split" and f.raw_count == 1:
            forced.append(key)
        elif f is not None and f.how == "split":
            how = resolution.get(key, "its row identity (总计 = sum of the six columns)")
            findings.append(
                _finding(
                    "split",
                    "info",
                    table,
                    f"row {key}: run-together digits '{f.printed}' split as {' '.join(cand)} "
                    f"(unique under {how})",
                    row=key,
                    actual=list(cand),
                )
            )
    if forced:
        findings.append(_forced_finding(table, forced))
    if zeroed:
        findings.append(_blank_finding(table, zeroed))
    return TableRead(table, values, hits, region, findings, True, variant)


def _blank_finding(table: str, cells: list[str]) -> Finding:
    shown = ", ".join(cells[:20]) + (f" … ({len(cells)} in all)" if len(cells) > 20 else "")
    return _finding(
        "blank", "info", table, f"blank cells read as 0 (the usual meaning): {shown}", actual=len(cells)
    )


def _forced_finding(table: str, rows: list[str]) -> Finding:
    return _finding(
        "split",
        "info",
        table,
        f"{len(rows)} row(s) printed their cells run together with a single possible cut "
        f"(no leading zeros): {', '.join(rows)}",
    )


def _read_blocks(
    rows: tuple[RowSpec, ...], fits: dict[str, Fit], atoms: dict[str, list[Atom]]
) -> list[Finding]:
    """PDF text layers often print a block of k labels, then its 7k numbers (row by row or
    column by column). Arrange such a block both ways and keep the one under which every row
    satisfies H3; replace the rows' fits in place. Returns findings saying what was done."""
    out: list[Finding] = []
    run: list[str] = []
    for spec in rows:
        key = spec.key
        f = fits.get(key)
        if f is None:
            run = []
            continue
        if f.how == "none" and f.problem == "no value printed":
            run.append(key)
            continue
        nums = [a for a in atoms.get(key, []) if a.kind == "num"]
        block = [*run, key]
        k = len(block)
        if k > 1 and f.how == "none" and len(nums) == 7 * k and len(nums) == len(atoms[key]):
            texts = [a.text for a in nums]
            by_row = [tuple(texts[7 * i : 7 * i + 7]) for i in range(k)]
            by_col = [tuple(texts[c * k + i] for c in range(7)) for i in range(k)]
            ok = {
                name: arr
                for name, arr in (("row by row", by_row), ("column by column", by_col))
                if all(_h3(r) for r in arr)
                and all(t.isascii() and t.isdigit() and (t == "0" or t[0] != "0") for t in texts)
            }
            distinct = {tuple(arr) for arr in ok.values()}
            if len(distinct) == 1:
                name, arr = next(iter(ok.items()))
                for rk, cells in zip(block, arr, strict=True):
                    fits[rk] = Fit([cells], "positional", raw_count=1, printed=" ".join(cells))
                out.append(
                    _finding(
                        "layout",
                        "info",
                        "applications",
                        f"rows {block[0]} … {block[-1]}: {k} labels printed before their {7 * k} numbers; "
                        f"read {name} (the only arrangement under which every row's 总计 is the sum "
                        "of its six columns)",
                    )
                )
            elif len(distinct) > 1:
                out.append(
                    _finding(
                        "layout",
                        "error",
                        "applications",
                        f"rows {block[0]} … {block[-1]}: {7 * k} numbers after {k} labels fit both row by "
                        "row and column by column; left unread",
                    )
                )
        run = []
    return out


def _resolve_applications(
    fits: dict[str, Fit], variant: str
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Pick one candidate per row; use H1/H2 across rows when a row has several."""
    chosen = {k: f.candidates[0] for k, f in fits.items() if len(f.candidates) == 1}
    ambiguous = {k: f.candidates for k, f in fits.items() if len(f.candidates) > 1}
    resolution: dict[str, str] = {}
    if not ambiguous:
        return chosen, resolution
    keys = list(ambiguous)
    size = 1
    for k in keys:
        size *= len(ambiguous[k])
    if size > MAX_COMBINATIONS:
        return chosen, resolution
    outcome = OUTCOME_ROWS[variant]
    valid: list[tuple[tuple[str, ...], ...]] = []
    for combo in itertools.product(*(ambiguous[k] for k in keys)):
        trial = {**chosen, **dict(zip(keys, combo, strict=True))}
        if _columns_hold(trial, outcome):
            valid.append(combo)
    for i, k in enumerate(keys):
        options = {combo[i] for combo in valid}
        if len(options) == 1:
            chosen[k] = options.pop()
            resolution[k] = "the row identity and the column identities H1/H2"
    return chosen, resolution


def _columns_hold(rows: dict[str, tuple[str, ...]], outcome: tuple[str, ...]) -> bool:
    for c in range(7):

        def v(key: str, c: int = c) -> int | None:
            r = rows.get(key)
            return None if r is None else as_int(r[c])

        a, b, t, f = v("new_received"), v("carried_over"), v("total_processed"), v("carried_forward")
        if None not in (a, b, t, f) and a + b != t + f:  # type: ignore[operator]
            return False
        parts = [v(k) for k in outcome]
        if t is not None and None not in parts and sum(parts) != t:  # type: ignore[arg-type]
            return False
    return True


def _blank_policy(
    key: str, cells: dict[str, str], table: str, findings: list[Finding], zeroed: list[str]
) -> dict[str, CellValue]:
    """Blank cells usually mean 0 — except a blank 总计 beside printed applicant numbers (or
    the reverse), which means "not printed" and stays unread."""
    vals = {c: to_value(t) for c, t in cells.items()}
    blanks = [c for c, t in cells.items() if not t.strip()]
    if not blanks:
        return vals
    applicants = [c for c in APPLICANT_COLUMNS[:6]]
    nonzero_app = any(isinstance(vals[c], (int, float)) and vals[c] != 0 for c in applicants)
    if "total" in blanks and nonzero_app:
        findings.append(
            _finding(
                "blank",
                "error",
                table,
                f"row {key}: 总计 is blank while applicant cells are printed; total left unread",
                row=key,
                column="total",
            )
        )
        blanks.remove("total")
    all_app_blank = all(c in blanks for c in applicants)
    total = vals.get("total")
    if all_app_blank and isinstance(total, (int, float)) and total != 0:
        findings.append(
            _finding(
                "blank",
                "error",
                table,
                f"row {key}: only 总计 is printed ({total}); the applicant breakdown is left unread",
                row=key,
            )
        )
        return vals
    for c in blanks:
        vals[c] = 0
        zeroed.append(f"{key}.{c}")
    return vals


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


def read_review(region: str) -> TableRead:
    table = "review_litigation"
    findings: list[Finding] = []
    atoms = atoms_of(region)
    f = fit(atoms, 15, _h4)
    labels = {
        g: LabelHit(g, "exact" if g == "review" or "行政诉讼" in region else "fuzzy") for g in REVIEW_GROUPS
    }
    if not _has_header(region):
        for g in REVIEW_GROUPS:
            labels[g] = LabelHit(g, "missing")
    empty: TableValues = {g: dict.fromkeys(REVIEW_COLUMNS) for g in REVIEW_GROUPS}
    if len(f.candidates) != 1:
        if f.candidates:
            msg = (
                f"table 四: run-together digits '{f.printed}' split {len(f.candidates)} ways that all "
                "satisfy 总计 = 维持+纠正+其他+尚未审结; cells left unread"
            )
            findings.append(
                _finding("split", "error", table, msg, actual=[list(c) for c in f.candidates[:12]])
            )
        else:
            msg = f"table 四 cannot be read: {f.problem}"
            if _numbers_inside_header(atoms, region):
                msg += "; numbers stand where the header labels should be and the data row is empty"
            findings.append(_finding("unreadable", "error", table, msg, actual=f.printed))
        return TableRead(table, empty, labels, region, findings)
    cand = f.candidates[0]
    values: TableValues = {}
    blanks: list[str] = []
    for gi, g in enumerate(REVIEW_GROUPS):
        row: dict[str, CellValue] = {}
        for ci, c in enumerate(REVIEW_COLUMNS):
            t = cand[gi * 5 + ci]
            v = to_value(t)
            if v is None and not t.strip():
                v = 0
                blanks.append(f"{g}.{c}")
            row[c] = v
        values[g] = row
    if blanks:
        findings.append(_blank_finding(table, blanks))
    if f.how == "split" and f.raw_count == 1:
        findings.append(_forced_finding(table, ["review_litigation"]))
    elif f.how == "split":
        findings.append(
            _finding(
                "split",
                "info",
                table,
                f"table 四: run-together digits '{f.printed}' split as {' '.join(cand)} "
                "(unique under 总计 = 维持+纠正+其他+尚未审结 for each group)",
                actual=list(cand),
            )
        )
    return TableRead(table, values, labels, region, findings)


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
    sq = _Squeezed(region, squeezed)
    hits = _locate_rows(sq, rows, sequential=False)
    anchors = [sq.to_text(i, i + 1)[0] for p in ("第二十条", "信息内容") for i in sq.hits(p)]
    segs = _segments(region, hits, anchors)
    findings: list[Finding] = []
    values: TableValues = {}
    forced: list[str] = []
    zeroed: list[str] = []
    for spec in rows:
        n = len(spec.columns)
        seg = segs.get(spec.key)
        values[spec.key] = dict.fromkeys(spec.columns)
        if seg is None:
            continue
        f = fit(atoms_of(seg, stop_at_text=True), n)
        if len(f.candidates) != 1:
            if f.candidates:
                findings.append(
                    _finding(
                        "split",
                        "error",
                        table,
                        f"row {spec.key}: run-together digits '{f.printed}' can be cut into {n} cells "
                        f"{len(f.candidates)} ways and table 二 has no identity to choose; cells left unread",
                        row=spec.key,
                        actual=[list(c) for c in f.candidates[:12]],
                    )
                )
            else:
                findings.append(
                    _finding(
                        "unreadable",
                        "error",
                        table,
                        f"row {spec.key}: {f.problem}",
                        row=spec.key,
                        actual=f.printed,
                    )
                )
            continue
        cand = f.candidates[0]
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
        zeroed.extend(f"{spec.key}.{c}" for c in blanks)
        if f.how == "split":
            forced.append(spec.key)
        values[spec.key] = row
    if forced:
        findings.append(_forced_finding(table, forced))
    if zeroed:
        findings.append(_blank_finding(table, zeroed))
    return TableRead(table, values, hits, region, findings)


Reader = Callable[[str], TableRead]
