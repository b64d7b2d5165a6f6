"""Deterministic PDF and DOCX renderings of the seeds in several layouts (reader parity checks).

Each seed is drawn as a PDF ruled with lines, unruled, with cell borders as thin filled
rectangles, in a second CJK font, on small pages so tables split over pages, and with a narrow
label column so labels wrap; and as DOCX with merged cells, inside a layout (frame) table with a
nested table, and with content controls. reportlab runs in invariant mode, so the bytes (and
the records' ``sha256``) are the same on every run.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

import docx
from docx.oxml.ns import qn
from reportlab import rl_config  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, A5, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

from .helpers import SEEDS
from .test_formats import blocks, to_docx

rl_config.invariant = 1
for _font in ("STSong-Light", "MSung-Light"):
    pdfmetrics.registerFont(UnicodeCIDFont(_font))


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def layout_pdf(
    text: str,
    *,
    font: str = "STSong-Light",
    grid: bool = True,
    page: tuple[float, float] = landscape(A4),
    label_frac: float | None = None,
    size: float = 8,
) -> bytes:
    """A seed through reportlab's platypus: paragraphs and tables, in the given layout."""
    style_p = ParagraphStyle("cjk", fontName=font, fontSize=size, leading=size * 1.25, wordWrap="CJK")
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=20, rightMargin=20, topMargin=20, bottomMargin=20)
    flow: list[object] = []
    for kind, value in blocks(text):
        if kind == "para":
            if str(value).strip():
                flow.append(Paragraph(_esc(str(value)), style_p))
            continue
        rows: list[list[str]] = value  # type: ignore[assignment]
        width = max(len(r) for r in rows)
        style: list[tuple[object, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0))] if grid else []
        data = []
        for i, row in enumerate(rows):
            cells = [Paragraph(_esc(c).replace("\n", "<br/>"), style_p) if c.strip() else "" for c in row]
            data.append(cells + [""] * (width - len(row)))
            if len(row) < width:
                style.append(("SPAN", (len(row) - 1, i), (width - 1, i)))
        usable = page[0] - 40
        if label_frac is not None and width > 1:
            widths = [usable * label_frac] + [usable * (1 - label_frac) / (width - 1)] * (width - 1)
        else:
            widths = [usable / width] * width
        flow.append(Table(data, colWidths=widths, style=TableStyle(style)))
        flow.append(Spacer(1, 6))
    doc.build(flow)
    return buf.getvalue()


def boxed_pdf(text: str) -> bytes:
    """Tables drawn by hand: cell text with drawString, borders as thin filled rectangles."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=landscape(A4))
    pw, ph = landscape(A4)
    y = ph - 30
    for kind, value in blocks(text):
        rows: list[list[str]] = [[str(value)]] if kind == "para" else value  # type: ignore[assignment]
        if kind == "para" and not str(value).strip():
            continue
        width = max(len(r) for r in rows)
        col = (pw - 40) / max(width, 1)
        for row in rows:
            h = 14 * max(1, *(cell.count("\n") + 1 for cell in row))
            if y - h < 20:
                c.showPage()
                y = ph - 30
            for j, cell in enumerate(row):
                c.setFont("STSong-Light", 7)
                for k, ln in enumerate(cell.split("\n")):
                    c.drawString(22 + j * col, y - 10 - 14 * k, ln[: int(col / 7)])
                if kind == "table":
                    x = 20 + j * col
                    span = col * (width - j if j == len(row) - 1 else 1)
                    for rx, ry, rw, rh in ((x, y, span, 0.5), (x, y - h, span, 0.5), (x, y - h, 0.5, h)):
                        c.rect(rx, ry, rw, rh, stroke=0, fill=1)
                    c.rect(x + span, y - h, 0.5, h, stroke=0, fill=1)
            y -= h
        y -= 8
    c.showPage()
    c.save()
    return buf.getvalue()


def framed_docx(text: str) -> bytes:
    """The seed's DOCX inside a one-cell layout table, with a table nested in it and an sdt."""
    inner = docx.Document(io.BytesIO(to_docx(text)))
    outer = docx.Document()
    outer.add_paragraph("前言")
    frame = outer.add_table(rows=1, cols=1)
    cell = frame.cell(0, 0)
    cell.paragraphs[0].text = "框内"
    body = inner.element.body
    for child in list(body.iterchildren()):
        if child.tag == qn("w:sectPr"):
            continue
        cell._tc.append(child)
    cell._tc.append(cell._tc.makeelement(qn("w:p"), {}))  # a cell must end with a paragraph
    sdt = outer.element.body.makeelement(qn("w:sdt"), {})
    content = sdt.makeelement(qn("w:sdtContent"), {})
    para = outer.add_paragraph("控件内的段落\t制表")
    content.append(para._p)
    sdt.append(content)
    outer.element.body.insert(len(outer.element.body) - 1, sdt)
    buf = io.BytesIO()
    outer.save(buf)
    return buf.getvalue()


_PDF_LAYOUTS: dict[str, Callable[[str], bytes]] = {
    "ruled": layout_pdf,
    "unruled": lambda t: layout_pdf(t, grid=False),
    "msung": lambda t: layout_pdf(t, font="MSung-Light"),
    "split": lambda t: layout_pdf(t, page=A5, size=7),
    "wrapped": lambda t: layout_pdf(t, label_frac=0.12),
    "boxed": boxed_pdf,
}
_DOCX_LAYOUTS: dict[str, Callable[[str], bytes]] = {"merged": to_docx, "framed": framed_docx}


def fixed_zip(data: bytes) -> bytes:
    """The same package with every member's timestamp fixed (python-docx stamps the save time),
    members deflated as python-docx and Word write them (``writestr`` of a ``ZipInfo`` ignores the
    archive's compression: the members were stored, and hashing them cost the benchmark 0.6 ms)."""
    out = io.BytesIO()
    deflated = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", deflated) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, (2020, 1, 1, 0, 0, 0)), src.read(info), deflated)
    return out.getvalue()


def renders(*, pdf: bool = True) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` for every seed in every PDF and DOCX layout; names end in the suffix.
    ``pdf=False``: the DOCX layouts only."""
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        sid = path.name[:3]
        for layout, fn in _PDF_LAYOUTS.items() if pdf else ():
            yield f"{sid}_{layout}.pdf", fn(text)
        for layout, fn in _DOCX_LAYOUTS.items():
            yield f"{sid}_{layout}.docx", fixed_zip(fn(text))
