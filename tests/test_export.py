"""export(): the four targets, long and wide forms, round-tripped values, malformed input."""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from extractor.errors import ExtractorError, ResultsFileError
from extractor.out.export import ExportError, export

R2021: dict[str, Any] = {
    "path": "reports/a.html",
    "sha256": "a" * 64,
    "agency": "某市人民政府",
    "year": 2021,
    "template": "2021",
    "status": "verified",
    "method": "rules",
    "findings": [{"check": "S4", "severity": "warning", "message": "prose"}],
    "tables": {
        "active_disclosure": {
            "regulations": {"issued": 1, "repealed": 0, "in_force": 11},
            "licensing": {"decisions": "/"},
            "fees": {"amount_wan_yuan": 96171.6},
        },
        "applications": {
            "new_received": {"natural_person": 3001, "commercial": 53, "total": 3054, "note": "无"},
            "carried_over": {"natural_person": None, "commercial": 0, "total": 0},
        },
        "review_litigation": {
            "review": {"upheld": 72, "corrected": 64, "other": 178, "pending": 37, "total": 351}
        },
    },
    "meta": {},
    "error": None,
    "extractor_version": "0.1.0",
}
R2019: dict[str, Any] = {
    "path": "reports/b.txt",
    "sha256": "b" * 64,
    "agency": "某县",
    "year": 2020,
    "template": "2019",
    "status": "source_inconsistent",
    "findings": [{"check": "H1", "severity": "error", "message": "x"}],
    "tables": {
        "active_disclosure": {
            "licensing": {"prev_items": 4, "change": -8, "decisions": 197},
            "procurement": {"projects": 3, "amount": 251000, "amount_text": "25.1万元"},
        }
    },
}
RERR: dict[str, Any] = {"path": "reports/c.doc", "sha256": None, "status": "error", "error": "unsupported"}
RECORDS = [R2021, R2019, RERR]


def _expected_long() -> set[tuple[Any, ...]]:
    out = set()
    for rec in RECORDS:
        for table, rows in rec.get("tables", {}).items():
            for row, cols in rows.items():
                for col, v in cols.items():
                    num = float(v) if isinstance(v, int | float) else None
                    out.add((rec["path"], table, row, col, num, v if isinstance(v, str) else None))
    return out


EXPECTED_LONG = _expected_long()
assert len(EXPECTED_LONG) == 23


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "results.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS]
    p.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n", encoding="utf-8")  # a blank line is fine
    return p


def _norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """(path, table, row, column, value, value_text) with CSV's empty strings read as null."""
    path, table, r, c, v, t = row
    v = None if v in ("", None) else float(v)
    return (path, table, r, c, v, None if t in ("", None) else t)


def _read_long(to: str, paths: list[Path]) -> tuple[set[tuple[Any, ...]], int]:
    cols = 'path, "table", "row", "column", value, value_text'
    if to == "csv":
        with (paths[0].parent / "long.csv").open(encoding="utf-8", newline="") as fh:
            rows = [
                (r["path"], r["table"], r["row"], r["column"], r["value"], r["value_text"])
                for r in csv.DictReader(fh)
            ]
    elif to == "parquet":
        t = pq.read_table(paths[0].parent / "long.parquet").to_pydict()
        rows = list(
            zip(t["path"], t["table"], t["row"], t["column"], t["value"], t["value_text"], strict=True)
        )
    elif to == "sqlite":
        with sqlite3.connect(paths[0]) as con:
            rows = con.execute(f"select {cols} from long").fetchall()
    else:
        with duckdb.connect(str(paths[0])) as db:
            rows = db.sql(f"select {cols} from long").fetchall()
    return {_norm(r) for r in rows}, len(rows)


def _query(to: str, paths: list[Path], sql: str) -> list[tuple[Any, ...]]:
    """Run SQL over any target (DuckDB reads the CSV/Parquet files directly)."""
    if to == "sqlite":
        with sqlite3.connect(paths[0]) as lite:
            rows: list[tuple[Any, ...]] = lite.execute(sql).fetchall()
            return rows
    with duckdb.connect(str(paths[0]) if to == "duckdb" else ":memory:") as con:
        if to in ("csv", "parquet"):
            for p in paths:
                reader = f"read_csv('{p}', header=true)" if to == "csv" else f"'{p}'"
                con.execute(f'create view "{p.stem}" as select * from {reader}')
        return con.sql(sql).fetchall()


