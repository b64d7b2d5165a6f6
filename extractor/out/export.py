"""Export a results JSONL to CSV, Parquet, SQLite or DuckDB, in long and/or wide form.

The JSONL is read one line at a time (twice: a first pass validates every line and collects the
column keys, so a malformed file fails before anything is written); memory stays flat.

Tables written (a file each for ``csv``/``parquet`` in the directory ``out``; a table each in
the database file ``out`` for ``sqlite``/``duckdb``, replaced if it exists):

Every table starts with path, sha256, agency, year, template, status and ``report_id`` (shared by
copies of one report: the same agency, year and tables, e.g. a PDF and its text — count
``distinct report_id`` to count each report once).

* ``reports`` — one row per report: …, method, error, errors (number of error findings),
  warnings, extractor_version.
* ``codebook`` — every key of both templates with its printed Chinese label: template, table,
  row, column, row_label, column_label.
* ``long`` (form ``long``/``both``) — one row per report × table × row × column: …, table, row,
  column, ``value`` (the number, or null) and ``value_text`` (a marker such as ``/`` or ``无``,
  or text such as ``amount_text``; else null), ``method`` (``human`` for a cell a person
  confirmed or corrected in a review, else ``rules``/``llm``) and ``reviewer`` (or null).
* ``active_disclosure``, ``applications``, ``review_litigation`` (form ``wide``/``both``) — one
  row per report × table row: …, row, then one column
  per column key (numbers; columns ending ``_text`` hold text), then ``markers``: the cells
  that hold a marker instead of a number, as ``column=marker`` joined by ``; `` (null if none).
  The long form is the lossless one.

Load each in one line::

    pandas.read_csv("out/long.csv", dtype={"template": str})   # csv (any table: out/<table>.csv)
    duckdb.sql("select * from 'out/long.parquet'")             # parquet; or pandas.read_parquet(...)
    pandas.read_sql("select * from long", sqlite3.connect("results.sqlite"))   # sqlite
    duckdb.connect("results.duckdb").sql("select * from long")                # duckdb

``table``, ``row`` and ``column`` are SQL keywords: quote them in SQL (``select "table" …``).
Parquet needs ``pyarrow``, DuckDB needs ``duckdb`` (the ``export`` extra).
"""

from __future__ import annotations

import csv
import importlib
import os
import shutil
import sqlite3
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from extractor.errors import ExtractorError, ResultsFileError
from extractor.out.provenance import cell_methods, report_id
from extractor.run.jsonl import iter_lines, parse_line
from extractor.spec import ACTIVE_ROWS, APPLICANT_COLUMNS, REVIEW_COLUMNS, TEXT_COLUMNS, codebook

Target = Literal["csv", "parquet", "sqlite", "duckdb"]
Form = Literal["long", "wide", "both"]
ColType = Literal["text", "int", "num"]
Columns = list[tuple[str, ColType]]
Row = tuple[Any, ...]

WIDE_TABLES: Final = ("active_disclosure", "applications", "review_litigation")
_BATCH: Final = 5000


class ExportError(ExtractorError):
    """The export target or form is invalid, or an optional dependency is missing."""


_REPORT_COLS: Final[Columns] = [
    ("path", "text"), ("sha256", "text"), ("agency", "text"), ("year", "int"), ("template", "text"),
    ("status", "text"), ("report_id", "text"),
]  # fmt: skip
REPORTS: Final[Columns] = [
    *_REPORT_COLS, ("method", "text"), ("error", "text"), ("errors", "int"), ("warnings", "int"),
    ("extractor_version", "text"),
]  # fmt: skip
LONG: Final[Columns] = [
    *_REPORT_COLS, ("table", "text"), ("row", "text"), ("column", "text"), ("value", "num"),
    ("value_text", "text"), ("method", "text"), ("reviewer", "text"),
]  # fmt: skip
CODEBOOK: Final[Columns] = [
    ("template", "text"), ("table", "text"), ("row", "text"), ("column", "text"), ("row_label", "text"),
    ("column_label", "text"),
]  # fmt: skip


