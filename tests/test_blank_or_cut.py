"""A row printing fewer numbers than cells, apart (``行政处罚   1      16`` for three cells): a blank
cell or a number run together. Table 二 has no identity to tell them apart, so the row stays
unread with a finding naming it — never the digit cut ``1 1 6`` accepted as `verified`. Where
the layout shows the blank (tabs, pipes, HTML, the x position of an unruled PDF's numbers) it is
read as 0; where an identity tells (tables
三 and 四), the one reading it keeps is taken."""

from __future__ import annotations

import copy

import pytest

from extractor.models import Record
from extractor.pipeline import extract_bytes

from . import render as R
from .test_render_matrix import wrong_cells


def _spaced(bl: list[R.Block], gap: str) -> bytes:
    out = []
    for b in bl:
        if b.kind == "para":
            out.append(b.text)
            continue
        out.extend(gap.join(c for c in row if c) for row in b.rows)
        out.append("")
    return ("\n".join(out) + "\n").encode()


def _with_blank(fig: R.Figures, row_label: str, cell: int) -> list[R.Block]:
    """The report with one value cell of one table 二 row printed blank (the figure set says 0)."""
    bl = copy.deepcopy(R.blocks(fig))
    b = next(b for b in bl if b.table == "active_disclosure")
    row = next(r for r in b.rows if r[0] == row_label)
    row[len(row) - b.value_cols + cell] = ""
    return bl


LAYOUTS = {
    "spaces": lambda bl: (_spaced(bl, "   "), ".txt"),
    "one space": lambda bl: (_spaced(bl, " "), ".txt"),
    "tab": lambda bl: (R.render(bl, "tab"), ".txt"),
    "html": lambda bl: (R.render(bl, "html"), ".html"),
    "pdf": lambda bl: (R.render(bl, "pdf"), ".pdf"),
    "unruled pdf": lambda bl: (R.render(bl, "unruled_pdf"), ".pdf"),
}


def _extract(layout: str, bl: list[R.Block]) -> Record:
    data, suffix = LAYOUTS[layout](bl)
    return extract_bytes(data, f"fig{suffix}", suffix=suffix)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_blank_or_a_cut_is_never_guessed(layout: str) -> None:
    fig = R.figures("2019", 1)
    row = fig.tables["active_disclosure"]["punishment"]
    row["change"] = 0
    row["decisions"] = 16 if row["prev_items"] != 16 else 17  # two digits: "16" could be cut 1|6
    rec = _extract(layout, _with_blank(fig, "行政处罚", 1))
    assert wrong_cells(rec, fig.tables) == []
    got = rec.tables["active_disclosure"]["punishment"]
    # the layout shows where the blank stands (an unruled PDF: by the column each number stands under)
    if layout in ("tab", "html", "pdf", "unruled pdf"):
        assert rec.status == "verified" and got == row
        assert any(f.check == "blank" and "punishment.change" in f.message for f in rec.findings)
        return
    assert rec.status == "needs_review"
    assert got == {"prev_items": None, "change": None, "decisions": None}
    (why,) = [f for f in rec.findings if f.row == "punishment" and f.severity == "error"]
    assert "numbers run together or blank cells" in why.message
    assert why.actual == f"{row['prev_items']} {row['decisions']}"
    others = {k: v for k, v in rec.tables["active_disclosure"].items() if k != "punishment"}
    assert others == {k: v for k, v in fig.tables["active_disclosure"].items() if k != "punishment"}


@pytest.mark.parametrize("layout", ["spaces", "one space"])
def test_a_cut_without_a_printed_gap_is_still_read(layout: str) -> None:
    """Where no blank reading exists the cut stands: ``1 06`` — ``06`` is no number alone, so it
    is 0 and 6 run together, and the row is 1, 0, 6."""
    fig = R.figures("2019", 1)
    row = fig.tables["active_disclosure"]["punishment"]
    row.update(prev_items=1, change=0, decisions=6)
    bl = copy.deepcopy(R.blocks(fig))
    b = next(b for b in bl if b.table == "active_disclosure")
    r = next(r for r in b.rows if r[0] == "行政处罚")
    r[-3:] = ["1", "06", ""]  # printed "1 06": 06 is no number alone, so it is 0 and 6 run together
    rec = _extract(layout, bl)
    assert wrong_cells(rec, fig.tables) == []
    assert rec.tables["active_disclosure"]["punishment"] == row


@pytest.mark.parametrize("stray", ["12", "2022", "测试县人民政府2022"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_a_stray_line_in_one_cell_a_line_text_is_never_read_as_a_cell(template: str, stray: str) -> None:
    """A page number (or a torn running title) between table 四's header and its cells, in
    text printing one cell a line with blank zero cells: dropping the empty lines at the end
    would shift every cell and blame the source (``source_inconsistent``); the row stays unread."""
    for seed in range(1, 5):
        fig = R.figures(template, seed)
        bl = R.styled(R.blocks(fig), "blank")
        b = next(b for b in bl if b.table == "review_litigation")
        i = next(i for i, r in enumerate(b.rows) if any("结果维持" in c for c in r))
        b.rows[i + 1 : i + 1] = [[stray]]
        b.data[i + 1 : i + 1] = [False]
        rec = extract_bytes(R.render(bl, "lines"), "fig.txt", suffix=".txt")
        assert wrong_cells(rec, fig.tables) == [], seed
        assert rec.status in ("verified", "needs_review"), (seed, rec.status)


GRIDS = {
    "tab": ("tab", ".txt"),
    "pipe": ("pipe", ".txt"),
    "markdown": ("markdown", ".txt"),
    "bare markdown": ("bare_markdown", ".txt"),
    "csv": ("csv", ".csv"),
    "html": ("html", ".html"),
    "docx": ("docx", ".docx"),
}


@pytest.mark.parametrize("layout", GRIDS)
def test_a_stray_grid_row_lends_no_row_its_number(layout: str) -> None:
    """A grid row holding a page number or the year alone, after a row whose cells are blank
    (or all printed), in every table: the row above keeps its own grid line's cells."""
    kind, suffix = GRIDS[layout]
    for template in ("2019", "2021"):
        for table, after in (("active_disclosure", "行政许可"), ("applications", "信访举报投诉类申请")):
            for stray in ("12", "2022"):
                fig = R.figures(template, 2)
                bl = R.styled(R.blocks(fig), "blank")
                b = next(b for b in bl if b.table == table)
                i = next(i for i, r in enumerate(b.rows) if any(after in c for c in r))
                b.rows[i + 1 : i + 1] = [[stray]]
                b.data[i + 1 : i + 1] = [False]
                rec = extract_bytes(R.render(bl, kind), f"fig{suffix}", suffix=suffix)
                assert wrong_cells(rec, fig.tables) == [], (template, table, stray)
                assert rec.status != "source_inconsistent", (template, table, stray)
