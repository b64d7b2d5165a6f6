"""Versioned prompts (``prompts/*.toml``), loaded through a strict model, rendered per table.

Only the located table text (``TableRead.source``) is ever put into a prompt, never the whole
report. The prompt file's SHA-256 is part of every cache key, so editing a prompt invalidates
the cached answers made with it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from string import Template
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from extractor.errors import PromptError
from extractor.llm.schema import (
    Answer,
    AnswerRow,
    CanonRow,
    answer_model,
    canonical_rows,
    row_template,
    schema_json,
)
from extractor.read.normalise import SPAN
from extractor.spec import TableKey, TemplateId

Message = dict[str, str]


class TablePrompt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    instructions: str


class Example(BaseModel):
    """A worked example: a table's text and the correct answer (a JSON string).

    ``excerpt``: the example is a few rows cut from a seed's table (its answer holds just those
    rows), shown through ``example_template`` — it teaches the format at a fraction of the tokens.
    """

    model_config = ConfigDict(extra="forbid")

    seed: str
    template: TemplateId
    text: str
    answer: str
    excerpt: bool = False


class _Excerpt(BaseModel):
    """The shape of an excerpt example's answer: some rows, each a label and its values."""

    model_config = ConfigDict(extra="forbid")

    rows: list[AnswerRow]


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    description: str
    system: str
    user_template: str
    reask_template: str
    json_instruction: str
    example_template: str | None = None
    tables: dict[TableKey, TablePrompt]
    examples: dict[TableKey, Example]


class Prompt:
    """A loaded prompt file plus its content hash."""

    def __init__(self, spec: PromptFile, sha256: str, path: str) -> None:
        self.spec = spec
        self.sha256 = sha256
        self.path = path

    @property
    def version(self) -> str:
        return self.spec.version

    def messages(
        self, table: str, template: str, variant: str | None, text: str, *, schema_in_prompt: bool
    ) -> list[Message]:
        """System + worked example + the request for ``table`` over ``text`` (the table region)."""
        system = self.spec.system
        model = answer_model(table, template, variant)
        if schema_in_prompt:
            schema = schema_json(model)
            system += "\n\n" + Template(self.spec.json_instruction).substitute(schema=schema)
        out: list[Message] = [{"role": "system", "content": system}]
        ex = self.spec.examples.get(table)  # type: ignore[call-overload]
        if ex is not None and ex.excerpt and self.spec.example_template:
            shown = Template(self.spec.example_template).substitute(
                table_title=self.spec.tables[table].title,  # type: ignore[index]
                seed=ex.seed,
                text=ex.text.strip(),
            )
            out.append({"role": "user", "content": shown})
            out.append({"role": "assistant", "content": ex.answer})
        elif ex is not None and (table != "applications" or row_template(template, variant) == ex.template):
            ex_variant = ex.template if table == "applications" else None
            out.append({"role": "user", "content": self._user(table, ex.template, ex_variant, ex.text)})
            out.append({"role": "assistant", "content": ex.answer})
        out.append({"role": "user", "content": self._user(table, template, variant, text)})
        return out

    def _user(self, table: str, template: str, variant: str | None, text: str) -> str:
        tp = self.spec.tables[table]  # type: ignore[index]
        rows = canonical_rows(table, template, variant)
        # Columns are listed per row only where rows differ (table 二); else the instructions say them.
        shared = len({tuple(r.column_labels) for r in rows}) == 1
        return Template(self.spec.user_template).substitute(
            table_key=table,
            table_title=tp.title,
            template=row_template(template, variant),
            instructions=tp.instructions,
            n_rows=len(rows),
            row_spec=_row_spec(rows, shared),
            text=compact_table_text(text),
        )

    def reask(self, problems: list[str], rows: list[str], n_rows: int) -> Message:
        shown = "rows " + "; ".join(rows) if rows else "the whole table"
        return {
            "role": "user",
            "content": Template(self.spec.reask_template).substitute(
                problems="\n".join(f"- {p}" for p in problems), rows=shown, n_rows=n_rows
            ),
        }


_MD_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|?)+[ \t]*$", re.M)
_AROUND_SEP = re.compile(r"[ \t]*([|\t])[ \t]*")
_SPACES = re.compile(r"[ \u3000]{2,}")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def compact_table_text(text: str) -> str:
    """The table text as sent to a model: same characters and cell boundaries, fewer tokens
    (markdown rule lines, span markers, padding around separators and blank lines dropped)."""
    text = _MD_RULE.sub("", text.replace(SPAN, ""))
    text = _AROUND_SEP.sub(r"\1", text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def _row_spec(rows: tuple[CanonRow, ...], shared_columns: bool) -> str:
    """One line per row; consecutive rows with the same columns share one column list."""
    if shared_columns:  # short names suffice: the labels as printed are in the text itself
        return "; ".join(f"{i} {min(r.patterns, key=len)}" for i, r in enumerate(rows, 1))
    lines: list[str] = []
    group: list[str] = []
    for i, r in enumerate(rows, 1):
        group.append(f"{i}. {r.label}")
        nxt = rows[i] if i < len(rows) else None
        if nxt is None or nxt.column_labels != r.column_labels:
            lines.append(f"{'; '.join(group)} — {len(r.columns)} values: {', '.join(r.column_labels)}")
            group = []
    return "\n".join(lines)


def load_prompt(path: str | Path) -> Prompt:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PromptError(f"{p}: cannot read the prompt file: {exc.strerror or exc}") from exc
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PromptError(f"{p}: not a valid TOML prompt file: {exc}") from exc
    try:
        spec = PromptFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PromptError(f"{p}: prompt file does not match the prompt model: {problems}") from exc
    for name in ("user_template", "reask_template", "json_instruction"):
        try:
            Template(getattr(spec, name)).substitute(_DUMMY)
        except (KeyError, ValueError) as exc:
            raise PromptError(f"{p}: {name} uses an unknown or malformed placeholder: {exc}") from exc
    if spec.example_template is not None:
        try:
            Template(spec.example_template).substitute(table_title="t", seed="s", text="")
        except (KeyError, ValueError) as exc:
            raise PromptError(
                f"{p}: example_template uses an unknown or malformed placeholder: {exc}"
            ) from exc
    for table, ex in spec.examples.items():
        variant = ex.template if table == "applications" else None
        model: type[Answer] = answer_model(table, ex.template, variant)
        if ex.excerpt and spec.example_template is None:
            raise PromptError(f"{p}: the {table} example is an excerpt but there is no example_template")
        try:
            if ex.excerpt:
                _Excerpt.model_validate_json(ex.answer)
            else:
                model.model_validate_json(ex.answer)
        except ValidationError as exc:
            raise PromptError(
                f"{p}: the worked example for {table} does not match its schema: {exc}"
            ) from exc
    return Prompt(spec, hashlib.sha256(raw).hexdigest(), str(p))


_DUMMY: dict[str, object] = {
    "table_key": "t",
    "table_title": "t",
    "template": "2021",
    "instructions": "",
    "n_rows": 1,
    "row_spec": "",
    "text": "",
    "problems": "",
    "rows": "",
    "schema": "{}",
}
