"""PDF and DOCX readers: the seeds rendered as real DOCX/PDF files must give the seed's tables.

The DOCX files are built with python-docx (rows shorter than the table are padded with a
horizontally merged cell; a vertical merge is added where a label column is blank below a
label). The PDF files are built with reportlab using its built-in Adobe CID font STSong-Light,
so no system font is needed; tables are drawn ruled (GRID) with SPAN for the padding.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import docx
import pytest
from docx.table import Table as DocxTable
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from extractor.errors import InputError, InputTooLargeError, UnsupportedFormatError
from extractor.models import Record
from extractor.pipeline import extract_bytes, extract_document, extract_path
from extractor.read import archive, formats
from extractor.read.docx import docx_to_text
from extractor.read.load import Document, load_bytes, sha256_bytes
from extractor.read.normalise import SPAN, normalise_text

from .helpers import CORPUS, SEEDS


# ------------------------------------------------------------------------------- seed → blocks
def blocks(text: str) -> list[tuple[str, object]]:
    """Split a seed into paragraphs and tables (lists of rows of cell texts).

    Two seed layouts hold tables: tab-separated rows, and one cell per line with a leading tab,
    rows separated by blank lines (a line without a tab continues the previous cell).
    """
    lines = text.splitlines()
    out: list[tuple[str, object]] = []
    i = 0
    while i < len(lines):
        if "\t" not in lines[i]:
            out.append(("para", lines[i]))
            i += 1
            continue
        j = i
        while j < len(lines) and (
            "\t" in lines[j]
            or (
                j + 1 < len(lines) and "\t" in lines[j + 1] and (not lines[j].strip() or "\t" in lines[j - 1])
            )
        ):
            j += 1
        region, i = lines[i:j], j
        tabbed = [ln for ln in region if "\t" in ln]
        rows: list[list[str]] = []
        if all(ln.startswith("\t") and ln.count("\t") == 1 for ln in tabbed):
            cur: list[str] = []
            for ln in region:
                if "\t" not in ln and ln.strip() and cur:
                    cur[-1] += "\n" + ln
                elif ln.strip() or "\t" in ln:
                    cur.append(ln[1:])
                elif cur:
                    rows.append(cur)
                    cur = []
            if cur:
                rows.append(cur)
        else:
            rows = [ln.split("\t") for ln in tabbed]
        out.append(("table", rows))
    return out


def to_docx(text: str) -> bytes:
    d = docx.Document()
    for kind, value in blocks(text):
        if kind == "para":
            d.add_paragraph(str(value))
            continue
        rows: list[list[str]] = value  # type: ignore[assignment]
        width = max(len(r) for r in rows)
        table = d.add_table(rows=len(rows), cols=width)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                table.cell(i, j).text = cell
            if len(row) < width:  # horizontal merge: gridSpan
                table.cell(i, len(row) - 1).merge(table.cell(i, width - 1))
        _merge_label_column(table, rows, width)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _merge_label_column(table: DocxTable, rows: list[list[str]], width: int) -> None:
    """Vertically merge (vMerge) '三、本年度办理结果' down over the blank cells below it."""
    for i, row in enumerate(rows):
        if row and "本年度办理结果" in row[0] and len(row) == width:
            end = i
            while end + 1 < len(rows) and len(rows[end + 1]) == width and not rows[end + 1][0].strip():
                end += 1
            if end > i:
                table.cell(i, 0).merge(table.cell(end, 0))
                table.cell(i, 0).text = row[0]  # merge() joins the paragraphs; keep the label only


_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
_STYLE = ParagraphStyle("cjk", fontName=_FONT, fontSize=8, leading=10, wordWrap="CJK")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_pdf(text: str) -> bytes:
    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=20, rightMargin=20, topMargin=20, bottomMargin=20)
    flow: list[object] = []
    for kind, value in blocks(text):
        if kind == "para":
            if str(value).strip():
                flow.append(Paragraph(_esc(str(value)), _STYLE))
            continue
        rows: list[list[str]] = value  # type: ignore[assignment]
        width = max(len(r) for r in rows)
        style: list[tuple[object, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0))]
        data = []
        for i, row in enumerate(rows):
            cells = [Paragraph(_esc(c).replace("\n", "<br/>"), _STYLE) if c.strip() else "" for c in row]
            data.append(cells + [""] * (width - len(row)))
            if len(row) < width:
                style.append(("SPAN", (len(row) - 1, i), (width - 1, i)))
        flow.append(Table(data, colWidths=[(page[0] - 40) / width] * width, style=TableStyle(style)))
        flow.append(Spacer(1, 6))
    doc.build(flow)
    return buf.getvalue()


def _simulated_load(text: str, data: bytes, path: str, fmt: str) -> Record:
    """What load.py does with the text once it routes DOCX/PDF here (normalise → pipeline)."""
    return extract_document(Document(path, sha256_bytes(data), normalise_text(text), fmt))


def _errors(rec: Record) -> list[str]:
    return [f.message for f in rec.findings if f.severity == "error"]


_PROBE_DOCX = to_docx("规章\t1\t2\t3")

SEED_IDS = [p.name[:3] for p in SEEDS]


@pytest.fixture(scope="module")
def seed_refs() -> dict[str, tuple[str, Record]]:
    return {p.name[:3]: (p.read_text(encoding="utf-8"), extract_path(p)) for p in SEEDS}


# ------------------------------------------------------------------------------------- DOCX
@pytest.mark.parametrize("sid", SEED_IDS)
def test_docx_rendering_reproduces_seed_tables(sid: str, seed_refs: dict[str, tuple[str, Record]]) -> None:
    text, ref = seed_refs[sid]
    data = to_docx(text)
    out = docx_to_text(data, f"{sid}.docx")
    rec = _simulated_load(out, data, f"{sid}.docx", "docx")
    assert rec.tables == ref.tables, _errors(rec)
    assert rec.status == ref.status and rec.template == ref.template
    if "\t" in text:
        assert re.search(r"^\| .* \|$", out, re.M), "tables must come out as pipe rows"


@pytest.mark.parametrize("sid", SEED_IDS)
def test_docx_through_extract_bytes(sid: str, seed_refs: dict[str, tuple[str, Record]]) -> None:
    text, ref = seed_refs[sid]
    rec = extract_bytes(to_docx(text), f"{sid}.docx", suffix=".docx")
    assert rec.tables == ref.tables, _errors(rec)
    assert rec.status == ref.status


def test_docx_merged_cells_become_span_and_blanks_stay_blank(
    seed_refs: dict[str, tuple[str, Record]],
) -> None:
    lines = docx_to_text(to_docx(seed_refs["000"][0]), "000.docx").splitlines()
    # 第二十条第（一）项 + 3 blank cells in the seed: a real row of 4 cells (blanks stay blank).
    assert "| 第二十条第（一）项 |  |  |  |" in lines
    # The vMerge of 三、本年度办理结果: its first row holds the label, the rows below a SPAN.
    i = next(n for n, ln in enumerate(lines) if ln.startswith("| 三、本年度办理结果 |"))
    assert lines[i + 1].startswith(f"| {SPAN} | (二) 部分公开")
    assert lines[i + 2].startswith(f"| {SPAN} | (三) 不予公开 | 1.属于国家秘密 | 0 |")
    # Seed 003 mixes 8- and 9-cell rows in table 三: the 8-cell rows end in a gridSpan of 2.
    lines = docx_to_text(to_docx(seed_refs["003"][0]), "003.docx").splitlines()
    assert f"| 一、本年新收政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | {SPAN} |" in lines


def test_docx_keeps_document_order_and_tabs() -> None:
    d = docx.Document()
    d.add_paragraph("一、总体情况")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "a|b"
    t.cell(0, 1).text = ""
    p = d.add_paragraph("后")
    p.add_run("\t跟")
    buf = io.BytesIO()
    d.save(buf)
    out = docx_to_text(buf.getvalue(), "x.docx")
    assert out.index("一、总体情况") < out.index("| a/b |  |") < out.index("后\t跟")


def test_docx_layout_table_is_unwrapped(seed_refs: dict[str, tuple[str, Record]]) -> None:
    """A whole report inside a one-cell layout table still yields its inner tables as grids."""
    text, ref = seed_refs["001"]
    inner = docx.Document(io.BytesIO(to_docx(text)))
    outer = docx.Document()
    frame = outer.add_table(rows=1, cols=1)
    cell = frame.cell(0, 0)._tc
    for child in list(inner.element.body.iterchildren()):
        if not child.tag.endswith("}sectPr"):
            cell.append(child)
    buf = io.BytesIO()
    outer.save(buf)
    out = docx_to_text(buf.getvalue(), "framed.docx")
    assert "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |" in out.splitlines()
    rec = _simulated_load(out, buf.getvalue(), "framed.docx", "docx")
    assert rec.tables == ref.tables


def test_a_docx_without_its_suffix_is_opened_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader sniffs a suffix-less DOCX and reads its parts from the one archive it opened."""
    opened: list[object] = []
    real_init = zipfile.ZipFile.__init__

    def counting_init(self: zipfile.ZipFile, *args: Any, **kwargs: Any) -> None:
        opened.append(args[0])
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    doc = load_bytes(_PROBE_DOCX, "upload", suffix="")
    assert doc.source_format == "docx" and "规章" in doc.text
    assert len(opened) == 1
    assert load_bytes(_PROBE_DOCX, "r.docx", suffix=".docx").text == doc.text and len(opened) == 2


