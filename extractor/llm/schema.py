"""What the model must answer for one table, and the model-specific checks of that answer.

One answer schema per table (and template variant), so only failing tables are sent. An answer
is ``{"rows": [{"label": <label as printed>, "values": [...]}, ...]}`` with exactly the
canonical rows in order. Besides the shared verifier, an answer must pass two checks of its own:

* **labels** — the echoed labels map, in order, onto the canonical labels;
* **grounding** — every non-zero number occurs in the text that was sent (inside one printed
  digit run; run-together cells are a digit run), and, the other way round, every non-zero
  digit run printed in that text is read by some cell or run of cells (*coverage*: an answer of
  invented zeros fails it).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)

from extractor.errors import ModelAnswerError
from extractor.models import CellValue, Finding, TableValues, finding
from extractor.read.normalise import fold_for_match, near_in, normalise_text
from extractor.spec import (
    ACTIVE_COLUMN_LABELS,
    ACTIVE_ROWS,
    APPLICANT_COLUMN_LABELS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    PRINTED_TEXT,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    TEXT_COLUMNS,
    PrintedText,
)
from extractor.tables.atoms import clean_segment
from extractor.tables.rules import LabelHit, TableRead
from extractor.tables.values import MARKERS, to_value

_REVIEW_PATTERNS: Final[dict[str, tuple[str, ...]]] = {
    "review": ("行政复议",),
    "litigation_direct": ("未经复议直接起诉", "直接起诉"),
    "litigation_after_review": ("复议后起诉",),
}
_DECIMAL_COLUMNS: Final = frozenset({"amount_wan_yuan", "amount"})


@dataclass(frozen=True)
class CanonRow:
    key: str
    label: str
    patterns: tuple[str, ...]
    columns: tuple[str, ...]
    column_labels: tuple[str, ...]
    printed: PrintedText | None = None


def row_template(template: str, variant: str | None) -> str:
    """The template whose rows a table is asked for: table 三's own variant (decided by its
    reader, carried as ``TableRead.variant``), else the report's template."""
    return variant or template


@functools.lru_cache(maxsize=16)
def canonical_rows(table: str, template: str, variant: str | None = None) -> tuple[CanonRow, ...]:
    """The rows the model must give for ``table``, in order."""
    if table == "active_disclosure":
        return tuple(
            CanonRow(
                r.key,
                r.label,
                r.patterns,
                r.columns,
                tuple(ACTIVE_COLUMN_LABELS[c] for c in r.columns),
                r.printed,
            )
            for r in ACTIVE_ROWS[template]
        )
    if table == "applications":
        labels = tuple(APPLICANT_COLUMN_LABELS[c] for c in APPLICANT_COLUMNS)
        return tuple(
            CanonRow(r.key, r.label, r.patterns, APPLICANT_COLUMNS, labels)
            for r in APPLICATION_ROWS[row_template(template, variant)]
        )
    if table == "review_litigation":
        labels = tuple(REVIEW_COLUMN_LABELS[c] for c in REVIEW_COLUMNS)
        return tuple(
            CanonRow(g, REVIEW_GROUP_LABELS[g], _REVIEW_PATTERNS[g], REVIEW_COLUMNS, labels)
            for g in REVIEW_GROUPS
        )
    raise ValueError(f"unknown table {table!r}")


# ------------------------------------------------------------------ answer models
Cell = StrictInt | StrictFloat | StrictStr | None


class AnswerRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="the row label copied from the table text as printed")
    values: list[Cell] = Field(min_length=1, max_length=7, description="the row's cells in column order")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[AnswerRow]


@functools.lru_cache(maxsize=16)
def answer_model(table: str, template: str, variant: str | None = None) -> type[Answer]:
    """The pydantic model of an answer for one table: exactly the canonical number of rows."""
    n = len(canonical_rows(table, template, variant))
    rows_of = row_template(template, variant)
    name = f"{table}_{rows_of}"
    rows_type = Annotated[list[AnswerRow], Field(min_length=n, max_length=n)]
    model: type[Answer] = create_model(name, __base__=Answer, rows=(rows_type, ...))
    model.__doc__ = f"The rows of {table} (template {rows_of}), in order."
    return model


