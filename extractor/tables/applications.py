"""Stage 4, table 三 — rule-based reading of 收到和处理政府信息公开申请情况.

Rows are found by label in order; each row's cells are fitted to 7 columns; run-together
digits are cut under H3 and, when a row has several cuts, under H1/H2 across rows; blocks of
labels printed before their numbers (PDF text layers) are arranged row- or column-wise when
exactly one arrangement satisfies H3. Blank cells follow the spec's rule (usually 0; a blank
总计 beside printed applicant cells is "not printed" and stays unread).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Final

from extractor.models import CellValue, Finding, TableValues, finding
from extractor.read.normalise import has_cjk
from extractor.spec import APPLICANT_COLUMN_LABELS, APPLICANT_COLUMNS, APPLICATION_ROWS, OUTCOME_ROWS, RowSpec
from extractor.tables.atoms import Atom, atoms_of, clean_segment
from extractor.tables.cells import Fit, empty_lines_lazily, fit
from extractor.tables.columns import printed_order
from extractor.tables.rules import (
    MAX_COMBINATIONS,
    LabelHit,
    Squeezed,
    SqueezedText,
    TableRead,
    blank_finding,
    forced_finding,
    locate_rows,
    segments_of,
    unread_row_finding,
)
from extractor.tables.torn import has_loose_rows, pair_torn_rows
from extractor.tables.values import as_int, to_value


def _h3(cells: tuple[str, ...], order: tuple[str, ...] | None = None) -> bool:
    """总计 = the six applicant columns; ``order``: the printed column order, if not the template's."""
    if order is not None:
        by_col = dict(zip(order, cells, strict=True))
        cells = tuple(by_col[c] for c in APPLICANT_COLUMNS)
    if all(c.isascii() and c.isdigit() for c in cells):  # the splitter's candidates: plain digits
        ints = [int(c) for c in cells]
        return sum(ints[:6]) == ints[6]
    vals = [as_int(c) for c in cells]
    if any(v is None for v in vals):
        return False
    return sum(v for v in vals[:6] if v is not None) == vals[6]


def read_applications(region: str, template: str | None, squeezed: Squeezed | None = None) -> TableRead:
    table = "applications"
    sq = SqueezedText(region, squeezed)
    variant = "2021" if sq.hits("逾期不补正") or sq.hits("缴纳费用") else "2019"
    rows = APPLICATION_ROWS[variant]
    findings: list[Finding] = []
    single_other = template == "2021" and variant == "2019"
    if template is not None and template != variant and not single_other:
        findings.append(
            finding(
                "template",
                "warning",
                f"table 三 prints the {variant} rows for （六）其他处理 but the report's headers "
                f"are template {template}; rows were read as {variant}",
                table=table,
            )
        )
    hits = locate_rows(sq, rows, sequential=True)
    segs = segments_of(region, hits)
    if single_other:
        findings.append(_single_other(segs))
    first = min((h.start for h in hits.values() if h.start >= 0), default=len(region))
    order = printed_order("applications", region[:first])
    h3: Callable[[tuple[str, ...]], bool] = _h3 if order is None else lambda c: _h3(c, order)
    fits, atoms = _fit_rows(region, rows, segs, hits, h3)
    segments: dict[str, tuple[int, int]] = {}
    if has_loose_rows(region):  # number-only pipe rows: a torn table, or nothing is trusted
        torn = _torn(sq, rows, variant, fits, hits, segs, segments) if order is None else None
        findings += _untrusted(fits, segs) if torn is None else torn
    else:
        findings += _read_blocks(rows, fits, atoms, h3)
    if order is not None:
        findings.append(_order_finding(order))
    read = TableRead(table, {}, hits, region, findings, True, variant, columns=order)
    _take_rows(read, rows, fits, _resolve_applications(fits, variant))
    for key, line in segments.items():  # torn rows: their numbers stand in a pipe row of their own
        read.segments[key] = line
        ties = read.methods.setdefault(key, {})
        for c in read.spans.get(key, {}):
            ties.setdefault(c, "paired")
    if single_other:
        read.values = _with_sub_rows(read.values)
    return read


