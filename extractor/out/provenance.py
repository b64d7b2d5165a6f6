"""Who read each cell, and which records are copies of one report (for the exports).

* :func:`cell_methods` — ``human`` (with the reviewer) for the cells a person confirmed or
  corrected (``meta.reviews``), else the path that read the table (``rules``/``llm``).
* :func:`report_id` — the same for every copy of one report: the same agency, year and tables
  (e.g. a PDF and its text version), so a pivot can count each report once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

Cell = tuple[str, str, str]


def cell_methods(rec: dict[str, Any]) -> tuple[dict[str, str], dict[Cell, str]]:
    """(table → method, (table, row, column) → reviewer of the last review that set the cell)."""
    methods = rec.get("table_methods") or {}
    default = str(rec.get("method") or "rules")
    by_table = {str(t): str(methods.get(t) or default) for t in rec.get("tables") or {}}
    reviewed: dict[Cell, str] = {}
    for review in (rec.get("meta") or {}).get("reviews") or []:
        for c in review.get("cells") or []:
            reviewed[(str(c["table"]), str(c["row"]), str(c["column"]))] = str(review.get("reviewer"))
    return by_table, reviewed


def report_id(rec: dict[str, Any]) -> str:
    """A short id shared by the copies of one report (agency, year and tables all equal)."""
    if rec.get("agency") and rec.get("year") and rec.get("tables"):
        key = json.dumps([rec["agency"], rec["year"], rec["tables"]], sort_keys=True, ensure_ascii=False)
    else:  # nothing to compare: the file itself
        key = json.dumps([rec.get("sha256") or rec.get("path")], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