def test_docx_errors() -> None:
    with pytest.raises(InputError, match="not a valid DOCX"):
        docx_to_text(b"PK\x03\x04 broken", "bad.docx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<x/>")
    with pytest.raises(UnsupportedFormatError, match=r"word/document\.xml"):
        docx_to_text(buf.getvalue(), "sheet.docx")
    probe, sheet = archive.open_package(_PROBE_DOCX), archive.open_package(buf.getvalue())
    assert archive.is_docx(probe, "") and not archive.is_docx(sheet, "") and archive.is_docx(None, ".docx")
    assert archive.open_package(b"PK\x03\x04 broken") is None and not archive.is_docx(None, "")
    buf2 = io.BytesIO()
    with zipfile.ZipFile(buf2, "w") as zf:
        zf.writestr("word/document.xml", "<not-a-docx")
    with pytest.raises(InputError, match="cannot read DOCX"):
        docx_to_text(buf2.getvalue(), "broken.docx")


# -------------------------------------------------------------------------------------- PDF
@pytest.mark.parametrize("sid", SEED_IDS)
def test_pdf_rendering_reproduces_seed_tables(sid: str, seed_refs: dict[str, tuple[str, Record]]) -> None:
    text, ref = seed_refs[sid]
    data = to_pdf(text)
    out = formats.pdf_to_text(data, f"{sid}.pdf")
    rec = _simulated_load(out, data, f"{sid}.pdf", "pdf")
    assert rec.tables == ref.tables, _errors(rec)
    assert rec.status == ref.status and rec.template == ref.template


