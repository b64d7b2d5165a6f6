"""Tables laid out with spaces: blank cells placed by the column they stand under.

Two renderings of our own figures: the layout text pdfplumber makes of an unruled PDF (each
character one column, labels wrapped in narrow cells, empty lines of a tall row), and
fixed-width text with a CJK character two columns wide. With blank zero cells neither can be
read row by row (``行政处罚    1          16`` for three cells); under the header's column labels
every cell is exact. Where the columns are not certain — numbers beside their labels rather
than under them, a number under two labels — the text is left as it is and nothing is guessed.
"""

from __future__ import annotations

import io
import re
import unicodedata

import pdfplumber
import pytest

from extractor.models import Record
from extractor.pipeline import extract_bytes
from extractor.read.aligned import align_space_tables
from extractor.tables.atoms import atoms_of
from extractor.tables.cells import SPLIT_OR_BLANKS, fit

from . import render as R
from .test_render_matrix import wrong_cells


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


_NUMERIC = re.compile(r"[+\-]?[\d,]*(?:\.\d+)?元?")


def fixed_width(bl: list[R.Block], *, numbers_right: bool = False) -> str:
    """Each table's columns padded to their widest cell (a CJK character two columns), cells
    parted by two spaces; labels and headers left-aligned, numbers left- or right-aligned."""
    out = []
    for b in bl:
        if b.kind == "para":
            out.append(b.text)
            continue
        ncol = max(len(r) for r in b.rows)
        rows = [r + [""] * (ncol - len(r)) for r in b.rows]
        widths = [max(_width(r[j]) for r in rows) for j in range(ncol)]
        for r in rows:
            cells = []
            for j, c in enumerate(r):
                pad = " " * (widths[j] - _width(c))
                right = numbers_right and j > 0 and _NUMERIC.fullmatch(c) is not None
                cells.append(pad + c if right else c + pad)
            out.append("  ".join(cells).rstrip())
        out.append("")
    return "\n".join(out)


def layout_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "\n".join(p.extract_text(layout=True) for p in doc.pages)


def _extract(text: str) -> Record:
    return extract_bytes(text.encode(), "aligned.txt", suffix=".txt")


@pytest.mark.parametrize("style", ["blank", "plain"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_layout_text_of_an_unruled_pdf_reads_every_cell(template: str, style: str) -> None:
    for seed in range(1, 5):
        fig = R.figures(template, seed)
        rec = _extract(layout_text(R.render(R.styled(R.blocks(fig), style), "unruled_pdf")))
        assert wrong_cells(rec, fig.tables) == [], seed
        assert rec.tables == fig.tables, (seed, [f.message for f in rec.findings if f.severity == "error"])
        assert rec.status == "verified", seed


@pytest.mark.parametrize("style", ["blank", "plain"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_layout_text_with_page_furniture_reads_every_cell(template: str, style: str) -> None:
    """Page numbers, （续表）, table 三's header repeated and the running title wrapped over
    three to five lines of a narrow column, inside the tables."""
    for seed in range(1, 4):
        fig = R.figures(template, seed)
        bl = R.furniture(R.styled(R.blocks(fig), style), fig)
        rec = _extract(layout_text(R.render(bl, "unruled_pdf")))
        assert rec.tables == fig.tables, (seed, [f.message for f in rec.findings if f.severity == "error"])
        assert rec.status == "verified", seed


@pytest.mark.parametrize("style", R.STYLES)
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_fixed_width_text_reads_every_cell(template: str, style: str) -> None:
    for seed in range(1, 9):
        fig = R.figures(template, seed)
        rec = _extract(fixed_width(R.styled(R.blocks(fig), style)))
        assert rec.tables == fig.tables, (seed, [f.message for f in rec.findings if f.severity == "error"])
        assert rec.status == "verified", seed


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_numbers_beside_their_labels_are_not_placed(template: str) -> None:
    """Right-aligned numbers under left-aligned labels stand under no label: no column is
    certain, the text stays as it is, the rows with blanks stay unread and no cell is wrong."""
    for seed in range(1, 9):
        fig = R.figures(template, seed)
        text = fixed_width(R.styled(R.blocks(fig), "blank"), numbers_right=True)
        assert align_space_tables(text) == text
        rec = _extract(text)
        assert wrong_cells(rec, fig.tables) == [], seed
        assert rec.status == "needs_review"


_HEAD = "信息内容      上一年项目数量  本年增/减  处理决定数量"


def test_a_table_printing_every_cell_is_left_as_it_is() -> None:
    text = (
        f"{_HEAD}\n行政处罚      1               0          16\n行政强制      2               9          7\n"
    )
    assert align_space_tables(text) == text


def test_a_number_under_two_labels_leaves_the_table_as_it_is() -> None:
    text = f"{_HEAD}\n行政处罚          1                   16\n行政强制          2            9\n"
    #                     "9" stands under 本年增/减 … and "16" between two labels:
    bad = text.replace("                   16", "               16")
    assert align_space_tables(bad) == bad


def test_blank_cells_take_the_column_they_stand_under() -> None:
    text = (
        f"{_HEAD}\n行政处罚      1                         16\n行政强制      2               9          7\n"
    )
    got = align_space_tables(text).splitlines()
    assert got[1] == "行政处罚 | 1 |  | 16 |"
    assert got[2] == "行政强制 | 2 | 9 | 7 |"


def test_a_label_only_row_is_blank_only_when_its_label_is_whole() -> None:
    """7.属于行政执法案卷 printed with no number is a row of blanks; a label whose numbers
    stand on the next line (its text continuing there) is not."""
    head = "                        自然人  商业企业  总计"
    text = (
        f"{head}\n"
        "7.属于行政执法案卷\n"
        "8.属于行政查询事项      1                 1\n"
        "（二）部分公开\n"
        "（区分处理的）          2       3         5\n"
    )
    got = align_space_tables(text).splitlines()
    assert got[1] == "7.属于行政执法案卷 |  |  |  |"
    assert got[2] == "8.属于行政查询事项 | 1 |  | 1 |"
    assert got[3] == "（二）部分公开"
    assert got[4] == "（区分处理的） | 2 | 3 | 5 |"


def test_an_empty_line_after_numbers_side_by_side_is_no_cell() -> None:
    """Layout text keeps a tall row's empty lines; where a row prints its cells side by side
    on one line, an empty line below them is layout, not a blank last cell."""
    segment = "          +26            3513      \n                                  \n"
    f = fit(atoms_of(segment), 3)
    assert f.how != "positional" and all("" not in c for c in f.candidates)  # was +26 | 3513 | (line)
    assert len(f.candidates) > 1 or f.problem == SPLIT_OR_BLANKS  # ambiguous: left unread
