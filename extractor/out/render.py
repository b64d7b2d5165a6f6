"""Terminal rendering of one record for ``extractor show``: tables with failing cells marked."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from extractor.models import CellValue, Record
from extractor.spec import (
    ACTIVE_ROWS,
    APPLICANT_COLUMN_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    TABLE_NAMES,
)

_STATUS_STYLE = {
    "verified": "bold green",
    "reviewed": "bold blue",
    "source_inconsistent": "bold yellow",
    "needs_review": "bold red",
    "unsupported_template": "bold magenta",
    "error": "bold red",
}


def _flagged(record: Record) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    cells: set[tuple[str, str, str]] = set()
    rows: set[tuple[str, str]] = set()
    for f in record.findings:
        if f.severity != "error" or not f.table:
            continue
        if f.row and f.column:
            cells.add((f.table, f.row, f.column))
        elif f.row:
            rows.add((f.table, f.row))
    return cells, rows


def _cell(v: CellValue, bad: bool) -> Text:
    if v is None:
        return Text("?", style="bold red")
    return Text(str(v), style="bold red reverse" if bad else "")


def _grid(record: Record, table: str, rows: list[tuple[str, str]], cols: list[tuple[str, str]]) -> Table:
    cells, bad_rows = _flagged(record)
    t = Table(title=TABLE_NAMES[table], title_justify="left", show_lines=False)
    t.add_column("row", no_wrap=True)
    for _, label in cols:
        t.add_column(label, justify="right")
    values = record.tables.get(table, {})
    for key, label in rows:
        vals = values.get(key, {})
        row_bad = (table, key) in bad_rows
        t.add_row(
            Text(label if label == key else f"{label} ({key})", style="red" if row_bad else ""),
            *[_cell(vals.get(c), (table, key, c) in cells) for c, _ in cols],
        )
    return t


def render(record: Record, console: Console) -> None:
    head = Text.assemble(
        (record.status, _STATUS_STYLE.get(record.status, "")),
        f"  {record.agency or '(agency unknown)'}  {record.year or '?'}  template {record.template or '?'}"
        f"  method {record.method}\n{record.path}  sha256 {(record.sha256 or '')[:16]}",
    )
    console.print(Panel(head, title="extractor show"))
    if record.error:
        console.print(Text(record.error, style="red"))
    tpl = record.template
    if tpl in ACTIVE_ROWS and "active_disclosure" in record.tables:
        # one grid per block of rows that share their columns (第二十条 (一), (五)+(六), …)
        blocks: list[tuple[tuple[str, ...], list[tuple[str, str]]]] = []
        for spec in ACTIVE_ROWS[tpl]:
            cols_keys = spec.cells
            if blocks and blocks[-1][0] == cols_keys:
                blocks[-1][1].append((spec.key, spec.label))
            else:
                blocks.append((cols_keys, [(spec.key, spec.label)]))
        for cols_keys, rows in blocks:
            console.print(_grid(record, "active_disclosure", rows, [(c, c) for c in cols_keys]))
    if "applications" in record.tables:
        rows = [(k, k) for k in record.tables["applications"]]  # the rows its reader chose, in order
        cols = [(c, APPLICANT_COLUMN_LABELS[c]) for c in APPLICANT_COLUMNS]
        console.print(_grid(record, "applications", rows, cols))
    if "review_litigation" in record.tables:
        rows = [(g, REVIEW_GROUP_LABELS[g]) for g in REVIEW_GROUPS]
        cols = [(c, REVIEW_COLUMN_LABELS[c]) for c in REVIEW_COLUMNS]
        console.print(_grid(record, "review_litigation", rows, cols))
    findings = Table(title="findings", title_justify="left")
    for col in ("severity", "check", "where", "message"):
        findings.add_column(col, overflow="fold")
    style = {"error": "red", "warning": "yellow", "info": "dim"}
    for f in record.findings:
        where = ".".join(x for x in (f.table, f.row, f.column) if x)
        findings.add_row(Text(f.severity, style=style[f.severity]), f.check, where, f.message)
    console.print(Group(findings))
