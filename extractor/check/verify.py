"""Stage 5 — verification. Pure: no I/O, no network, no LLM or cache imports (a test enforces it).

Every path (rules, LLM, a re-check of saved JSONL) goes through :func:`verify`. It checks row
labels (found / fuzzily matched / missing), completeness, the identities H1–H5, that every
non-zero number is grounded in the table's source text, that every value stands where its
evidence says (:mod:`extractor.check.evidence`), and the soft checks S3–S5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from extractor.check.evidence import Anchors, check_evidence
from extractor.check.soft import YearTables, cross_checks, soft_checks
from extractor.models import CellValue, Finding, Status, TableValues, finding
from extractor.spec import (
    ACTIVE_ROWS,
    APPLICANT_COLUMN_LABELS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    OUTCOME_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    TABLE_KEYS,
    application_variant,
)

__all__ = ["IDENTITY_CHECKS", "Anchors", "VerifyInput", "YearTables", "cross_checks", "status_of", "verify"]

LabelMatch = tuple[str, str]  # (match kind: exact|fuzzy|near|missing, label as printed)


@dataclass
class VerifyInput:
    template: str | None
    tables: Mapping[str, TableValues]
    labels: Mapping[str, Mapping[str, LabelMatch]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    prose: str = ""
    meta: Mapping[str, object] = field(default_factory=dict)
    #: Table 三's row set as its reader chose it (``TableRead.variant``); ``None``: the rows the
    #: table holds say it (:func:`extractor.spec.application_variant`, for a saved record).
    application_variant: str | None = None
    #: table → a sentence of the prose saying a missing table would be empty (never data)
    prose_claims: Mapping[str, str] = field(default_factory=dict)
    #: The whole source text the evidence points into; ``None`` skips the positional check.
    text: str | None = None
    #: table → row → column → [start, end] in ``text`` (see :mod:`extractor.check.evidence`)
    evidence: Mapping[str, Mapping[str, Mapping[str, Sequence[int]]]] = field(default_factory=dict)
    evidence_method: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    anchors: Mapping[str, Anchors] = field(default_factory=dict)


_f = finding  # (check, severity, message, *, table, row, column, expected, actual)


def _num(v: CellValue) -> int | float | None:
    """Arithmetic value of a cell: markers count as 0 (not applicable), None is unknown."""
    return 0 if isinstance(v, str) else v


def verify(inp: VerifyInput) -> list[Finding]:
    out: list[Finding] = []
    if inp.template is None and not inp.tables:
        return out
    # A table standing alone (table 四, or a table 三 without template headers) is checked on
    # its own; the tables missing around it are reported by _check_complete.
    apps = inp.tables.get("applications")
    variant = inp.application_variant or application_variant(apps or {})
    out += _check_labels(inp)
    out += _check_complete(inp, variant)
    if apps:
        out += _check_h1_h2(apps, variant)
        out += _check_h3(apps)
    rev = inp.tables.get("review_litigation")
    if rev:
        out += _check_h4(rev)
    out += _check_h5(inp)
    out += _check_grounding(inp)
    if inp.text is not None:
        out += check_evidence(
            inp.text, inp.template, inp.tables, inp.evidence, inp.evidence_method, inp.anchors
        )
    out += soft_checks(inp.tables, inp.prose, inp.meta)
    return out


_NO_CELLS: Final[Mapping[str, CellValue]] = {}
_LABELS: Final = {
    **{("active_disclosure", r.key): r.label for rows in ACTIVE_ROWS.values() for r in rows},
    **{("applications", r.key): r.label for rows in APPLICATION_ROWS.values() for r in rows},
}


def _check_labels(inp: VerifyInput) -> list[Finding]:
    out = []
    for table, rows in inp.labels.items():
        for row, (kind, printed) in rows.items():
            if kind == "missing":
                out.append(
                    _f(
                        "label",
                        "error",
                        f"row label for '{row}' not found in the table",
                        table=table,
                        row=row,
                    )
                )
            elif kind == "near":
                out.append(
                    _f(
                        "label",
                        "warning",
                        f"row '{row}' ({_LABELS.get((table, row), row)}) read from the misprinted label "
                        f"'{printed}': it stands where the template puts this row, between the rows "
                        "found before and after it",
                        table=table,
                        row=row,
                        actual=printed,
                    )
                )
            elif kind == "fuzzy":
                out.append(
                    _f(
                        "label",
                        "info",
                        f"row '{row}' matched a variant label: '{printed}'",
                        table=table,
                        row=row,
                        actual=printed,
                    )
                )
    return out


def _expected_rows(table: str, template: str, variant: str) -> dict[str, tuple[str, ...]]:
    if table == "active_disclosure":
        return {r.key: r.columns for r in ACTIVE_ROWS[template]}
    if table == "applications":
        return {r.key: APPLICANT_COLUMNS for r in APPLICATION_ROWS[variant]}
    return dict.fromkeys(REVIEW_GROUPS, REVIEW_COLUMNS)


def _check_complete(inp: VerifyInput, variant: str) -> list[Finding]:
    out = []
    for table in TABLE_KEYS:
        values = inp.tables.get(table)
        if not values:
            out.append(_f("missing_table", "error", f"{table}: table not found in the report", table=table))
            said = inp.prose_claims.get(table)
            if said:
                out.append(
                    _f(
                        "prose",
                        "warning",
                        f"{table}: the table is missing and the text says '{said}'; "
                        "no numbers are filled in from prose",
                        table=table,
                        actual=said,
                    )
                )
            continue
        unread = [
            f"{row}.{col}"
            for row, cols in _expected_rows(table, inp.template or "2021", variant).items()
            if None in map((got := values.get(row, _NO_CELLS)).get, cols)  # (a read row: at C speed)
            for col in cols
            if got.get(col) is None
        ]
        if unread:
            shown = ", ".join(unread[:10]) + (" …" if len(unread) > 10 else "")
            out.append(
                _f(
                    "complete",
                    "error",
                    f"{table}: {len(unread)} cell(s) unread: {shown}",
                    table=table,
                    actual=len(unread),
                )
            )
    return out


def _column_vectors(apps: TableValues) -> dict[str, list[int | float | None]]:
    """Each row of table 三 as a list of arithmetic values in APPLICANT_COLUMNS order."""
    return {  # (_num inlined: this runs for every cell)
        row: [0 if isinstance(v, str) else v for v in map(cells.get, APPLICANT_COLUMNS)]
        for row, cells in apps.items()
    }


def _check_h1_h2(apps: TableValues, variant: str) -> list[Finding]:
    out = []
    vec = _column_vectors(apps)
    none7: list[int | float | None] = [None] * 7
    a_row, b_row = vec.get("new_received", none7), vec.get("carried_over", none7)
    t_row, f_row = vec.get("total_processed", none7), vec.get("carried_forward", none7)
    outcome_rows = [vec.get(k, none7) for k in OUTCOME_ROWS[variant]]
    for ci, col in enumerate(APPLICANT_COLUMNS):
        a, b, t, f = a_row[ci], b_row[ci], t_row[ci], f_row[ci]
        if a is not None and b is not None and t is not None and f is not None and a + b != t + f:
            out.append(
                _f(
                    "H1",
                    "error",
                    f"H1 fails for {APPLICANT_COLUMN_LABELS[col]}: 一+二 = {a}+{b} = {a + b} but "
                    f"（七）总计+四 = {t}+{f} = {t + f}",
                    table="applications",
                    column=col,
                    expected=a + b,
                    actual=t + f,
                )
            )
        parts = [r[ci] for r in outcome_rows]
        if t is not None and None not in parts:
            s = sum(p for p in parts if p is not None)
            if s != t:
                out.append(
                    _f(
                        "H2",
                        "error",
                        f"H2 fails for {APPLICANT_COLUMN_LABELS[col]}: the outcome rows sum to {s} "
                        f"but （七）总计 is {t}",
                        table="applications",
                        row="total_processed",
                        column=col,
                        expected=s,
                        actual=t,
                    )
                )
    return out


def _sum_rule(check: str, table: str, values: TableValues, cols: tuple[str, ...], what: str) -> list[Finding]:
    """Rows whose last column must equal the sum of the others (H3 per row, H4 per group)."""
    out = []
    for row, cells in values.items():
        vals = [0 if isinstance(v, str) else v for v in map(cells.get, cols)]  # (_num, inlined)
        if None in vals:
            continue
        s = sum(v for v in vals[:-1] if v is not None)
        if s != vals[-1]:
            out.append(
                _f(
                    check,
                    "error",
                    f"{check} fails for {row}: {what} = {s} but 总计 is {vals[-1]}",
                    table=table,
                    row=row,
                    column=cols[-1],
                    expected=s,
                    actual=vals[-1],
                )
            )
    return out


def _check_h3(apps: TableValues) -> list[Finding]:
    return _sum_rule("H3", "applications", apps, APPLICANT_COLUMNS, "the six applicant columns sum")


def _check_h4(rev: TableValues) -> list[Finding]:
    groups = {g: rev.get(g, {}) for g in REVIEW_GROUPS}
    return _sum_rule("H4", "review_litigation", groups, REVIEW_COLUMNS, "维持+纠正+其他+尚未审结")


_DECIMAL_COLS: Final = {"amount_wan_yuan", "amount"}
_SIGNED_COLS: Final = {"change"}


def _check_h5(inp: VerifyInput) -> list[Finding]:
    out = []
    for table, rows in inp.tables.items():
        for row, cols in rows.items():
            for col, v in cols.items():
                if type(v) is int and v >= 0:  # the common case: in every domain
                    continue
                if col == "amount_text" or v is None or isinstance(v, str):
                    continue
                bad = ""
                if col not in _SIGNED_COLS and v < 0:
                    bad = "is negative"
                elif col not in _DECIMAL_COLS and not float(v).is_integer():
                    bad = "is not a whole number"
                if bad:
                    out.append(
                        _f(
                            "H5",
                            "error",
                            f"{table}.{row}.{col} = {v} {bad}",
                            table=table,
                            row=row,
                            column=col,
                            actual=v,
                        )
                    )
    return out


def _grounding_text(source: str) -> str:
    return "".join(source.split()).replace(",", "")  # (str.split's whitespace is the regex \s)


def _printed_forms(v: int | float) -> list[str]:
    if isinstance(v, int) or float(v).is_integer():
        return [str(abs(int(v)))]
    r = repr(abs(float(v)))
    return [r, r.rstrip("0").rstrip(".")]


def _check_grounding(inp: VerifyInput) -> list[Finding]:
    """Every non-zero number occurs in the table's text. A cell with evidence is checked more
    strictly by the positional check (its span must hold exactly that number), so only cells
    without evidence, or every cell when there is no source text to check spans in, are here."""
    out = []
    for table, rows in inp.tables.items():
        src = inp.sources.get(table)
        if src is None:
            continue
        placed = inp.evidence.get(table, {}) if inp.text is not None else {}
        if placed and all(
            set(placed.get(r, ())) >= {c for c in cols if c != "amount_text"} for r, cols in rows.items()
        ):
            continue  # every cell is placed: the positional check covers grounding
        ground = _grounding_text(src)
        for row, cols in rows.items():
            for col, v in cols.items():
                if col in placed.get(row, {}):
                    continue
                if col == "amount" and isinstance(cols.get("amount_text"), str):
                    text = str(cols["amount_text"])
                    if text and _grounding_text(text) not in ground:
                        out.append(_ungrounded(table, row, col, text))
                    continue
                if col == "amount_text" or v is None or isinstance(v, str) or v == 0:
                    continue
                if not any(form in ground for form in _printed_forms(v)):
                    out.append(_ungrounded(table, row, col, v))
    return out


def _ungrounded(table: str, row: str, col: str, v: object) -> Finding:
    return _f(
        "grounding",
        "error",
        f"{table}.{row}.{col} = {v} does not occur in the table's source text",
        table=table,
        row=row,
        column=col,
        actual=v,
    )


#: Checks that test the report's own arithmetic. Failing one means the source contradicts
#: itself, which is a finding about the report, not about the reading.
IDENTITY_CHECKS: Final = frozenset({"H1", "H2", "H3", "H4"})


def status_of(findings: list[Finding]) -> Status:
    """verified / source_inconsistent / needs_review from the findings of a readable report.

    Decided by what each check means, never by its name: an identity failure (H1–H4) makes a
    faithfully read report ``source_inconsistent``; any other error — a value outside its domain
    (H5), an unread, ungrounded or ambiguous cell, a missing label or table — means the reading
    itself is in doubt, so the report needs review even when identities fail too.
    """
    errors = [f for f in findings if f.severity == "error"]
    if any(f.check not in IDENTITY_CHECKS for f in errors):
        return "needs_review"
    if errors:
        return "source_inconsistent"
    return "verified"
