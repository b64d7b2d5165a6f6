"""The output record (one JSON object per report), its findings and the LLM path's usage
(``meta.llm_usage``).

Plain dataclasses: building and writing a record never imports pydantic (a third of a one-file
run's start-up). ``to_json`` writes the same bytes pydantic's ``model_dump_json`` wrote when these
were pydantic models: compact, UTF-8, NaN/infinity as ``null``; the few values the standard
encoder writes otherwise (a float below 1e-4, a set, a path…) are written by pydantic itself.
Reading a record back — ``from_dict``/``from_json`` — validates it with pydantic (loaded then),
types and unknown keys as before: what a saved file or a request holds is not trusted.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar

if TYPE_CHECKING:
    from pydantic import ConfigDict, TypeAdapter

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

_T = TypeVar("_T")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
#: Python writes a float below 1e-4 as ``1e-05``, pydantic as ``0.00001`` (a string that merely
#: looks like one only costs the slower, still identical, pydantic path).
_SMALL_FLOAT = re.compile(r"[0-9]e-[0-9]")


_ADAPTERS: dict[type, Any] = {}


def _adapter(cls: type[_T]) -> TypeAdapter[_T]:
    """pydantic's validator and serialiser of ``cls`` (pydantic loads here, on first use)."""
    adapter: TypeAdapter[_T] | None = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


class _Rust:
    """pydantic-core's encoder, once a process writes more than one object: about 4 times the
    standard encoder's speed on a record, for a 20 ms import a one-file run does not pay."""

    encode: Any = None
    calls = 0


def _to_json(value: Any, obj: Any) -> str:
    """``value`` (``obj`` as plain dicts and lists) as compact JSON, exactly as pydantic writes ``obj``."""
    if _Rust.encode is None:
        _Rust.calls += 1
        if _Rust.calls > 1:
            from pydantic_core import to_json

            _Rust.encode = to_json
    if _Rust.encode is not None:
        try:
            text: str = _Rust.encode(value, inf_nan_mode="null").decode()
        except Exception:  # a type pydantic-core has no form for: pydantic's own serialiser says
            return _adapter(type(obj)).dump_json(obj).decode()
        return text
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError):  # NaN or infinity, or a type JSON has no form for
        return _adapter(type(obj)).dump_json(obj).decode()
    if "e-" in text and _SMALL_FLOAT.search(text):
        return _adapter(type(obj)).dump_json(obj).decode()
    return text


class _Json(ABC):
    """Reading (validated) and writing of the dataclasses below."""

    __slots__ = ()

    @abstractmethod
    def _plain(self) -> dict[str, Any]:
        """The object as plain dicts and lists, in the field order pydantic writes."""

    def to_json(self) -> str:
        """The JSON object, compact (the JSONL line of a record)."""
        return _to_json(self._plain(), self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as Python values (a fresh copy: lists, dicts, str, numbers, None)."""
        value: dict[str, Any] = json.loads(self.to_json())
        return value

    @classmethod
    def from_dict(cls, obj: Any) -> Self:
        """Validated: a wrong type or an unknown key raises pydantic's ``ValidationError``."""
        return _adapter(cls).validate_python(obj)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """:meth:`from_dict` of a JSON text."""
        return _adapter(cls).validate_json(text)


@dataclass(slots=True, kw_only=True)
class Finding(_Json):
    """One observation of the pipeline about one report.

    ``severity``: ``error`` blocks ``verified`` (an unread, ambiguous or ungrounded value, or a
    missing label); ``warning`` is a soft check or a report-level problem that does not block on
    its own; ``info`` documents how something was read (e.g. how run-together digits were split).
    Identity failures (H1–H4) have ``severity="error"`` and ``check`` starting with ``H``.
    """

    __pydantic_config__: ClassVar[ConfigDict] = {"extra": "forbid"}

    check: str
    severity: Severity
    table: str | None = None
    row: str | None = None
    column: str | None = None
    expected: Any = None
    actual: Any = None
    message: str

    def _plain(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


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


@dataclass(slots=True, kw_only=True)
class Record(_Json):
    """The JSONL record for one input file."""

    __pydantic_config__: ClassVar[ConfigDict] = {"extra": "forbid"}

    path: str
    sha256: str | None = None
    agency: str | None = None
    year: int | None = None
    template: str | None = None
    status: Status
    method: Method = "rules"
    table_methods: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, TableValues] = field(default_factory=dict)
    #: table → row → column → [start, end): where each read value is printed, as offsets into
    #: the source text (``extractor.pipeline.source_text``); a blank read as 0 spans its slot.
    evidence: dict[str, dict[str, dict[str, list[int]]]] = field(default_factory=dict)
    #: How a cell was tied when not by the plain ordinal after its row label:
    #: "grid", "cut", "blank", "block" (labels printed before their numbers) or "llm".
    evidence_method: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    extractor_version: str = ""

    def _plain(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "status": self.status,
            "method": self.method,
            "table_methods": self.table_methods,
            "findings": [f._plain() for f in self.findings],
            "tables": self.tables,
            "evidence": self.evidence,
            "evidence_method": self.evidence_method,
            "meta": self.meta,
            "error": self.error,
            "extractor_version": self.extractor_version,
        }


@dataclass(frozen=True)
class Tokens:
    """The token counts an endpoint reported for one answer (0 where it reported none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True, kw_only=True)
class LLMUsage(_Json):
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
    tables_sent: list[str] = field(default_factory=list)
    #: table → answers asked for (1 + re-asks).
    attempts: dict[str, int] = field(default_factory=dict)
    #: table → the structured-output mode of its last answer.
    modes: dict[str, str] = field(default_factory=dict)
    #: In the price currency; absent from the record when no price is configured.
    cost: float | None = None

    def _plain(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": self.prompt,
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tables_sent": list(self.tables_sent),
            "attempts": dict(self.attempts),
            "modes": dict(self.modes),
            "cost": self.cost,
        }

    def add(self, tokens: Tokens) -> None:
        self.prompt_tokens += tokens.prompt_tokens
        self.completion_tokens += tokens.completion_tokens

    def to_meta(self) -> dict[str, Any]:
        """The JSON object kept in ``meta.llm_usage`` (``cost`` only when priced)."""
        out = self._plain()
        if self.cost is None:
            del out["cost"]
        return out

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