@pytest.mark.parametrize("sid", SEED_IDS)
def test_pdf_through_extract_bytes(sid: str, seed_refs: dict[str, tuple[str, Record]]) -> None:
    text, ref = seed_refs[sid]
    rec = extract_bytes(to_pdf(text), f"{sid}.pdf", suffix=".pdf")
    assert rec.tables == ref.tables, _errors(rec)


def test_pdf_table_rows_and_spans(seed_refs: dict[str, tuple[str, Record]]) -> None:
    lines = formats.pdf_to_text(to_pdf(seed_refs["003"][0]), "003.pdf").splitlines()
    assert "| 第二十条第(一)项 |  |  |  |" in lines
    assert f"| 二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | {SPAN} |" in lines


def test_real_pdf_013() -> None:
    data = (CORPUS / "013.pdf").read_bytes()
    assert formats.is_pdf(data, "")
    out = formats.pdf_to_text(data, "013.pdf")
    for label in ("主动公开政府信息情况", "本年新收政府信息公开申请数量", "（七）总计", "行政复议"):
        assert label in out
    lines = out.splitlines()
    new = next(ln for ln in lines if ln.startswith("| 一、本年新收政府信息公开申请数量"))
    assert new.split(" | ")[-7:] == ["3001", "53", "0", "0", "61", "4", "3119 |"]
    total = next(ln for ln in lines if "（七）总计" in ln)
    assert total.endswith("| 3050 |")
    assert "| 72 | 64 | 178 | 37 | 351 | 13 | 4 | 8 | 1 | 26 | 12 | 1 | 1 | 6 | 20 |" in lines
    # Text outside the tables stays in page order around them.
    assert out.index("一、总体情况") < out.index("| 规章 | 1 | 0 | 11 |") < out.index("五、存在的主要问题")
    # Cells covered by merges are SPAN, not blank.
    assert f"| 第二十条 第（一）项 | {SPAN} | {SPAN} | {SPAN} |" in lines
    rec = _simulated_load(out, data, "013.pdf", "pdf")
    assert rec.template == "2021" and rec.year == 2024
    assert rec.tables["review_litigation"]["review"]["total"] == 351
    assert rec.tables["active_disclosure"]["fees"] == {"amount_wan_yuan": 96171.6}