def schema_of(model: type[Answer]) -> dict[str, Any]:
    """The JSON Schema sent to the model: structure only. Titles, descriptions and
    ``additionalProperties`` cost tokens and add nothing the answer model does not enforce on
    parsing (it forbids extra keys itself)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    out: dict[str, Any] = _strip_docs(_inline_refs(schema, defs))
    return out


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace ``{"$ref": "#/$defs/X"}`` by the definition (the answer schemas are not recursive)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inline_refs(defs[ref.rsplit("/", 1)[-1]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _strip_docs(node: Any, in_properties: bool = False) -> Any:
    if isinstance(node, dict) and not in_properties and set(node) == {"anyOf"}:
        types = [b.get("type") for b in node["anyOf"] if isinstance(b, dict)]
        if all(isinstance(t, str) for t in types) and len(types) == len(node["anyOf"]):
            return {"type": types}  # the same constraint, spelled shorter
    if isinstance(node, dict):
        return {
            k: _strip_docs(v, k == "properties")
            for k, v in node.items()
            if in_properties or k not in ("title", "description", "additionalProperties")
        }
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


def schema_json(model: type[Answer]) -> str:
    return json.dumps(schema_of(model), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_FENCE: Final = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def parse_answer(raw: str, model: type[Answer]) -> Answer:
    """Raw model text → answer. Raises :class:`ModelAnswerError` saying what is wrong."""
    text = raw.strip()
    m = _FENCE.match(text)
    if m:
        text = m.group(1)
    if not text:
        raise ModelAnswerError("the answer is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = "truncated" if exc.pos >= len(text) - 1 else f"malformed at character {exc.pos}"
        raise ModelAnswerError(f"the answer is not valid JSON ({where}: {exc.msg})") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:8]
        )
        raise ModelAnswerError(f"the answer does not match the schema: {problems}") from exc


# ------------------------------------------------------------------ labels
def label_match(echo: str, row: CanonRow) -> str | None:
    """ "exact" | "fuzzy" | None: does an echoed label name this canonical row?"""
    e = fold_for_match(normalise_text(echo))
    if not e:
        return None
    if fold_for_match(row.patterns[0]) in e:
        return "exact"
    if any(fold_for_match(p) in e for p in row.patterns[1:]):
        return "fuzzy"
    if len(e) >= 4 and e in fold_for_match(row.label):
        return "fuzzy"
    if any(near_in(fold_for_match(p), e) for p in row.patterns):  # a misprint copied as printed
        return "fuzzy"
    return None


def check_labels(
    answer: Answer, rows: tuple[CanonRow, ...], table: str
) -> tuple[dict[str, LabelHit], list[Finding]]:
    hits: dict[str, LabelHit] = {}
    findings: list[Finding] = []
    for i, (got, row) in enumerate(zip(answer.rows, rows, strict=True)):
        kind = label_match(got.label, row)
        if kind is not None:
            hits[row.key] = LabelHit(row.key, kind, got.label)
            continue
        hits[row.key] = LabelHit(row.key, "missing", got.label)
        other = next((r for r in rows if r is not row and label_match(got.label, r)), None)
        where = f"row {i + 1} of the answer"
        msg = (
            f"{where} echoes '{got.label}', the label of {other.key} ('{other.label}'), where "
            f"'{row.label}' belongs: rows out of order"
            if other is not None
            else f"{where} echoes '{got.label}', which is not the label '{row.label}'"
        )
        findings.append(finding("llm.label", "error", msg, table=table, row=row.key, actual=got.label))
    return hits, findings


# ------------------------------------------------------------------ values
def _cell(v: Cell, col: str, money_yuan: bool) -> tuple[CellValue, str | None]:
    """An answered cell → (value, amount text or None). Raises ValueError for nonsense."""
    if v is None:
        return None, None
    if isinstance(v, str):
        t = normalise_text(v).strip()
        if t in MARKERS:
            return t, None
        parsed = to_value(t, money_yuan=money_yuan)
        if parsed is None or isinstance(parsed, str):
            raise ValueError(f"'{v}' is not a number")
        return parsed, t if money_yuan else None
    if isinstance(v, float) and v.is_integer() and col not in _DECIMAL_COLUMNS:
        return int(v), None
    return v, (str(v) if money_yuan else None)


def to_read(
    answer: Answer, rows: tuple[CanonRow, ...], table: str, source: str, variant: str | None
) -> TableRead:
    """An answer → a :class:`TableRead` over the same source, with the answer's own findings."""
    labels, findings = check_labels(answer, rows, table)
    values: TableValues = {}
    for got, row in zip(answer.rows, rows, strict=True):
        out: dict[str, CellValue] = dict.fromkeys(row.columns)
        if len(got.values) != len(row.columns):
            findings.append(
                finding(
                    "llm.shape",
                    "error",
                    f"row {row.key} ('{row.label}') has {len(got.values)} values; "
                    f"{len(row.columns)} are expected ({', '.join(row.column_labels)})",
                    table=table,
                    row=row.key,
                    expected=len(row.columns),
                    actual=len(got.values),
                )
            )
        else:
            for col, v in zip(row.columns, got.values, strict=True):
                printed = row.printed if row.printed is not None and col == row.printed.number else None
                try:
                    value, text = _cell(v, col, printed is not None)
                except ValueError as exc:
                    findings.append(
                        finding(
                            "llm.value",
                            "error",
                            f"{row.key}.{col}: {exc}",
                            table=table,
                            row=row.key,
                            column=col,
                            actual=v,
                        )
                    )
                    continue
                out[col] = value
                if printed is not None:
                    out[printed.text] = text
        values[row.key] = out
    return TableRead(table, values, labels, source, findings, True, variant)


