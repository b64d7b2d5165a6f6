"""One model answer judged: the candidate read it makes, its ties to the source, every check.

:func:`judge` turns a parsed answer into a :class:`TableRead` over the same source text, aligns
it to the printed digits (:mod:`extractor.llm.align`) and runs :func:`check_answer`: the answer's
own checks (schema, labels, grounding, coverage, zeros) plus the shared verifier. What the router
makes of the failures (accept, keep as printed, re-ask, reject) is :mod:`extractor.llm.route`'s.
"""

from __future__ import annotations

from typing import Any

from extractor.check.verify import Anchors, VerifyInput, verify
from extractor.llm.align import align_answer, disagreements
from extractor.llm.schema import CanonRow, check_coverage, check_grounding, to_read
from extractor.models import Finding, TableValues, finding
from extractor.spec import TEXT_COLUMNS
from extractor.tables.rules import TableRead


def errors_of(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def check_answer(
    read: TableRead, template: str, sent: str, tied: list[Finding] | None = None
) -> list[Finding]:
    """All findings of a model reading of one table: its own checks (``tied``: how it aligned
    to the source, see :mod:`extractor.llm.align`) plus the shared verifier, evidence included."""
    t = read.key
    tied = tied or []
    own = tied + read.findings + check_grounding(read.values, sent, t) + check_coverage(read.values, sent, t)
    shared = verify(
        VerifyInput(
            template=template,
            tables={t: read.values},
            labels={t: {row: (h.match, h.printed) for row, h in read.labels.items()}},
            sources={t: read.source},
            application_variant=read.variant,
            text=read.source,
            evidence={t: read.evidence(base=0)},
            evidence_method={t: read.methods},
            anchors={
                t: Anchors(
                    (0, len(read.source)),
                    read.label_spans(base=0),
                    read.columns or (),
                    read.segment_spans(base=0),
                )
            },
        )
    )
    unaligned = {f.row for f in tied} | ({None} if any(f.row is None for f in tied) else set())
    return own + [
        f
        for f in shared
        if f.table == t and f.check != "missing_table" and not (f.check == "evidence" and _said(f, unaligned))
    ]


def _said(f: Finding, unaligned: set[str | None]) -> bool:
    """An evidence finding on a row whose misalignment is already reported (table 四: any)."""
    return None in unaligned or f.row in unaligned


def cells_of(values: TableValues, rows: tuple[CanonRow, ...]) -> list[object]:
    return [values.get(r.key, {}).get(c) for r in rows for c in r.columns]


def agree(a: TableValues, b: TableValues, rows: tuple[CanonRow, ...]) -> bool:
    ca, cb = cells_of(a, rows), cells_of(b, rows)
    return None not in ca and ca == cb


_ZEROS = (
    "the answer has no non-zero number, and zeros cannot be grounded in the text: an all-zero reading of "
    "a table the rule path could not read proves nothing (a broken table must not become verified zeros)"
)


def _has_nonzero(values: TableValues) -> bool:
    return any(
        isinstance(v, (int, float)) and v != 0
        for cols in values.values()
        for c, v in cols.items()
        if c not in TEXT_COLUMNS
    )


def judge(
    answer: Any,
    rows: tuple[CanonRow, ...],
    rule: TableRead,
    where: tuple[str, str, str | None, str],
    rule_clean: bool,
) -> tuple[TableRead, list[Finding]]:
    """A parsed answer as a candidate read, aligned to the source and checked: (it, its errors).

    ``where``: (table, template, table 三's variant, the text sent); ``rule_clean``: the rule read
    has no error, so an all-zero answer is not suspect."""
    t, template, variant, sent = where
    cand = to_read(answer, rows, t, rule.source, variant)
    tied = align_answer(answer, rows, cand, rule) + disagreements(cand, rule)
    found = check_answer(cand, template, sent, tied)
    if not rule_clean and not _has_nonzero(cand.values):
        found.append(finding("llm.zeros", "error", _ZEROS, table=t))
    return cand, errors_of(found)


__all__ = ["agree", "cells_of", "check_answer", "errors_of", "judge"]
