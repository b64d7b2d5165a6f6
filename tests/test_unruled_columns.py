"""Unruled PDF tables with blank cells, read by the column each number stands under
(extractor/read/pdf_columns.py): exact and ``verified`` where the alignment is unambiguous, and
left as the text layout prints it — rows unread with their finding — where it is not."""

from __future__ import annotations

import pytest
from reportlab.lib.pagesizes import A4, A5, landscape, portrait  # type: ignore[import-untyped]

from extractor.models import Record
from extractor.pipeline import extract_bytes
from extractor.read import formats, pdf_columns, pdf_text, pdfium

from . import render as R
from .helpers import CORPUS
from .renders import renders
from .test_render_matrix import assert_exact, wrong_cells


def _extract(data: bytes) -> Record:
    return extract_bytes(data, "fig.pdf", suffix=".pdf")


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("seed", [1, 3, 4, 6, 9])
def test_blank_cells_are_read_by_column(template: str, seed: int) -> None:
    """Labels wrapped over two and three lines, table 三 over two pages, rows with every cell
    blank: each number under its heading, each blank a 0 the row's cells prove."""
    fig = R.figures(template, seed)
    rec = _extract(R.render(R.styled(R.blocks(fig), "blank"), "unruled_pdf"))
    assert_exact(rec, fig)
    assert any(f.check == "blank" for f in rec.findings)


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("cells", [1, 2], ids=["centred", "right-aligned"])
@pytest.mark.parametrize("seed", [2, 5])
def test_centred_and_right_aligned_tables(template: str, cells: int, seed: int) -> None:
    """Headings and numbers centred (or right-aligned) in their cells: a wrapped heading's lines
    no longer start at one x (``未经复议直``/``接起诉``) and are joined by their overlap."""
    fig = R.figures(template, seed)
    assert_exact(_extract(R._pdf(R.styled(R.blocks(fig), "blank"), ruled=False, cells=cells)), fig)


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("seed", [1, 4])
def test_pages_pdfium_hands_to_pdfplumber(template: str, seed: int) -> None:
    """A Bézier curve on every page: pdfplumber lays the pages out, the columns are the same."""
    fig = R.figures(template, seed)
    data = R._pdf(R.styled(R.blocks(fig), "blank"), ruled=False, curve=True)
    doc = pdfium.open_document(data)
    assert all(pdfium.read_page(doc, i, 0.0) is None for i in range(len(doc)))
    doc.close()
    assert_exact(_extract(data), fig)


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("leading", [12, 20])
def test_widely_spaced_lines(template: str, leading: float) -> None:
    """Cells with wide line spacing (7 pt text, 12 or 20 pt leading): rows are still told apart
    from a wrapped label's lines, and table 三's header rows, cut by the page's end, are joined."""
    fig = R.figures(template, 1)
    assert_exact(_extract(R._pdf(R.styled(R.blocks(fig), "blank"), ruled=False, leading=leading)), fig)


_PAGES = {"A4 portrait": portrait(A4), "A5 landscape": landscape(A5), "A4 landscape": landscape(A4)}


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("page", _PAGES)
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_tables_split_over_pages_with_furniture(template: str, page: str, seed: int) -> None:
    """Narrow pages: headings wrapped (``结果维`` over ``持``), tables going on over pages after a
    page number and the running title, the header of table 四 on one page and its data on the next."""
    fig = R.figures(template, seed)
    bl = R.styled(R.blocks(fig), "blank")
    data = R.render_pdf(bl, pagesize=_PAGES[page], footer="第 {n} 页 共 9 页", ruled=False)
    assert_exact(_extract(data), fig)


def _row_index(bl: list[R.Block], table: str, label: str) -> int:
    b = next(b for b in bl if b.table == table)
    return next(i for i, r in enumerate(b.rows) if any(label in c for c in r))


def _ambiguous(template: str, seed: int, digits: str) -> tuple[R.Figures, bytes, str]:
    """Table 三 with one number right-aligned in its cell (on table 三's second page), so it stands
    under no heading (a short number) or across the border of two columns' bands (a long one)."""
    fig = R.figures(template, seed)
    apps = fig.tables["applications"]
    key = "denied_third_party"
    row = {c: 0 for c in apps[key]}
    row.update(natural_person=int(digits), research=3, total=int(digits) + 3)
    delta = {c: row[c] - apps[key][c] for c in row}
    apps[key] = row
    for k in ("total_processed", "new_received"):  # H1/H2 still hold
        apps[k] = {c: apps[k][c] + delta[c] for c in row}
    bl = R.styled(R.blocks(fig), "blank")
    at = _row_index(bl, "applications", "保护第三方合法权益")
    return fig, R._pdf(bl, ruled=False, aligned={"applications": {(at, 3): "RIGHT"}}), key


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("digits", ["12", "123456"])
def test_a_number_under_no_heading_leaves_the_table_as_printed(template: str, digits: str) -> None:
    fig, data, key = _ambiguous(template, 5, digits)
    text = formats.pdf_to_text(data, "fig.pdf")
    # from that row on, the text is the text layout's (the part of table 三 on the page before,
    # unambiguous on its own, is read by column)
    rest = text[text.index("4.保护第三方合法权益") : text.index("四、政府信息公开行政复议")]
    assert "|" not in rest and rest.startswith("4.保护第三方合法权益 " + digits)
    rec = _extract(data)
    assert wrong_cells(rec, fig.tables) == []
    assert rec.status == "needs_review"
    assert set(rec.tables["applications"][key].values()) == {None}
    (why,) = [f for f in rec.findings if f.row == key and f.severity == "error"]
    assert why.check == "unreadable"
    assert rec.tables["review_litigation"] == fig.tables["review_litigation"]


def test_full_rows_keep_the_text_layout() -> None:
    """A table printing every cell is not rewritten: the text is the text layout's own."""
    fig = R.figures("2021", 2)
    text = formats.pdf_to_text(R.render(R.styled(R.blocks(fig), "plain"), "unruled_pdf"), "fig.pdf")
    assert "|" not in text


def _pdfs() -> list[tuple[str, bytes]]:
    out = [(n, d) for n, d in renders() if n.endswith(".pdf")]
    out += [(p.name, p.read_bytes()) for p in sorted(CORPUS.iterdir()) if p.suffix == ".pdf"]
    for template in ("2019", "2021"):
        fig = R.figures(template, 3)
        out.append((f"unruled_{template}.pdf", R.render(R.styled(R.blocks(fig), "blank"), "unruled_pdf")))
    return out


@pytest.mark.parametrize(("name", "data"), _pdfs(), ids=lambda v: v if isinstance(v, str) else "")
def test_word_boxes_give_the_text_layouts_lines(name: str, data: bytes) -> None:
    """The lines rebuilt with word boxes are the text layout's, character for character, on every
    page (a band holding a table heading is written from them, rewritten or not)."""
    doc = pdfium.open_document(data)
    doctop = 0.0
    try:
        for i in range(len(doc)):
            page = pdfium.read_page(doc, i, doctop)
            doctop += doc.get_page_size(i)[1]
            if page is None:
                continue
            lines = pdf_columns.lines_of(page.chars, page.bbox)
            rebuilt = "\n".join(pdf_columns._line_text(line) for line in lines)
            assert rebuilt == pdf_text.band_text(page.chars, page.bbox), f"{name} p{i + 1}"
    finally:
        doc.close()