def _known_columns() -> dict[str, list[str]]:
    active: list[str] = []
    for template in ("2021", "2019"):
        for spec in ACTIVE_ROWS[template]:
            active.extend(c for c in spec.columns if c not in active)
    active.extend(sorted(TEXT_COLUMNS))  # after every number column
    return {
        "active_disclosure": active,
        "applications": list(APPLICANT_COLUMNS),
        "review_litigation": list(REVIEW_COLUMNS),
    }


# ----------------------------------------------------------------------------------- reading
def _read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records of the results file (the one JSONL reader), each checked to be exportable."""
    for lineno, _, raw in iter_lines(path):
        if raw.strip():
            yield lineno, _parse(path, lineno, parse_line(raw, lineno))


def _parse(path: Path, lineno: int, obj: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(obj, str):
        raise ResultsFileError(path, f"line {lineno}: {obj}")
    if not isinstance(obj, dict) or not isinstance(obj.get("path"), str):
        raise ResultsFileError(path, f"line {lineno}: not a result record (an object with a 'path')")
    tables = obj.get("tables") or {}
    if not isinstance(tables, dict) or not all(
        isinstance(rows, dict) and all(isinstance(cols, dict) for cols in rows.values())
        for rows in tables.values()
    ):
        raise ResultsFileError(path, f"line {lineno}: 'tables' is not table → row → column → value")
    for rows in tables.values():
        for cols in rows.values():
            for col, v in cols.items():
                if v is not None and not isinstance(v, int | float | str):
                    raise ResultsFileError(path, f"line {lineno}: cell {col!r} holds {type(v).__name__}")
    year = obj.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise ResultsFileError(path, f"line {lineno}: 'year' is not an integer")
    return obj


def _number(v: Any) -> int | float | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


# ------------------------------------------------------------------------------------- sinks
class _Sink(Protocol):
    def open(self, table: str, columns: Columns) -> None: ...
    def write(self, table: str, row: Row) -> None: ...
    def close(self) -> list[Path]: ...


class _CsvSink:
    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.files: dict[str, Any] = {}
        self.writers: dict[str, Any] = {}
        self.paths: list[Path] = []

    def open(self, table: str, columns: Columns) -> None:
        path = self.out / f"{table}.csv"
        fh = path.open("w", encoding="utf-8", newline="")
        self.files[table] = fh
        self.writers[table] = csv.writer(fh)
        self.writers[table].writerow([name for name, _ in columns])
        self.paths.append(path)

    def write(self, table: str, row: Row) -> None:
        self.writers[table].writerow(["" if v is None else v for v in row])

    def close(self) -> list[Path]:
        for fh in self.files.values():
            fh.close()
        return self.paths


_SQL_TYPES: Final[dict[ColType, str]] = {"text": "TEXT", "int": "INTEGER", "num": "REAL"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Batched(ABC):
    """A sink that holds each table's rows and hands them to its ``_flush`` ``_BATCH`` at a time."""

    pending: dict[str, list[Row]]

    def write(self, table: str, row: Row) -> None:
        batch = self.pending[table]
        batch.append(row)
        if len(batch) >= _BATCH:
            self._flush(table)

    @abstractmethod
    def _flush(self, table: str) -> None:
        """Write the table's pending rows and empty its batch."""


