"""Cells printed run together (crawled pages that drop the separators), two traps:

* thousands separators: ``1,8681,1011176`` is "1,868" "1,101" "1176" glued, or the cells
  1 | 8681 | 1011176 — the comma may group thousands or part two cells. Normalisation removes a
  comma only where it groups exactly three digits; one it leaves between digits makes the row
  unread with a finding naming it, never the comma taken as a cell boundary;
* hidden blanks: ``116`` for three cells is cut ``1 | 1 | 6`` only in a report that prints its
  zeros; where a row proves the report leaves cells blank (fewer digits than cells), every cut
  row stays unread (``tables.hidden``)."""

from __future__ import annotations

import html
import json

import pytest

from extractor.models import Record
from extractor.pipeline import extract_bytes
from extractor.tables.atoms import atoms_of
from extractor.tables.cells import FEWER_DIGITS, GROUPED_COMMAS, fit

from . import render as R
from .test_render_matrix import wrong_cells


def _glued_lines(bl: list[R.Block]) -> list[str]:
    out = []
    for b in bl:
        if b.kind == "para":
            out.append(b.text)
        else:
            out.extend("".join(row) for row in b.rows)
    return out


LAYOUTS = {
    "glued text": lambda lines: ("\n".join(lines).encode(), ".txt"),
    "glued html paragraphs": lambda lines: (
        ("<html><body>" + "".join(f"<p>{html.escape(x)}</p>" for x in lines) + "</body></html>").encode(),
        ".html",
    ),
    "glued json": lambda lines: (
        json.dumps({"content": "\n".join(lines)}, ensure_ascii=False).encode(),
        ".json",
    ),
}


def _unflagged_wrong_cells(rec: Record, fig: R.Figures) -> list[str]:
    """Wrong cells in a row that no error finding names (an error-flagged row is not accepted)."""
    flagged = {(f.table, f.row) for f in rec.findings if f.severity == "error"}
    return [w for w in wrong_cells(rec, fig.tables) if tuple(w.split(".")[:2]) not in flagged]


def _glued_report(template: str, seed: int, style: str, layout: str) -> tuple[R.Figures, Record]:
    """The figures and the record of their report printed run together in ``layout``; no wrong
    cell stands in a row that no error finding names."""
    fig = R.figures(template, seed)
    data, suffix = LAYOUTS[layout](_glued_lines(R.styled(R.blocks(fig), style)))
    rec = extract_bytes(data, f"fig{suffix}", suffix=suffix)
    assert _unflagged_wrong_cells(rec, fig) == [], (seed, rec.status)
    return fig, rec


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_a_comma_left_between_digits_is_never_a_cell_boundary(layout: str, template: str) -> None:
    grouped_rows = 0
    for seed in range(1, 9):
        rec = _glued_report(template, seed, "thousands", layout)[1]
        named = [f for f in rec.findings if f.message.endswith(GROUPED_COMMAS)]
        for f in named:
            assert f.severity == "error" and f.row and f.table
            assert all(v is None for v in rec.tables[f.table][f.row].values())
            assert rec.status != "verified"
        grouped_rows += len(named)
    assert grouped_rows >= 4  # the figures do print such rows (else the test tests nothing)


@pytest.mark.parametrize(
    ("segment", "n"),
    [("1,8681,1011176", 3), ("  1,8501751292.6元", 2), ("2,56029", 2), ("\t3\t1,2345\t", 2)],
)
def test_the_row_is_unread_with_the_printed_digits(segment: str, n: int) -> None:
    f = fit(atoms_of(segment), n)
    assert f.candidates == [] and f.problem == GROUPED_COMMAS
    assert segment.split()[-1].rstrip("元") in f.printed or "1,2345" in f.printed


@pytest.mark.parametrize(
    ("segment", "cells"), [("1,86 4", ("1", "86", "4")), ("12 345 6", ("12", "345", "6"))]
)
def test_a_comma_before_fewer_than_three_digits_still_parts_cells(
    segment: str, cells: tuple[str, ...]
) -> None:
    f = fit(atoms_of(segment), 3)
    assert f.candidates == [cells]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_no_cut_stands_in_a_report_that_leaves_cells_blank(layout: str, template: str) -> None:
    proved = 0
    for seed in range(1, 9):
        rec = _glued_report(template, seed, "blank", layout)[1]
        hidden = [f for f in rec.findings if "in a report that leaves cells blank" in f.message]
        if any(FEWER_DIGITS in f.message for f in rec.findings):
            proved += 1
            assert not any(
                "cut" in how.values() for rows in rec.evidence_method.values() for how in rows.values()
            )
        for f in hidden:
            assert f.severity == "error" and f.table and f.row
            assert all(v is None for v in rec.tables[f.table][f.row].values())
            assert rec.status != "verified"
    assert proved >= 6


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_report_that_prints_its_zeros_keeps_its_cuts(layout: str) -> None:
    cuts = 0
    for seed in range(1, 9):
        fig = R.figures("2019", seed)
        data, suffix = LAYOUTS[layout](_glued_lines(R.blocks(fig)))
        rec = extract_bytes(data, f"fig{suffix}", suffix=suffix)
        assert _unflagged_wrong_cells(rec, fig) == [], (seed, rec.status)
        assert not any("in a report that leaves cells blank" in f.message for f in rec.findings)
        cuts += sum("cut" in how.values() for rows in rec.evidence_method.values() for how in rows.values())
    assert cuts >= 8
