"""Every layout × value style × template, rendered from figures of our own (tests/render.py):
each report must come out exact and ``verified``, with zero wrong cells accepted."""

from __future__ import annotations

from typing import Any

import pytest

from extractor.models import Record
from extractor.pipeline import extract_bytes

from . import render as R

TEXT_LAYOUTS = ("tab", "pipe", "markdown", "bare_markdown", "csv", "lines", "html", "json")


def extract(bl: list[R.Block], layout: str) -> Record:
    return extract_bytes(R.render(bl, layout), f"fig{R.SUFFIX[layout]}", suffix=R.SUFFIX[layout])


def wrong_cells(rec: Record, tables: R.Tables) -> list[str]:
    """Cells whose value differs from the figures (an unread cell is not wrong, only missing)."""
    out = []
    for t, rows in tables.items():
        for r, cols in rows.items():
            for c, v in cols.items():
                got: Any = rec.tables.get(t, {}).get(r, {}).get(c)
                if got is not None and got != v:
                    out.append(f"{t}.{r}.{c}: read {got!r}, printed {v!r}")
    return out


def assert_exact(rec: Record, fig: R.Figures, status: str = "verified") -> None:
    errors = [f"{f.check}: {f.message}" for f in rec.findings if f.severity == "error"]
    assert wrong_cells(rec, fig.tables) == []
    assert rec.tables == fig.tables, errors
    assert rec.status == status, errors
    assert rec.template == fig.template


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("style", R.STYLES)
@pytest.mark.parametrize("layout", TEXT_LAYOUTS)
@pytest.mark.parametrize("seed", [1, 3, 5])
def test_text_layouts_are_exact(template: str, style: str, layout: str, seed: int) -> None:
    fig = R.figures(template, seed)
    assert_exact(extract(R.styled(R.blocks(fig), style), layout), fig)


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("style", R.STYLES)
@pytest.mark.parametrize("layout", ["pdf", "docx"])
def test_pdf_and_docx_are_exact(template: str, style: str, layout: str) -> None:
    fig = R.figures(template, 2)
    assert_exact(extract(R.styled(R.blocks(fig), style), layout), fig)


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("style", R.STYLES)
def test_unruled_pdf_is_exact(template: str, style: str) -> None:
    """No rules: a row with blank cells is read by the column each number stands under
    (extractor/read/pdf_columns.py); rows printing every cell are read from the text layout."""
    fig = R.figures(template, 2)
    assert_exact(extract(R.styled(R.blocks(fig), style), "unruled_pdf"), fig)


@pytest.mark.parametrize("layout", [*TEXT_LAYOUTS, "docx"])
@pytest.mark.parametrize("style", ["plain", "blank"])
def test_inconsistent_figures_stay_as_printed(layout: str, style: str) -> None:
    """A report whose own table 三 breaks H1 and H3: source_inconsistent, numbers as printed."""
    fig = R.figures("2021", 4)
    row = fig.tables["applications"]["carried_over"]
    row["natural_person"] += 7  # H1 (the column) and H3 (the row) now fail in the source
    rec = extract(R.styled(R.blocks(fig), style), layout)
    assert_exact(rec, fig, "source_inconsistent")
    assert {f.check for f in rec.findings if f.severity == "error"} == {"H1", "H3"}


@pytest.mark.parametrize("layout", ["tab", "pipe", "lines", "html", "docx"])
def test_table_four_breaking_its_totals(layout: str) -> None:
    fig = R.figures("2019", 6)
    fig.tables["review_litigation"]["review"] = {
        "upheld": 10,
        "corrected": 1,
        "other": 0,
        "pending": 0,
        "total": 0,
    }
    rec = extract(R.styled(R.blocks(fig), "blank"), layout)
    assert_exact(rec, fig, "source_inconsistent")
    assert [f.check for f in rec.findings if f.severity == "error"] == ["H4"]


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_blank_lines_that_prove_nothing_leave_cells_unread(template: str) -> None:
    """One cell per line, a row printing 5 lines where 7 cells belong (two of them empty):
    the empty lines prove nothing, so the row stays unread — never shifted."""
    fig = R.figures(template, 3)
    bl = R.styled(R.blocks(fig), "blank")
    apps = next(b for b in bl if b.table == "applications")
    i = next(i for i, r in enumerate(apps.rows) if "予以公开" in "".join(r))
    apps.rows[i] = [*apps.rows[i][:3], "", "12", "", "3", "15"]
    rec = extract(bl, "lines")
    assert set(rec.tables["applications"]["granted"].values()) == {None}
    assert rec.status == "needs_review"
    assert any(f.row == "granted" and f.check == "unreadable" for f in rec.findings)