# ------------------------------------------------------------------ grounding
_RUN: Final = re.compile(r"\d+(?:\.\d+)?")
#: A sub-item ordinal ("2." before 其他法律…), also when glued to the previous row's digits.
_ORDINAL: Final = re.compile(r"[1-9][.,、，．](?=[ \t]*[\u3400-\u9fff])")


def digit_runs(text: str) -> list[str]:
    """The printed digit runs of a table text, with the rule path's noise and ordinals removed."""
    return _RUN.findall(_ORDINAL.sub(" ", clean_segment(normalise_text(text))))


def _digits(run: str) -> str:
    if "." in run:
        whole, frac = run.split(".", 1)
        run = whole + frac.rstrip("0")
    return run


def _printed(cols: dict[str, CellValue], col: str) -> CellValue:
    """The text a number column's cell was printed as, when the record keeps it (else None)."""
    return cols.get(PRINTED_TEXT[col]) if col in PRINTED_TEXT else None


def _forms(v: CellValue, text: object) -> list[str]:
    if isinstance(text, str) and text:
        return [m.group() for m in _RUN.finditer(normalise_text(text))][:1]
    if v is None or isinstance(v, str):
        return []
    if isinstance(v, int) or float(v).is_integer():
        return [str(abs(int(v)))]
    r = repr(abs(float(v)))
    return [r, r.rstrip("0").rstrip(".")]


def check_grounding(values: TableValues, sent: str, table: str) -> list[Finding]:
    """Every non-zero number answered occurs within one digit run of the text sent."""
    runs = digit_runs(sent)
    out: list[Finding] = []
    for row, cols in values.items():
        for col, v in cols.items():
            if col in TEXT_COLUMNS or v is None or isinstance(v, str) or v == 0:
                continue
            forms = _forms(v, _printed(cols, col))
            if not any(f in r for f in forms for r in runs):
                out.append(
                    finding(
                        "llm.grounding",
                        "error",
                        f"{table}.{row}.{col} = {v} does not occur in the text sent to the model",
                        table=table,
                        row=row,
                        column=col,
                        actual=v,
                    )
                )
    return out


def check_coverage(values: TableValues, sent: str, table: str) -> list[Finding]:
    """Every non-zero digit run printed in the text is read by some cell or run of cells."""
    seq = ""
    for cols in values.values():
        for col, v in cols.items():
            if col in TEXT_COLUMNS:
                continue
            for f in _forms(v, _printed(cols, col))[:1]:
                seq += _digits(f)
    out: list[Finding] = []
    for run in digit_runs(sent):
        d = _digits(run)
        if d.strip("0") and d not in seq:
            out.append(
                finding(
                    "llm.coverage",
                    "error",
                    f"the text prints {run} but no cell of the answer reads it",
                    table=table,
                    actual=run,
                )
            )
    return out
