"""The record types are plain dataclasses: their JSON is pydantic's byte for byte, reading one
back validates it, and the rule path never loads pydantic."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from extractor import models
from extractor.models import Finding, LLMUsage, Record, finding
from extractor.pipeline import extract_bytes

from .helpers import CORPUS, SEEDS, to_html

#: Values the standard encoder writes differently from pydantic, or not at all.
AWKWARD: list[Any] = [
    1e-05,
    -2.5e-7,
    1e-4,
    1e16,
    0.1,
    math.nan,
    math.inf,
    -math.inf,
    {3, 1},
    (1, 2),
    Path("a/b.txt"),
    'a\x00\x1b\x7f\u2028"\\/\n\t\b\f\r',
    "2e-3 in a message",
    2**70,
    {"nested": [1.5e-9, "x"]},
]


@pytest.fixture(params=["standard", "pydantic-core"])
def encoder(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each of the two encoders ``to_json`` uses: the standard one (a process's first object)
    and pydantic-core's (every later one); both must give the same bytes."""
    saved = models._Rust.encode, models._Rust.calls
    if request.param == "standard":
        models._Rust.encode, models._Rust.calls = None, -(10**9)
    else:
        from pydantic_core import to_json

        models._Rust.encode = to_json
    yield request.param
    models._Rust.encode, models._Rust.calls = saved


def _pydantic(obj: Any) -> str:
    return TypeAdapter(type(obj)).dump_json(obj).decode()


def _rich_record(expected: Any) -> Record:
    return Record(
        path="报告.txt",
        status="needs_review",
        tables={"applications": {"new_received": {"total": 3, "amount": 1.25, "x": "—", "y": None}}},
        findings=[finding("H1", "error", "sum", table="applications", expected=expected, actual=[1, 2])],
        evidence={"applications": {"new_received": {"total": [4, 5]}}},
        meta={"notes": ["n"], "value": expected},
    )


@pytest.mark.parametrize("value", AWKWARD, ids=repr)
def test_json_is_pydantics_for_awkward_values(value: Any, encoder: str) -> None:
    rec = _rich_record(value)
    assert rec.to_json() == _pydantic(rec)
    assert rec.findings[0].to_json() == _pydantic(rec.findings[0])


def test_json_of_real_records_is_pydantics(encoder: str) -> None:
    inputs = [(p.name, p.read_bytes()) for p in [*SEEDS, *sorted(CORPUS.glob("*.txt"))]]
    inputs += [(f"{i}.html", to_html(p.read_text(encoding="utf-8")).encode()) for i, p in enumerate(SEEDS)]
    inputs += [("bad.pdf", b"%PDF-1.4 not a pdf"), ("empty.txt", b"")]
    for name, data in inputs:
        rec = extract_bytes(data, name)
        line = rec.to_json()
        assert line == _pydantic(rec), name
        back = Record.from_json(line)
        assert back == rec and back.to_json() == line
        assert rec.to_dict() == json.loads(line)


def test_reading_back_validates() -> None:
    obj = _rich_record(1).to_dict()
    with pytest.raises(ValidationError):
        Record.from_dict({**obj, "surplus": 1})
    with pytest.raises(ValidationError):
        Record.from_dict({**obj, "status": "fine"})
    with pytest.raises(ValidationError):
        Record.from_dict({**obj, "findings": [{"check": "x", "severity": "error"}]})  # no message
    with pytest.raises(ValidationError):
        Finding.from_dict({"check": "x", "severity": "error", "message": "m", "hint": "?"})
    assert Record.from_dict(obj) == _rich_record(1) and isinstance(Record.from_dict(obj).findings[0], Finding)
    usage = LLMUsage(model="m", calls=2, tables_sent=["applications"])
    assert LLMUsage.from_dict(usage.to_meta()) == usage and "cost" not in usage.to_meta()


def test_the_rule_path_never_imports_pydantic(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    code = (
        "import sys\n"
        "from extractor.cli_fast import module_main\n"
        f"sys.argv = ['extractor', 'extract', {str(SEEDS[0])!r}, '-q', '-o', {str(out)!r}]\n"
        "try:\n"
        "    module_main()\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'typer', 'click')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
    assert out.read_text(encoding="utf-8").count("\n") == 1