def _canvas_pdf(pages: int, *, text: bool) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(pages):
        c.rect(50, 50, 200, 200, fill=1)  # an "image" area: no text layer
        if text:
            c.setFont(_FONT, 12)
            c.drawString(60, 700, "政府信息公开工作年度报告")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_scanned_pdf_gives_empty_text() -> None:
    assert formats.pdf_to_text(_canvas_pdf(2, text=False), "scan.pdf") == ""
    assert "年度报告" in formats.pdf_to_text(_canvas_pdf(1, text=True), "t.pdf")


def test_scanned_and_corrupt_pdf_records() -> None:
    rec = extract_bytes(_canvas_pdf(2, text=False), "scan.pdf", suffix=".pdf")
    assert rec.status == "needs_review" and any(f.check == "scanned" for f in rec.findings)
    rec = extract_bytes(b"%PDF-1.4 junk", "bad.pdf", suffix=".pdf")
    assert rec.status == "error" and rec.error is not None and "cannot read PDF" in rec.error


def test_pdf_page_with_hatching_is_read_as_text() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(3000):  # 6,000 ruling edges: over the table-detection budget
        c.line(50 + i % 60 * 8, 100 + i // 60 * 8, 54 + i % 60 * 8, 100 + i // 60 * 8)
        c.line(50 + i % 60 * 8, 100 + i // 60 * 8, 50 + i % 60 * 8, 104 + i // 60 * 8)
    c.setFont(_FONT, 12)
    c.drawString(60, 780, "收到政府信息公开申请 3119 件")
    c.showPage()
    c.save()
    assert "3119" in formats.pdf_to_text(buf.getvalue(), "hatched.pdf")


def test_pdf_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_PDF_PAGES", 2)
    with pytest.raises(InputTooLargeError, match="3 pages"):
        formats.pdf_to_text(_canvas_pdf(3, text=True), "long.pdf")


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n%garbage that is not a pdf\n", b"%PDF-1.7\n" + bytes(range(256)) * 40, b""],
    ids=["truncated", "binary-junk", "empty"],
)
def test_corrupt_pdf_raises_input_error(data: bytes) -> None:
    with pytest.raises(InputError, match="cannot read PDF"):
        formats.pdf_to_text(data, "bad.pdf")


def test_encrypted_pdf() -> None:
    from reportlab.lib import pdfencrypt  # type: ignore[import-untyped]

    buf = io.BytesIO()
    enc = pdfencrypt.StandardEncryption("secret", ownerPassword="owner", strength=128)
    c = canvas.Canvas(buf, encrypt=enc)
    c.setFont(_FONT, 12)
    c.drawString(60, 700, "加密")
    c.showPage()
    c.save()
    with pytest.raises(UnsupportedFormatError, match="encrypted"):
        formats.pdf_to_text(buf.getvalue(), "locked.pdf")


def test_pdf_table_across_pages_keeps_rows() -> None:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4)
    rows = [[Paragraph(f"第{i}行", _STYLE), str(i), ""] for i in range(3)]
    style = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0))])
    doc.build([Table(rows, style=style), PageBreak(), Table(rows, style=style)])
    out = formats.pdf_to_text(buf.getvalue(), "two.pdf")
    assert out.count("| 第1行 | 1 |  |") == 2
