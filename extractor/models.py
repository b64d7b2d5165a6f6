"""Pydantic models of the output record (one JSON object per report), its findings and the
LLM path's usage (``meta.llm_usage``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: ``reviewed``: read by a person (``meta.reviews``: who, when, what and why), every check passing.
Status = Literal[
    "verified", "source_inconsistent", "needs_review", "unsupported_template", "error", "reviewed"
]
Severity = Literal["error", "warning", "info"]
Method = Literal["rules", "llm", "rules+llm", "none"]

#: A cell: a number as printed; a marker string kept as printed ("/", "-", "—", "无"); or
#: ``None`` when it could not be read (never silently zero).
CellValue = int | float | str | None
RowValues = dict[str, CellValue]
TableValues = dict[str, RowValues]

STATUSES: tuple[Status, ...] = (
    "verified",
    "source_inconsistent",
    "needs_review",
    "unsupported_template",
    "error",
    "reviewed",
)


class Finding(BaseModel):
    """One observation of the pipeline about one report.

    ``severity``: ``error`` blocks ``verified`` (an unread, ambiguous or ungrounded value, or a
    missing label); ``warning`` is a soft check or a report-level problem that does not block on
    its own; ``info`` documents how something was read (e.g. how run-together digits were split).
    Identity failures (H1–H4) have ``severity="error"`` and ``check`` starting with ``H``.
    """

    model_config = ConfigDict(extra="forbid")

    check: str
    severity: Severity
    table: str | None = None
    row: str | None = None
    column: str | None = None
    expected: Any = None
    actual: Any = None
    message: str


def finding(
    check: str,
    severity: Severity,
    message: str,
    *,
    table: str | None = None,
    row: str | None = None,
    column: str | None = None,
    expected: Any = None,
    actual: Any = None,
) -> Finding:
    """The one typed way to make a :class:`Finding` (the stages' helpers all call it)."""
    return Finding(
        check=check,
        severity=severity,
        table=table,
        row=row,
        column=column,
        expected=expected,
        actual=actual,
        message=message,
    )


class Record(BaseModel):
    """The JSONL record for one input file."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str | None = None
    agency: str | None = None
    year: int | None = None
    template: str | None = None
    status: Status
    method: Method = "rules"
    table_methods: dict[str, str] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    tables: dict[str, TableValues] = Field(default_factory=dict)
    #: table → row → column → [start, end): where each read value is printed, as offsets into
    #: the source text (``extractor.pipeline.source_text``); a blank read as 0 spans its slot.
    evidence: dict[str, dict[str, dict[str, list[int]]]] = Field(default_factory=dict)
    #: How a cell was tied when not by the plain ordinal after its row label:
    #: "grid", "cut", "blank", "block" (labels printed before their numbers) or "llm".
    evidence_method: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    extractor_version: str = ""

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=False)


@dataclass(frozen=True)
class Tokens:
    """The token counts an endpoint reported for one answer (0 where it reported none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMUsage(BaseModel):
    """What the LLM path spent on one report; kept in the record as ``meta.llm_usage``."""

    model: str | None = None
    #: The prompt file's ``version``.
    prompt: str | None = None
    #: HTTP requests sent (a refused structured-output mode and every retry count; 0 from the cache).
    calls: int = 0
    #: Answers served from the answer cache.
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: The tables routed to the model, in table order.
    tables_sent: list[str] = Field(default_factory=list)
    #: table → answers asked for (1 + re-asks).
    attempts: dict[str, int] = Field(default_factory=dict)
    #: table → the structured-output mode of its last answer.
    modes: dict[str, str] = Field(default_factory=dict)
    #: In the price currency; absent from the record when no price is configured.
    cost: float | None = None

    def add(self, tokens: Tokens) -> None:
        self.prompt_tokens += tokens.prompt_tokens
        self.completion_tokens += tokens.completion_tokens

    def to_meta(self) -> dict[str, Any]:
        """The JSON object kept in ``meta.llm_usage`` (``cost`` only when priced)."""
        return self.model_dump(exclude={"cost"} if self.cost is None else None)

    def numbers(self) -> dict[str, float]:
        """The summable figures (what a job's progress adds up over its records)."""
        out: dict[str, float] = {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }
        if self.cost is not None:
            out["cost"] = self.cost
        return out
