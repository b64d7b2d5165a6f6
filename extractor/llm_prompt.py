"""Versioned prompts (``prompts/*.toml``), loaded through a strict model, rendered per table.

Only the located table text (``TableRead.source``) is ever put into a prompt, never the whole
report. The prompt file's SHA-256 is part of every cache key, so editing a prompt invalidates
the cached answers made with it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from string import Template
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import PromptError
from .llm_schema import Answer, CanonRow, answer_model, canonical_rows, schema_of

TableName = Literal["active_disclosure", "applications", "review_litigation"]
Message = dict[str, str]


class TablePrompt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    instructions: str


class Example(BaseModel):
    """A worked example: a table's text and the correct answer (a JSON string)."""

    model_config = ConfigDict(extra="forbid")

    seed: str
    template: Literal["2019", "2021"]
    text: str
    answer: str


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    description: str
    system: str
    user_template: str
    reask_template: str
    json_instruction: str
    tables: dict[TableName, TablePrompt]
    examples: dict[TableName, Example]


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
            schema = json.dumps(schema_of(model), ensure_ascii=False)
            system += "\n\n" + Template(self.spec.json_instruction).substitute(schema=schema)
        out: list[Message] = [{"role": "system", "content": system}]
        ex = self.spec.examples.get(table)  # type: ignore[call-overload]
        if ex is not None and (table != "applications" or (variant or template) == ex.template):
            ex_variant = ex.template if table == "applications" else None
            out.append({"role": "user", "content": self._user(table, ex.template, ex_variant, ex.text)})
            out.append({"role": "assistant", "content": ex.answer})
        out.append({"role": "user", "content": self._user(table, template, variant, text)})
        return out

    def _user(self, table: str, template: str, variant: str | None, text: str) -> str:
        tp = self.spec.tables[table]  # type: ignore[index]
        rows = canonical_rows(table, template, variant)
        return Template(self.spec.user_template).substitute(
            table_key=table,
            table_title=tp.title,
            template=variant or template,
            instructions=tp.instructions,
            n_rows=len(rows),
            row_spec="\n".join(_row_line(i, r) for i, r in enumerate(rows, 1)),
            text=text.strip(),
        )

    def reask(self, problems: list[str], rows: list[str], n_rows: int) -> Message:
        shown = "rows " + "; ".join(rows) if rows else "the whole table"
        return {
            "role": "user",
            "content": Template(self.spec.reask_template).substitute(
                problems="\n".join(f"- {p}" for p in problems), rows=shown, n_rows=n_rows
            ),
        }


def _row_line(i: int, row: CanonRow) -> str:
    return f"{i}. {row.label} — {len(row.columns)} values: {', '.join(row.column_labels)}"


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
    for table, ex in spec.examples.items():
        variant = ex.template if table == "applications" else None
        model: type[Answer] = answer_model(table, ex.template, variant)
        try:
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