def _fit_rows(
    region: str,
    rows: tuple[RowSpec, ...],
    segs: dict[str, str],
    hits: dict[str, LabelHit],
    h3: Callable[[tuple[str, ...]], bool],
) -> tuple[dict[str, Fit], dict[str, list[Atom]]]:
    """Each found row's atoms (region offsets) and their fit to the 7 columns."""
    fits: dict[str, Fit] = {}
    atoms: dict[str, list[Atom]] = {}
    lines = empty_lines_lazily(region)
    for spec in rows:
        seg = segs.get(spec.key)
        if seg is None:
            continue
        atoms[spec.key] = atoms_of(seg, stop_at_text=True, base=hits[spec.key].end, cells=7)
        fits[spec.key] = fit(atoms[spec.key], 7, h3, blank_row_ok=True, empty_lines=lines)
    return fits, atoms


def _take_rows(
    read: TableRead,
    rows: tuple[RowSpec, ...],
    fits: dict[str, Fit],
    resolved: tuple[dict[str, tuple[str, ...]], dict[str, str]],
) -> None:
    """The chosen cells of every row into ``read`` (values, ties, findings), blanks by the spec's rule."""
    table, values, findings, hits = read.key, read.values, read.findings, read.labels
    columns = read.columns or APPLICANT_COLUMNS
    chosen, resolution = resolved
    forced: list[str] = []
    zeroed: list[str] = []
    for spec in rows:
        key = spec.key
        f = fits.get(key)
        cand = chosen.get(key)
        if cand is None:
            values[key] = dict.fromkeys(APPLICANT_COLUMNS)
            if hits[key].match != "missing":
                findings.append(unread_row_finding(table, key, f, "that all satisfy the identities"))
            continue
        joined = "".join(cand)
        if "" not in cand and joined.isdigit() and joined.isascii():  # plain numbers: no blank to rule on
            got: dict[str, CellValue] = dict(zip(columns, map(int, cand), strict=True))
        else:
            got = _blank_policy(key, dict(zip(columns, cand, strict=True)), table, findings, zeroed)
        values[key] = got if read.columns is None else {c: got[c] for c in APPLICANT_COLUMNS}
        if f is None:
            continue
        read.tie_fit(key, got, columns, f, cand)
        if f.how == "split" and f.raw_count == 1:
            forced.append(key)
        elif f.how == "split":
            how = resolution.get(key, "its row identity (总计 = sum of the six columns)")
            findings.append(
                finding(
                    "split",
                    "info",
                    f"row {key}: run-together digits '{f.printed}' split as {' '.join(cand)} "
                    f"(unique under {how})",
                    table=table,
                    row=key,
                    actual=list(cand),
                )
            )
    if forced:
        findings.append(forced_finding(table, forced))
    if zeroed:
        findings.append(blank_finding(table, zeroed))


def _order_finding(order: tuple[str, ...]) -> Finding:
    shown = " ".join(APPLICANT_COLUMN_LABELS[c] for c in order)
    return finding(
        "layout",
        "info",
        f"table 三 prints its columns as {shown} (from its header); read so",
        table="applications",
    )


_SUB_ROWS: Final = ("other_no_correction", "other_unpaid_fee", "other_other")


def _single_other(segs: dict[str, str]) -> Finding:
    """A 2021-template report printing （六）其他处理 as one row (its three sub-rows not printed)."""
    seg = segs.get("other")
    if seg is not None and has_cjk(clean_segment(seg).split("\n", 1)[0]):
        # text between the heading and its numbers: sub-row labels we could not recognise
        segs.pop("other")
        return finding(
            "label",
            "error",
            "（六）其他处理 is followed by text that is none of its 2021 sub-rows; the row is left unread",
            table="applications",
            row="other",
        )
    return finding(
        "single_row_other",
        "warning",
        "a 2021-template table 三 prints （六）其他处理 as one row: its total is kept under 'other' "
        "(and checked by H2); the three 2021 sub-rows are not printed and stay null",
        table="applications",
        row="other",
    )


def _with_sub_rows(values: TableValues) -> TableValues:
    """The 2021 keys in template order: the three sub-rows (null) before the printed group row."""
    out: TableValues = {}
    for key, row in values.items():
        if key == "other":
            out.update({k: dict.fromkeys(APPLICANT_COLUMNS) for k in _SUB_ROWS})
        out[key] = row
    return out


