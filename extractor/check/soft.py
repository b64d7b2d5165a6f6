"""Soft checks (warnings, never a failure alone): S3–S5 within a report, S1 and S6 across the
reports of one body. Pure, like :mod:`extractor.check.verify`: no I/O, no LLM or cache imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from extractor.models import Finding, TableValues, finding
from extractor.spec import APPLICANT_COLUMN_LABELS, APPLICANT_COLUMNS, TABLE_KEYS

_f = finding  # (check, severity, message, *, table, row, column, expected, actual)


_S4_PATTERNS: Final = (
    (
        re.compile(
            r"(?:共|全年|累计)?(?:新)?收到(?:各类)?(?:政府信息公开|信息公开|依申请公开)?申请(?:共)?(\d+)(?:件|个|条)"
        ),
        "applications",
        "new_received",
        "total",
        "收到",
    ),
    (re.compile(r"行政复议(?:案件)?(?:共)?(\d+)件"), "review_litigation", "review", "total", ""),
)
#: The longest optional text a pattern prints before its ``core`` literal (全年新, 累计新).
_MAX_PREFIX: Final = 3


def _first_match(rx: re.Pattern[str], core: str, text: str) -> re.Match[str] | None:
    """``rx.search(text)``, found faster: a pattern opening with optional words has no literal
    prefix for the regex engine to scan for, so scan for its ``core`` literal (which every match
    holds right after at most ``_MAX_PREFIX`` optional characters, none of them the core's
    first) and try the pattern at the few starts before it, leftmost first."""
    if not core:
        return rx.search(text)
    i = text.find(core)
    while i >= 0:
        for p in range(max(0, i - _MAX_PREFIX), i + 1):
            m = rx.match(text, p)
            if m is not None:
                return m
        i = text.find(core, i + 1)
    return None


def soft_checks(tables: Mapping[str, TableValues], prose: str, meta: Mapping[str, object]) -> list[Finding]:
    """S3–S5 on one report: warnings only, they never fail a report alone."""
    act = tables.get("active_disclosure", {})
    return [*_s3(act, meta), *_s4(tables, prose), *_s5(act)]


def _s3(act: TableValues, meta: Mapping[str, object]) -> list[Finding]:
    """S3: 规章 made by a body that cannot make them."""
    regs = act.get("regulations", {})
    if not any(isinstance(v, (int, float)) and v > 0 for k, v in regs.items() if k in ("issued", "new_made")):
        return []
    kind, level = meta.get("kind"), meta.get("level")
    if kind != "department" and level not in ("县", "乡镇街道"):
        return []
    msg = f"规章 is non-zero for a body that cannot make 规章 (level {level}, {kind})"
    return [_f("S3", "warning", msg, table="active_disclosure", row="regulations")]


def _s4(tables: Mapping[str, TableValues], prose: str) -> list[Finding]:
    """S4: a count the prose states differs from the table's cell (the first mention)."""
    out: list[Finding] = []
    prose = "".join(prose.split())  # (str.split's whitespace is the regex \s; no copy when none)
    for rx, table, row, col, core in _S4_PATTERNS:
        cell = tables.get(table, {}).get(row, {}).get(col)
        if not isinstance(cell, (int, float)):
            continue
        m = _first_match(rx, core, prose)
        if m is None or int(m.group(1)) == cell:
            continue
        s = max(0, m.start() - 10)
        msg = f"the text says '{prose[s : m.end()]}' but {table}.{row}.{col} is {cell}"
        out.append(
            _f("S4", "warning", msg, table=table, row=row, column=col, expected=int(m.group(1)), actual=cell)
        )
    return out


def _s5(act: TableValues) -> list[Finding]:
    """S5: fees implausibly large for 万元."""
    amount = act.get("fees", {}).get("amount_wan_yuan")
    if not (isinstance(amount, (int, float)) and amount > 1_000_000):
        return []
    msg = f"fees of {amount} 万元 is implausibly large; is the cell in 元?"
    return [
        _f(
            "S5",
            "warning",
            msg,
            table="active_disclosure",
            row="fees",
            column="amount_wan_yuan",
            actual=amount,
        )
    ]


# ------------------------------------------------------------------ across reports (S1, S6)
@dataclass(frozen=True)
class YearTables:
    """What the cross-report checks need of one record."""

    path: str
    agency: str
    year: int
    tables: Mapping[str, TableValues]


def cross_checks(reports: list[YearTables]) -> dict[str, list[Finding]]:
    """S1 and S6 between consecutive years of one body; findings keyed by the later report's path.

    S1: this year's 上年结转 (carried_over) should equal last year's 结转下年度 (carried_forward).
    S6: identical non-zero tables in consecutive years suggest a copied report.
    """
    out: dict[str, list[Finding]] = {}
    by_body: dict[str, dict[int, YearTables]] = {}
    for r in reports:
        by_body.setdefault(r.agency, {})[r.year] = r
    for years in by_body.values():
        for year, cur in sorted(years.items()):
            prev = years.get(year - 1)
            found = [] if prev is None else [*_s1(prev, cur), *_s6(prev, cur)]
            if found:
                out[cur.path] = found
    return out


def _s1(prev: YearTables, cur: YearTables) -> list[Finding]:
    """S1: this year's 上年结转 against last year's 结转下年度, per applicant column."""
    out = []
    before = prev.tables.get("applications", {}).get("carried_forward", {})
    now = cur.tables.get("applications", {}).get("carried_over", {})
    for col in APPLICANT_COLUMNS:
        a, b = before.get(col), now.get(col)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a != b:
            msg = (
                f"{APPLICANT_COLUMN_LABELS[col]}: 上年结转 {b} in {cur.year}, but {prev.path} "
                f"({prev.year}) carried {a} forward"
            )
            out.append(
                _f(
                    "S1",
                    "warning",
                    msg,
                    table="applications",
                    row="carried_over",
                    column=col,
                    expected=a,
                    actual=b,
                )
            )
    return out


def _s6(prev: YearTables, cur: YearTables) -> list[Finding]:
    """S6: a non-zero table identical to last year's (a copied report?)."""
    out = []
    for table in TABLE_KEYS:
        t0, t1 = prev.tables.get(table), cur.tables.get(table)
        nonzero = any(
            isinstance(v, (int, float)) and v != 0 for row in (t1 or {}).values() for v in row.values()
        )
        if t0 and t1 and t0 == t1 and nonzero:
            msg = f"{table} is identical to {prev.path} ({prev.year}): a copied report?"
            out.append(_f("S6", "warning", msg, table=table))
    return out
