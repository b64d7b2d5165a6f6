"""A person's review of one record: confirm or correct cells, re-checked by the same verifier.

The corrected tables go through :func:`extractor.check.verify.verify` with the report's own
source text (so grounding, completeness and the identities H1–H5 are checked as for a machine
reading). A review is accepted only when no error finding remains: the record's status becomes
``reviewed``, ``meta.reviews`` lists who, when, why and which cells (with the machine's value),
and the machine reading (status, tables, findings) is kept in ``meta.history``.

Reading-stage findings (unread rows, ambiguous cuts, fuzzy labels…) are settled by the person:
a finding on a row (and column) is settled when the review covers a cell of that row (and
column); a finding on a whole table when the review covers cells of that table and no cell of it
is left unread.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from extractor.check.verify import VerifyInput, verify
from extractor.errors import ExtractorError
from extractor.models import Finding
from extractor.run.recheck import VERIFIER_CHECKS
from extractor.spec import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    application_variant,
)
from extractor.tables.locate import locate

MARKERS: Final = frozenset({"/", "-", "—", "无"})


class Cell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    row: str
    column: str
    value: int | float | str = Field(description="The value as printed: a number or a marker (/ - — 无).")


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    cells: list[Cell] = Field(min_length=1, max_length=1000)


class ReviewError(ExtractorError):
    """A review cannot be accepted; ``findings`` are the checks it fails (may be empty)."""

    def __init__(
        self, message: str, findings: list[Finding] | None = None, *, conflict: bool = False
    ) -> None:
        self.findings = findings or []
        self.conflict = conflict
        super().__init__(message)


@dataclass(frozen=True)
class Source:
    """The report's source text, when it is still available."""

    text: str | None


def known_cells(template: str, variant: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """Every (table, row) → columns the template defines."""
    active = {
        r.key: r.columns + (("amount_text",) if r.key == "procurement" else ()) for r in ACTIVE_ROWS[template]
    }
    return {
        "active_disclosure": active,
        "applications": {r.key: APPLICANT_COLUMNS for r in APPLICATION_ROWS[variant]},
        "review_litigation": dict.fromkeys(REVIEW_GROUPS, REVIEW_COLUMNS),
    }


def _validate(rec: dict[str, Any], req: ReviewRequest) -> None:
    if rec.get("status") in ("error", "unsupported_template") or rec.get("template") not in ACTIVE_ROWS:
        raise ReviewError(
            f"a {rec.get('status')} record has no tables of a known template to review", conflict=True
        )
    apps = (rec.get("tables") or {}).get("applications", {})
    cells = known_cells(str(rec["template"]), application_variant(apps))
    for c in req.cells:
        if c.column not in cells.get(c.table, {}).get(c.row, ()):
            raise ReviewError(f"no cell {c.table}/{c.row}/{c.column} in the {rec['template']} template")
        if isinstance(c.value, str) and c.value not in MARKERS and c.column != "amount_text":
            raise ReviewError(
                f"{c.table}/{c.row}/{c.column}: {c.value!r} is neither a number nor a marker / - — 无"
            )
        if isinstance(c.value, bool):
            raise ReviewError(
                f"{c.table}/{c.row}/{c.column}: a cell holds a number or a marker, not true/false"
            )


def _settled(f: Finding, req: ReviewRequest, tables: dict[str, Any]) -> bool:
    mine = [c for c in req.cells if c.table == f.table]
    if f.table is None or not mine:
        return False
    if f.row is not None:
        return any(c.row == f.row and (f.column is None or c.column == f.column) for c in mine)
    return all(v is not None for row in tables.get(f.table, {}).values() for v in row.values())


def apply_review(
    rec: dict[str, Any], req: ReviewRequest, source: Source, *, at: str | None = None
) -> dict[str, Any]:
    """The reviewed record, or :class:`ReviewError` with the findings that refuse it."""
    _validate(rec, req)
    tables = copy.deepcopy(rec.get("tables") or {})
    evidence = copy.deepcopy(rec.get("evidence") or {})
    methods = copy.deepcopy(rec.get("evidence_method") or {})
    changes = []
    for c in req.cells:
        machine = tables.get(c.table, {}).get(c.row, {}).get(c.column)
        tables.setdefault(c.table, {}).setdefault(c.row, {})[c.column] = c.value
        action = "confirm" if machine == c.value and type(machine) is type(c.value) else "correct"
        if action == "correct":  # the machine's span no longer holds this value: a person's word
            spans = evidence.get(c.table, {}).get(c.row, {})
            spans.pop(c.column, None)
            methods.setdefault(c.table, {}).setdefault(c.row, {})[c.column] = "human"
        changes.append({**c.model_dump(), "machine": machine, "action": action})
    old = [Finding.from_dict(f) for f in rec.get("findings") or []]
    kept = [
        f
        for f in old
        if f.check not in VERIFIER_CHECKS and f.check != "review" and not _settled(f, req, tables)
    ]
    sources: dict[str, str] = {}
    prose = ""
    if source.text is not None:
        located = locate(source.text)
        sources = {k: r.text(source.text) for k, r in located.regions.items() if k in tables}
        prose = located.prose
    fresh = verify(
        VerifyInput(template=rec["template"], tables=tables, sources=sources, prose=prose,
                    meta=rec.get("meta") or {})
    )  # fmt: skip
    errors = [f for f in kept + fresh if f.severity == "error"]
    if errors:
        raise ReviewError(f"the reviewed tables still fail {len(errors)} check(s)", errors)
    when = at or datetime.now(UTC).isoformat(timespec="seconds")
    review = {"reviewer": req.reviewer, "at": when, "reason": req.reason, "cells": changes}
    new = _reviewed(rec, tables, kept + fresh, review, grounded=source.text is not None)
    new["evidence"], new["evidence_method"] = evidence, methods
    return new


def _reviewed(
    rec: dict[str, Any],
    tables: dict[str, Any],
    findings: list[Finding],
    review: dict[str, Any],
    *,
    grounded: bool,
) -> dict[str, Any]:
    n_fix = sum(1 for c in review["cells"] if c["action"] == "correct")
    note = Finding(
        check="review",
        severity="info",
        message=f"reviewed by {review['reviewer']} at {review['at']}: {len(review['cells']) - n_fix} cell(s) "
        f"confirmed, {n_fix} corrected ({review['reason']})"
        + ("" if grounded else "; source text not available, grounding not re-checked"),
    )
    new = copy.deepcopy(rec)
    meta = new.setdefault("meta", {})
    previous = {k: rec.get(k) for k in ("status", "method", "table_methods", "tables", "findings")}
    meta["history"] = [*meta.get("history", []), {**previous, "replaced_at": review["at"]}]
    meta["reviews"] = [*meta.get("reviews", []), review]
    new["tables"] = tables
    new["findings"] = [f.to_dict() for f in [*findings, note]]
    new["status"] = "reviewed"
    return new