def _torn(
    sq: SqueezedText,
    rows: tuple[RowSpec, ...],
    variant: str,
    fits: dict[str, Fit],
    hits: dict[str, LabelHit],
    segs: dict[str, str],
    segments: dict[str, tuple[int, int]],
) -> list[Finding] | None:
    """A torn markdown table 三 (see :mod:`extractor.tables.torn`): replace every row's reading
    by the order pairing when it is complete and every identity holds (``None`` otherwise). The
    paired rows' segments (the number-only pipe rows they were paired with) go to ``segments``."""
    outcome = OUTCOME_ROWS[variant]

    def holds(trial: dict[str, tuple[str, ...]]) -> bool:
        unknown = {
            k: (*c[:6], "?") if not c[6] and any(as_int(x) for x in c[:6]) else c for k, c in trial.items()
        }
        rows_ok = all(_h3(c) for c in unknown.values() if c[6] != "?")
        return rows_ok and _columns_hold({k: _ints(c) for k, c in unknown.items()}, outcome)

    got = pair_torn_rows(sq.text, rows, _h3, holds)
    if got is None:
        return None
    fits.update(got.fits)
    for key, (label, ls, le) in got.own.items():
        if hits[key].match == "missing":  # found in its own pipe row, out of the text's order
            hits[key] = LabelHit(key, "exact", label, ls, le)
    specs = {r.key: r for r in rows}
    for key in got.paired:
        h = hits[key]
        if h.start < 0 and (where := sq.find_label(specs[key], 0)) is not None:  # its loose label line
            h = LabelHit(key, "exact", "", *sq.to_text(where[0], where[1]))
        hits[key] = LabelHit(key, "paired", sq.text[h.start : h.end] if h.start >= 0 else "", h.start, h.end)
    segments.update(got.segments)
    return [
        finding(
            "layout",
            "warning",
            f"table 三 is torn into fragments: {len(got.paired)} row(s) printed their numbers apart from "
            f"their labels ({', '.join(got.paired)}); paired in template order, and every identity holds",
            table="applications",
            actual=got.paired,
        )
    ]


def _untrusted(fits: dict[str, Fit], segs: dict[str, str]) -> list[Finding]:
    """A torn table that cannot be paired: a row whose text holds a number-only pipe row may be
    reading another row's numbers, so it is left unread."""
    bad = [k for k, seg in segs.items() if k in fits and has_loose_rows(seg)]
    for k in bad:
        fits[k] = Fit(
            [],
            "none",
            "a number-only pipe row stands in this row's text: its numbers may "
            "belong to a row whose label is printed elsewhere (torn table)",
        )
    if not bad:
        return []
    return [
        finding(
            "layout",
            "error",
            f"table 三 is torn (number-only pipe rows) and cannot be paired with its labels in order "
            f"under the identities; {len(bad)} row(s) left unread",
            table="applications",
            actual=bad,
        )
    ]