def _out(tmp_path: Path, to: str) -> Path:
    return tmp_path / ("results." + to if to in ("sqlite", "duckdb") else "out")


@pytest.mark.parametrize("to", ["csv", "parquet", "sqlite", "duckdb"])
def test_round_trip_all_targets(jsonl: Path, tmp_path: Path, to: str) -> None:
    paths = export(jsonl, to, _out(tmp_path, to))  # type: ignore[arg-type]
    assert all(p.exists() for p in paths)
    if to in ("csv", "parquet"):
        assert sorted(p.stem for p in paths) == sorted(
            ["reports", "codebook", "long", "active_disclosure", "applications", "review_litigation"]
        )
    got, n = _read_long(to, paths)
    assert n == len(EXPECTED_LONG) and got == EXPECTED_LONG
    # reports: one row per record, including the error record without tables
    reports = _query(to, paths, "select path, status, errors, warnings, year from reports order by path")
    assert [(r[0], r[1], int(r[2]), int(r[3])) for r in reports] == [
        ("reports/a.html", "verified", 0, 1),
        ("reports/b.txt", "source_inconsistent", 1, 0),
        ("reports/c.doc", "error", 0, 0),
    ]
    assert reports[0][4] == 2021 and reports[2][4] in (None, "")
    # wide: one row per report × table row; numbers, *_text as text, markers kept
    apps = _query(
        to,
        paths,
        "select row, natural_person, commercial, total, note, markers from applications order by row",
    )
    assert [(r[0], r[1], r[2], r[3]) for r in apps] == [
        ("carried_over", None, 0, 0),
        ("new_received", 3001, 53, 3054),
    ]
    assert apps[1][4] is None and apps[1][5] == "note=无"
    cols = "path, row, issued, decisions, amount_wan_yuan, amount, amount_text, change, markers"
    act = _query(to, paths, f"select {cols} from active_disclosure order by path, row")
    by = {(r[0], r[1]): r[2:] for r in act}
    assert len(act) == 5
    assert by[("reports/a.html", "fees")][2] == pytest.approx(96171.6)
    assert (
        by[("reports/a.html", "licensing")][1] is None
        and by[("reports/a.html", "licensing")][6] == "decisions=/"
    )
    assert by[("reports/b.txt", "procurement")][3:5] == (251000, "25.1万元")
    assert by[("reports/b.txt", "licensing")][5] == -8
    review = _query(to, paths, 'select "total" from review_litigation where "row" = \'review\'')
    assert review == [(351,)]


@pytest.mark.parametrize("form", ["long", "wide"])
def test_forms(jsonl: Path, tmp_path: Path, form: str) -> None:
    paths = export(jsonl, "csv", tmp_path / "out", form=form)  # type: ignore[arg-type]
    names = {p.stem for p in paths}
    assert "reports" in names
    assert ("long" in names) == (form == "long")
    assert ("applications" in names) == (form == "wide")


def test_rerun_replaces_database_tables(jsonl: Path, tmp_path: Path) -> None:
    for to in ("sqlite", "duckdb"):
        out = _out(tmp_path, to)
        export(jsonl, to, out)
        paths = export(jsonl, to, out)
        assert _query(to, paths, "select count(*) from long") == [(23,)]


def test_parquet_one_liner_with_duckdb(jsonl: Path, tmp_path: Path) -> None:
    export(jsonl, "parquet", tmp_path / "out")
    rel = duckdb.sql(f"select count(*) from '{tmp_path / 'out' / 'long.parquet'}'")
    assert rel is not None and rel.fetchall() == [(23,)]


