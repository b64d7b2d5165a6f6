"""Blanks hidden in run-together digits: a cut is one reading only where the report prints its zeros.

A row printed ``116`` for three cells has one cut without leading zeros, ``1 | 1 | 6`` — if the
report prints every zero. An office that leaves zero cells blank prints the same ``116`` for
``1 | (blank) | 16``. Nothing in a run-together token shows a blank, but the report shows that
it leaves cells blank when one of its rows prints fewer digits than it has cells
(:data:`~extractor.tables.cells.FEWER_DIGITS`). Then no cut of run-together digits in the report
is the only reading: those rows stay unread, with a finding naming the row that proves it.
"""

from __future__ import annotations

from extractor.models import finding
from extractor.tables.cells import FEWER_DIGITS
from extractor.tables.rules import TableRead


def unread_cuts_where_blanks_hide(reads: dict[str, TableRead]) -> None:
    """Unread every row with a cut cell (method ``cut``) when some row proves blank cells."""
    proof = next(
        (f"{k}.{f.row}" for k, r in reads.items() for f in r.findings if FEWER_DIGITS in f.message), None
    )
    if proof is None:
        return
    for k, r in reads.items():
        cut = [row for row, how in r.methods.items() if "cut" in how.values()]
        for row in cut:
            r.values[row] = dict.fromkeys(r.values[row])
            r.spans.pop(row, None)
            r.methods.pop(row, None)
            r.findings.append(
                finding(
                    "unreadable",
                    "error",
                    f"row {row}: cells printed run together, in a report that leaves cells blank "
                    f"({proof} {FEWER_DIGITS.split(':')[0]}): a blank may hide in the run, so its one "
                    "cut without leading zeros is not the only reading; cells left unread",
                    table=k,
                    row=row,
                )
            )