def _read_blocks(
    rows: tuple[RowSpec, ...],
    fits: dict[str, Fit],
    atoms: dict[str, list[Atom]],
    h3: Callable[[tuple[str, ...]], bool] = _h3,
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
        printed = [a for a in atoms.get(key, []) if a.kind != "line"]
        if k > 1 and f.how == "none" and len(nums) == 7 * k and len(nums) == len(printed):
            found = _arrange_block(block, nums, h3, fits)
            if found is not None:
                out.append(found)
        run = []
    return out


def _arrange_block(
    block: list[str], nums: list[Atom], h3: Callable[[tuple[str, ...]], bool], fits: dict[str, Fit]
) -> Finding | None:
    """The 7k numbers after a block of k labels, row by row or column by column: the one
    arrangement under which every row satisfies H3 replaces the rows' fits."""
    k = len(block)
    texts = [a.text for a in nums]
    by_row = [tuple(texts[7 * i : 7 * i + 7]) for i in range(k)]
    by_col = [tuple(texts[c * k + i] for c in range(7)) for i in range(k)]
    where = {
        "row by row": [tuple(nums[7 * i : 7 * i + 7]) for i in range(k)],
        "column by column": [tuple(nums[c * k + i] for c in range(7)) for i in range(k)],
    }
    ok = {
        name: arr
        for name, arr in (("row by row", by_row), ("column by column", by_col))
        if all(h3(r) for r in arr)
        and all(t.isascii() and t.isdigit() and (t == "0" or t[0] != "0") for t in texts)
    }
    distinct = {tuple(arr) for arr in ok.values()}
    if len(distinct) == 1:
        name, arr = next(iter(ok.items()))
        for rk, cells, items in zip(block, arr, where[name], strict=True):
            fits[rk] = Fit([cells], "block", raw_count=1, printed=" ".join(cells), items=items)
        return finding(
            "layout",
            "info",
            f"rows {block[0]} … {block[-1]}: {k} labels printed before their {7 * k} numbers; "
            f"read {name} (the only arrangement under which every row's 总计 is the sum "
            "of its six columns)",
            table="applications",
        )
    if len(distinct) > 1:
        return finding(
            "layout",
            "error",
            f"rows {block[0]} … {block[-1]}: {7 * k} numbers after {k} labels fit both row by "
            "row and column by column; left unread",
            table="applications",
        )
    return None


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
    # each candidate's cells as numbers once, not once per combination it takes part in
    fixed = {k: _ints(c) for k, c in chosen.items()}
    options_ints = [[_ints(c) for c in ambiguous[k]] for k in keys]
    valid: list[tuple[int, ...]] = []
    for picks in itertools.product(*(range(len(o)) for o in options_ints)):
        trial = {**fixed, **{k: options_ints[i][j] for i, (k, j) in enumerate(zip(keys, picks, strict=True))}}
        if _columns_hold(trial, outcome):
            valid.append(picks)
    for i, k in enumerate(keys):
        options = {ambiguous[k][picks[i]] for picks in valid}
        if len(options) == 1:
            chosen[k] = options.pop()
            resolution[k] = "the row identity and the column identities H1/H2"
    return chosen, resolution


def _ints(cells: tuple[str, ...]) -> tuple[int | None, ...]:
    return tuple(as_int(c) for c in cells)


def _columns_hold(rows: dict[str, tuple[int | None, ...]], outcome: tuple[str, ...]) -> bool:
    empty: tuple[int | None, ...] = (None,) * 7
    new, carried, total, forward = (rows.get(k, empty) for k in _H1_ROWS)
    parts_rows = [rows.get(k, empty) for k in outcome]
    for c in range(7):
        a, b, t, f = new[c], carried[c], total[c], forward[c]
        if a is not None and b is not None and t is not None and f is not None and a + b != t + f:
            return False
        parts = [r[c] for r in parts_rows]
        if t is not None and None not in parts and sum(p for p in parts if p is not None) != t:
            return False
    return True


_H1_ROWS: tuple[str, ...] = ("new_received", "carried_over", "total_processed", "carried_forward")


def _blank_policy(
    key: str, cells: dict[str, str], table: str, findings: list[Finding], zeroed: list[str]
) -> dict[str, CellValue]:
    """Blank cells usually mean 0 — except a blank 总计 beside printed applicant numbers (or
    the reverse), which means "not printed" and stays unread."""
    if all(t.isdigit() and t.isascii() for t in cells.values()):  # the common case: plain numbers
        return {c: int(t) for c, t in cells.items()}
    vals = {c: to_value(t) for c, t in cells.items()}
    blanks = [c for c, t in cells.items() if not t.strip()]
    if not blanks:
        return vals
    applicants = [c for c in APPLICANT_COLUMNS[:6]]
    nonzero_app = any(isinstance(vals[c], (int, float)) and vals[c] != 0 for c in applicants)
    if "total" in blanks and nonzero_app:
        findings.append(
            finding(
                "blank",
                "error",
                f"row {key}: 总计 is blank while applicant cells are printed; total left unread",
                table=table,
                row=key,
                column="total",
            )
        )
        blanks.remove("total")
    all_app_blank = all(c in blanks for c in applicants)
    total = vals.get("total")
    if all_app_blank and isinstance(total, (int, float)) and total != 0:
        findings.append(
            finding(
                "blank",
                "error",
                f"row {key}: only 总计 is printed ({total}); the applicant breakdown is left unread",
                table=table,
                row=key,
            )
        )
        return vals
    for c in blanks:
        vals[c] = 0
        zeroed.append(f"{key}.{c}")
    return vals