@pytest.mark.parametrize(
    ("line3", "problem"),
    [
        ("{not json", "line 3: not valid JSON"),
        ("[1, 2]", "line 3: not a result record"),
        ('{"status": "verified"}', "line 3: not a result record"),
        ('{"path": "x", "tables": {"applications": [1]}}', "line 3: 'tables'"),
        ('{"path": "x", "tables": {"applications": {"total": {"a": [1]}}}}', "line 3: cell 'a'"),
        ('{"path": "x", "year": "2021"}', "line 3: 'year'"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line3: str, problem: str) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(R2021) + "\n" + json.dumps(R2019) + "\n" + line3 + "\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ResultsFileError) as info:
        export(p, "csv", out)
    assert info.value.path == str(p) and problem in str(info.value)
    assert not out.exists(), "nothing is written before the whole file is validated"


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="cannot read"):
        export(tmp_path / "missing.jsonl", "csv", tmp_path / "out")
    p = tmp_path / "latin.jsonl"
    p.write_bytes(b'{"path": "x"}\n{"path": "\xff"}\n')
    with pytest.raises(ResultsFileError, match="line 2: not UTF-8"):
        export(p, "csv", tmp_path / "out")


def test_bad_target_and_form(jsonl: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export target"):
        export(jsonl, "xlsx", tmp_path / "o")  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="unknown export form"):
        export(jsonl, "csv", tmp_path / "o", form="tall")  # type: ignore[arg-type]


@pytest.mark.parametrize(("to", "module"), [("parquet", "pyarrow"), ("duckdb", "duckdb")])
def test_missing_optional_dependency(
    jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ExportError, match=f"needs {module}") as info:
        export(jsonl, to, _out(tmp_path, to))  # type: ignore[arg-type]
    assert isinstance(info.value, ExtractorError) and "extractor[export]" in str(info.value)


def test_streaming_memory_is_flat(tmp_path: Path) -> None:
    """1,000 reports (175,000 long rows, ~20 MB of CSV) export with a small, flat peak."""
    p = tmp_path / "big.jsonl"
    row = {
        c: 1
        for c in ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org")
    }
    row["total"] = 6
    rec = dict(R2021, tables={"applications": {f"r{i}": row for i in range(25)}})
    with p.open("w", encoding="utf-8") as fh:
        for i in range(1000):
            fh.write(json.dumps(dict(rec, path=f"r/{i}.html"), ensure_ascii=False) + "\n")
    tracemalloc.start()
    try:
        paths = export(p, "csv", tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    long_csv = next(x for x in paths if x.stem == "long")
    assert long_csv.stat().st_size > 15_000_000
    assert peak < 5_000_000, peak


def test_reviews_codebook_and_report_id(tmp_path: Path) -> None:
    reviewed = {
        **R2021,
        "path": "reports/a.pdf",
        "status": "reviewed",
        "table_methods": {"applications": "llm"},
    }
    cell = {
        "table": "applications",
        "row": "carried_over",
        "column": "natural_person",
        "value": 0,
        "machine": None,
    }
    reviewed["meta"] = {"reviews": [{"reviewer": "alice", "at": "2026-01-01T00:00:00+00:00", "reason": "r",
                                     "cells": [cell]}]}  # fmt: skip
    other_year = {**R2021, "path": "reports/a2022.html", "year": 2022}
    src = tmp_path / "r.jsonl"
    src.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [R2021, reviewed, other_year, RERR])
    )
    paths = export(src, "sqlite", tmp_path / "r.sqlite")
    ids = dict(_query("sqlite", paths, "select path, report_id from reports"))
    assert ids["reports/a.html"] == ids["reports/a.pdf"]  # the same report, two files
    assert len({ids["reports/a.html"], ids["reports/a2022.html"], ids["reports/c.doc"]}) == 3
    where = "where \"row\" = 'carried_over' and \"column\" = 'natural_person' order by path"
    cells = _query(
        "sqlite", paths, f'select path, "table", "row", "column", method, reviewer from long {where}'
    )
    assert cells[0][4:] == ("rules", None) and cells[1][4:] == ("human", "alice")
    other = _query(
        "sqlite", paths, "select method from long where path = 'reports/a.pdf' and \"row\" = 'new_received'"
    )
    assert {m for (m,) in other} == {"llm"}
    where = "template = '2021' and \"table\" = 'applications' and \"row\" = 'new_received'"
    where += " and \"column\" = 'total'"
    book = _query("sqlite", paths, f"select row_label, column_label from codebook where {where}")
    assert book == [("本年新收政府信息公开申请数量", "总计")]
    keys = {
        (r[0], r[1], r[2]) for r in _query("sqlite", paths, 'select "table", "row", "column" from codebook')
    }
    assert ("active_disclosure", "fees", "amount_wan_yuan") in keys and (
        "review_litigation",
        "review",
        "total",
    ) in keys