class _SqliteSink(_Batched):
    def __init__(self, out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.db = sqlite3.connect(out)
        self.pending: dict[str, list[Row]] = {}
        self.inserts: dict[str, str] = {}

    def open(self, table: str, columns: Columns) -> None:
        cols = ", ".join(f"{_q(n)} {_SQL_TYPES[t]}" for n, t in columns)
        self.db.execute(f"DROP TABLE IF EXISTS {_q(table)}")
        self.db.execute(f"CREATE TABLE {_q(table)} ({cols})")
        self.inserts[table] = f"INSERT INTO {_q(table)} VALUES ({', '.join('?' * len(columns))})"
        self.pending[table] = []

    def _flush(self, table: str) -> None:
        self.db.executemany(self.inserts[table], self.pending[table])
        self.pending[table] = []

    def close(self) -> list[Path]:
        for table in self.pending:
            self._flush(table)
        self.db.commit()
        self.db.close()
        return [self.out]


def _optional(module: str, target: str, package: str) -> Any:
    """Import a library of the ``export`` extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ExportError(
            f"{target} export needs {package}: pip install 'extractor[export]' (or pip install {package})"
        ) from exc


class _ParquetSink(_Batched):
    def __init__(self, out: Path) -> None:
        self.pa = _optional("pyarrow", "parquet", "pyarrow")
        self.pq = _optional("pyarrow.parquet", "parquet", "pyarrow")
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.schemas: dict[str, Any] = {}
        self.writers: dict[str, Any] = {}
        self.pending: dict[str, list[Row]] = {}
        self.paths: list[Path] = []

    def open(self, table: str, columns: Columns) -> None:
        pa = self.pa
        types = {"text": pa.string(), "int": pa.int64(), "num": pa.float64()}
        schema = pa.schema([(n, types[t]) for n, t in columns])
        path = self.out / f"{table}.parquet"
        self.schemas[table] = schema
        self.writers[table] = self.pq.ParquetWriter(str(path), schema)
        self.pending[table] = []
        self.paths.append(path)

    def _flush(self, table: str) -> None:
        rows, schema = self.pending[table], self.schemas[table]
        arrays = [self.pa.array([r[i] for r in rows], type=f.type) for i, f in enumerate(schema)]
        self.writers[table].write_table(self.pa.Table.from_arrays(arrays, schema=schema))
        self.pending[table] = []

    def close(self) -> list[Path]:
        for table, writer in self.writers.items():
            if self.pending[table]:
                self._flush(table)
            writer.close()
        return self.paths


class _DuckdbSink:
    """Rows go to temporary CSV files (stdlib, streaming) that DuckDB then loads with a schema."""

    def __init__(self, out: Path) -> None:
        self.duckdb = _optional("duckdb", "duckdb", "duckdb")
        out.parent.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.tmp = tempfile.TemporaryDirectory(prefix=".csv-", dir=out.parent)
        self.csv = _CsvSink(Path(self.tmp.name))
        self.columns: dict[str, Columns] = {}

    def open(self, table: str, columns: Columns) -> None:
        self.columns[table] = columns
        self.csv.open(table, columns)

    def write(self, table: str, row: Row) -> None:
        self.csv.write(table, row)

    def close(self) -> list[Path]:
        types = {"text": "VARCHAR", "int": "BIGINT", "num": "DOUBLE"}
        try:
            self.csv.close()
            with self.duckdb.connect(str(self.out)) as con:
                con.execute("SET enable_progress_bar = false")
                con.execute("SET memory_limit = '256MB'")  # spill to disk rather than grow
                for table, columns in self.columns.items():
                    spec = "{" + ", ".join(f"'{n}': '{types[t]}'" for n, t in columns) + "}"
                    src = str(Path(self.tmp.name) / f"{table}.csv").replace("'", "''")
                    con.execute(
                        f"CREATE OR REPLACE TABLE {_q(table)} AS SELECT * FROM read_csv('{src}', "
                        f"header=true, auto_detect=false, columns={spec}, quote='\"', escape='\"', "
                        "nullstr='', delim=',')"
                    )
        finally:
            self.tmp.cleanup()
        return [self.out]


_SINKS: Final[dict[str, Callable[[Path], _Sink]]] = {
    "csv": _CsvSink,
    "sqlite": _SqliteSink,
    "parquet": _ParquetSink,
    "duckdb": _DuckdbSink,
}


# ------------------------------------------------------------------------------------ export
def export(results_jsonl: Path, to: Target, out: Path, *, form: Form = "both") -> list[Path]:
    """Write ``results_jsonl`` to ``out`` as ``to``; return the files written.

    ``out`` is a directory for ``csv`` and ``parquet`` (one file per table) and a database file
    for ``sqlite`` and ``duckdb``. Raises :class:`ResultsFileError` naming the line of the first
    malformed record, and :class:`ExportError` for a bad ``to``/``form`` or a missing extra.
    """
    results_jsonl, out = Path(results_jsonl), Path(out)
    if to not in _SINKS:
        raise ExportError(f"unknown export target {to!r}: choose one of {', '.join(_SINKS)}")
    if form not in ("long", "wide", "both"):
        raise ExportError(f"unknown export form {form!r}: choose long, wide or both")
    _check_target(to, out)
    wide = _wide_columns(results_jsonl)  # pass 1: validates every line before anything is written
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise ExportError(f"{out}: cannot write the export: {exc.strerror or exc}") from exc
    try:
        target = staging / out.name
        if to in ("sqlite", "duckdb") and out.exists():
            shutil.copy2(out, target)  # other tables of an existing database are kept
        written = _write_all(results_jsonl, _SINKS[to](target), form, wide)
        return _publish(written, target, out)
    except OSError as exc:
        raise ExportError(f"{out}: cannot write the export: {exc.strerror or exc}; nothing replaced") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_target(to: str, out: Path) -> None:
    if to in ("csv", "parquet") and out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; --to {to} writes a folder of files (choose another -o)")
    if to in ("sqlite", "duckdb") and out.is_dir():
        raise ExportError(f"{out} is a folder; --to {to} writes one database file (choose another -o)")


def _write_all(results: Path, sink: _Sink, form: Form, wide: dict[str, list[str]]) -> list[Path]:
    sink.open("reports", REPORTS)
    sink.open("codebook", CODEBOOK)
    for entry in codebook():
        sink.write("codebook", entry)
    if form in ("long", "both"):
        sink.open("long", LONG)
    if form in ("wide", "both"):
        for table in WIDE_TABLES:
            sink.open(table, _wide_schema(wide[table]))
    try:
        for _, rec in _read(results):
            _write_record(sink, rec, form, wide)
    finally:
        paths = sink.close()
    return paths


def _publish(written: list[Path], target: Path, out: Path) -> list[Path]:
    """Rename the finished files into place (each rename is atomic; the old export stays whole
    until then)."""
    if written == [target]:
        os.replace(target, out)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    final = []
    for p in written:
        os.replace(p, out / p.name)
        final.append(out / p.name)
    return final


def _wide_columns(path: Path) -> dict[str, list[str]]:
    cols = _known_columns()
    for _, rec in _read(path):
        for table, rows in (rec.get("tables") or {}).items():
            if table in cols:
                for row in rows.values():
                    cols[table].extend(c for c in row if c not in cols[table])
    return cols


def _wide_schema(keys: list[str]) -> Columns:
    columns: Columns = [*_REPORT_COLS, ("row", "text")]
    columns.extend((k, "text" if k.endswith("_text") else "num") for k in keys)
    columns.append(("markers", "text"))
    return columns


def _write_record(sink: _Sink, rec: dict[str, Any], form: Form, wide: dict[str, list[str]]) -> None:
    base = (rec["path"], _text(rec.get("sha256")), _text(rec.get("agency")), rec.get("year"),
            _text(rec.get("template")), _text(rec.get("status")), report_id(rec))  # fmt: skip
    methods, reviewed = cell_methods(rec)
    findings = rec.get("findings") or []
    severities = [f.get("severity") for f in findings if isinstance(f, dict)]
    sink.write(
        "reports",
        (*base, _text(rec.get("method")), _text(rec.get("error")), severities.count("error"),
         severities.count("warning"), _text(rec.get("extractor_version"))),
    )  # fmt: skip
    for table, rows in (rec.get("tables") or {}).items():
        for row_key, cols in rows.items():
            if form in ("long", "both"):
                for col, v in cols.items():
                    who = reviewed.get((table, row_key, col))
                    how = "human" if who is not None else methods.get(table)
                    sink.write("long", (*base, table, row_key, col, _number(v), _text(v), how, who))
            if form in ("wide", "both") and table in wide:
                keys = wide[table]
                values = [_text(cols.get(k)) if k.endswith("_text") else _number(cols.get(k)) for k in keys]
                markers = [
                    f"{k}={v}" for k, v in cols.items() if isinstance(v, str) and not k.endswith("_text")
                ]
                sink.write(table, (*base, row_key, *values, "; ".join(markers) or None))
