"""Golden files: one readable JSON file per case, compared field by field.

A case file holds the source path (relative to the repository root), a hand-check note, and
the expected projection of the record: status, agency, year, template, every table cell, where
each cell is printed (``evidence``, ``evidence_method``), and the findings (check, severity,
table, row, column — wording may change, substance may not).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.errors import GoldenError
from extractor.models import Record
from extractor.pipeline import extract_path

PROJECTED = ("status", "agency", "year", "template", "tables", "evidence", "evidence_method", "findings")


@dataclass
class Case:
    name: str
    file: Path
    source: Path
    data: dict[str, Any]


def project(record: Record) -> dict[str, Any]:
    d = json.loads(record.to_json())
    findings = sorted(
        {
            " ".join(str(f.get(k) or "-") for k in ("severity", "check", "table", "row", "column"))
            for f in d["findings"]
        }
    )
    return {
        "status": d["status"],
        "agency": d["agency"],
        "year": d["year"],
        "template": d["template"],
        "tables": d["tables"],
        "evidence": d["evidence"],
        "evidence_method": d["evidence_method"],
        "findings": findings,
    }


def load_cases(golden_dir: Path, root: Path) -> list[Case]:
    cases_dir = golden_dir / "cases"
    if not cases_dir.is_dir():
        raise GoldenError(f"{cases_dir}: no golden cases folder")
    cases = []
    for f in sorted(cases_dir.glob("*.json")):
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise GoldenError(f"{f}: not valid JSON ({exc})") from exc
        src = root / data.get("source", "")
        if not data.get("source") or not src.is_file():
            raise GoldenError(f"{f}: source {data.get('source')!r} not found under {root}")
        cases.append(Case(f.stem, f, src, data))
    if not cases:
        raise GoldenError(f"{cases_dir}: no cases")
    return cases


def diff(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Field-level differences, one readable line each."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for k in sorted(set(expected) | set(actual), key=str):
            p = f"{where}.{k}" if where else str(k)
            if k not in actual:
                out.append(f"{p}: missing (expected {json.dumps(expected[k], ensure_ascii=False)})")
            elif k not in expected:
                out.append(f"{p}: unexpected {json.dumps(actual[k], ensure_ascii=False)}")
            else:
                out += diff(expected[k], actual[k], p)
        return out
    if where.endswith("findings") and isinstance(expected, list) and isinstance(actual, list):
        gone = [f"{where}: lost   '{x}'" for x in expected if x not in actual]
        new = [f"{where}: gained '{x}'" for x in actual if x not in expected]
        return gone + new
    if expected != actual or type(expected) is not type(actual):
        e, a = json.dumps(expected, ensure_ascii=False), json.dumps(actual, ensure_ascii=False)
        return [f"{where}: expected {e}, got {a}"]
    return []


def run_case(case: Case, root: Path) -> tuple[dict[str, Any], list[str]]:
    rel = case.source.relative_to(root) if case.source.is_relative_to(root) else case.source
    record = extract_path(case.source, display_path=str(rel))
    actual = project(record)
    return actual, diff(case.data.get("expected", {}), actual)


def write_case(case: Case, actual: dict[str, Any]) -> None:
    data = dict(case.data)
    data["expected"] = actual
    case.file.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def new_case(golden_dir: Path, name: str, source_rel: str, note: str) -> Path:
    f = golden_dir / "cases" / f"{name}.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(
        json.dumps({"source": source_rel, "checked": note, "expected": {}}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )
    return f
