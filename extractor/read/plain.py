"""Plain-text grids made explicit before reading, so that a blank cell at either end of a row
keeps its column:

* a markdown table printed without its outer pipes (GFM allows ``a | b`` and ``--- | ---``):
  each row whose cells match the delimiter row's count gets its outer pipes
  (`` |  | 10 | 4`` → ``|  |  | 10 | 4|``: the blank first cell stays a cell);
* a CSV file: each record becomes one line of tab-separated cells (quoted commas and line
  breaks inside a cell kept inside that cell).

Only characters are added or exchanged around cells, never digits, so every number the readers
find is printed in the source as it is in this text.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Final

_OPEN_RULE: Final = re.compile(r"^ *:?-{3,}:? *(?:\| *:?-{3,}:? *)+$", re.M)


def close_pipe_tables(text: str) -> str:
    """``text`` with the outer pipes of every markdown table that prints none added to its rows."""
    if "---" not in text or _OPEN_RULE.search(text) is None:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _OPEN_RULE.match(line):
            _close_block(lines, i, line.count("|") + 1)
    return "\n".join(lines)


def _close_block(lines: list[str], rule: int, width: int) -> None:
    """Close the rows of the table whose delimiter row is ``lines[rule]``: the header row above
    it and the rows below it, up to the first line without a pipe."""
    rows = [rule - 1] if rule > 0 else []
    j = rule + 1
    while j < len(lines) and "|" in lines[j]:
        rows.append(j)
        j += 1
    for k in rows:
        row = lines[k]
        if row.count("|") + 1 == width:
            lines[k] = "|" + row + "|"


def csv_to_tabs(text: str) -> str:
    """A CSV file's records as lines of tab-separated cells (text left as is if it is no CSV)."""
    if "," not in text:
        return text
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        return text
    return "\n".join("\t".join(_one_line(cell) for cell in rec) for rec in records) + "\n"


def _one_line(cell: str) -> str:
    return cell.replace("\t", " ").replace("\r", "").replace("\n", " ")
