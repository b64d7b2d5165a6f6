"""The DOCX reader's XSLT path gives the Python walk's text (issue 11), and falls back to the walk.

:func:`extractor.read.docx.text_of` returns the text and the reader that gave it; every test
here compares it with :func:`extractor.read.docx.walked` on the same parsed body: the DOCX
renderings of the seeds, thousands of generated bodies (a seeded generator mixing spans,
vertical merges, grid before/after, content-control and custom-XML wrappers around body items,
rows and cells, frame tables, nested tables, tabs inside and outside runs, breaks, empty cells,
``|`` and full-width spaces), and one part per fallback trigger, which must take the walk.
"""

from __future__ import annotations

import random
import re

import pytest
from lxml import etree

from extractor.read import docx
from extractor.read.docx import body_of, text_of, walked

from .renders import renders

_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_NS}"><w:body>'
_TAIL = "<w:sectPr/></w:body></w:document>"
_VALS = ["0", "1", "2", "3", "300", "abc", "", None, "-1", " 2", "+2", "٣", "1_0", "restart", "continue"]
_CHARS = "甲乙丙一二三1234567890 ab|/　.-%"


def _doc(body: str, head: str = _HEAD) -> bytes:
    return (head + body + _TAIL).encode("utf-8")


def _both(raw: bytes) -> tuple[str, str, str]:
    """(fast text, reader, walked text) of one part."""
    body = body_of(raw)
    text, reader = text_of(body, raw)
    return text, reader, walked(body)


# ------------------------------------------------------------------------- generated bodies
class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def text(self) -> str:
        s = "".join(self.r.choice(_CHARS) for _ in range(self.r.randint(0, 6)))
        return s.replace("&", "&amp;")

    def prop(self, name: str) -> str:
        v = self.r.choice(_VALS)
        return f"<w:{name}/>" if v is None else f'<w:{name} w:val="{v}"/>'

    def run(self) -> str:
        k = self.r.random()
        if k < 0.55:
            space = ' xml:space="preserve"' if self.chance(0.3) else ""
            return f"<w:r><w:t{space}>{self.text()}</w:t></w:r>"
        if k < 0.65:
            return "<w:r><w:tab/><w:t>" + self.text() + "</w:t></w:r>"
        if k < 0.72:
            return "<w:tab/>"  # a tab outside a run: a tab stop, no text
        if k < 0.8:
            return f"<w:r><w:{self.r.choice(['br', 'cr'])}/><w:t>{self.text()}</w:t></w:r>"
        if k < 0.86:
            return f"<w:hyperlink><w:r><w:t>{self.text()}</w:t><w:tab/></w:r></w:hyperlink>"
        if k < 0.9:
            return f"<w:r><w:rPr><w:b/></w:rPr><w:t>{self.text()}<w:x/>{self.text()}</w:t></w:r>"
        if k < 0.93:
            return f"<w:r><w:t><w:x/>{self.text()}</w:t></w:r>"
        if k < 0.96:
            return "<w:r><w:t/></w:r>"
        return f"<w:r><w:delText>{self.text()}</w:delText></w:r>"

    def para(self) -> str:
        ppr = "<w:pPr><w:jc w:val='center'/></w:pPr>" if self.chance(0.2) else ""
        return "<w:p>" + ppr + "".join(self.run() for _ in range(self.r.randint(0, 4))) + "</w:p>"

    def wrap(self, inner: str, p: float) -> str:
        if not self.chance(p):
            return inner
        if self.chance(0.5):
            return f"<w:sdt><w:sdtPr/><w:sdtContent>{inner}</w:sdtContent></w:sdt>"
        return (
            f"<w:customXml>{inner}</w:customXml>"
            if self.chance(0.7)
            else f"<w:sdtContent>{inner}</w:sdtContent>"
        )

    def items(self, depth: int, n: int) -> str:
        out = []
        for _ in range(n):
            k = self.r.random()
            if k < 0.55 or depth > 3:
                item = self.para()
            elif k < 0.8:
                item = self.table(depth + 1)
            elif k < 0.9:
                tag = self.r.choice(["ins", "smartTag", "del", "bookmarkStart"])
                item = f"<w:{tag}>{self.items(depth + 1, self.r.randint(0, 2))}</w:{tag}>"
            else:
                item = self.wrap(self.items(depth + 1, self.r.randint(1, 2)), 1.0)
            out.append(self.wrap(item, 0.1))
        return "".join(out)

    def cell(self, depth: int, frame: bool) -> str:
        props = "".join(
            self.prop(n) for n in ("gridSpan", "vMerge") if self.chance(0.25 if not frame else 0.05)
        )
        tcpr = f"<w:tcPr><w:tcW w:w='100'/>{props}</w:tcPr>" if props or self.chance(0.5) else ""
        if self.chance(0.05):
            tcpr += f"<w:tcPr>{self.prop('gridSpan')}</w:tcPr>"  # a second holder: the first wins
        k = self.r.random()
        if frame:
            content = self.items(depth, self.r.randint(1, 4))
        elif k < 0.1:
            content = ""  # no paragraph at all
        elif k < 0.2 and depth < 4:
            content = self.para() + self.table(depth + 1)
        else:
            content = "".join(self.para() for _ in range(self.r.randint(1, 3)))
        return self.wrap(f"<w:tc>{tcpr}{content}</w:tc>", 0.08)

    def table(self, depth: int) -> str:
        frame = self.chance(0.3)
        rows = []
        for _ in range(self.r.randint(0, 5)):
            props = "".join(
                self.prop(n) for n in ("gridBefore", "gridAfter") if self.chance(0.1 if not frame else 0.03)
            )
            trpr = f"<w:trPr>{props}</w:trPr>" if props or self.chance(0.3) else ""
            width = self.r.randint(0, 1) if frame else self.r.randint(1, 5)
            cells = "".join(self.cell(depth, frame) for _ in range(width))
            rows.append(self.wrap(f"<w:tr>{trpr}{cells}</w:tr>", 0.08))
        return "<w:tbl><w:tblPr/><w:tblGrid/>" + "".join(rows) + "</w:tbl>"


def _generated(n: int) -> list[bytes]:
    return [_doc(_Gen(seed).items(0, _Gen(seed).r.randint(1, 8))) for seed in range(n)]


def test_generated_bodies_read_the_same() -> None:
    readers: dict[str, int] = {}
    for raw in _generated(3000):
        fast, reader, walk = _both(raw)
        assert fast == walk, raw.decode()
        readers[reader] = readers.get(reader, 0) + 1
    assert set(readers) <= {"xslt", "unsure-table"}
    assert readers["xslt"] > 2000, readers  # the fast path is the usual one


def test_renderings_read_the_same() -> None:
    seen = 0
    for name, data in renders(pdf=False):
        body, raw = docx._docx_body(data, name)
        assert text_of(body, raw) == (walked(body), "xslt"), name
        assert docx.docx_to_text(data, name) == walked(body)
        seen += 1
    assert seen == 10


# -------------------------------------------------------------------------- the fallbacks
_P = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"
_GRID = "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>"
_TEXTBOX = (
    "<w:p><w:r><w:t>外</w:t><w:pict><w:txbxContent><w:p><w:r><w:t>框</w:t></w:r></w:p>"
    "</w:txbxContent></w:pict></w:r></w:p>"
)


@pytest.mark.parametrize(
    ("raw", "reader"),
    [
        (_doc(_P.format("标记\ue010内") + _GRID), "marks"),
        (_doc(_P.format("&#xE014;") + _GRID), "char-ref"),
        (_doc(_P.format("&#20013;")), "char-ref"),
        (_doc(_P.format("a<!-- note -->b") + _GRID), "markup"),
        (_doc(_P.format("a<![CDATA[<b>|]]>c") + _GRID), "markup"),
        (_doc("<w:p><w:r><?mso-x y?><w:t>a</w:t></w:r></w:p>" + _GRID), "pi"),
        (_doc(_TEXTBOX + _GRID), "nested-paragraph"),
        (_doc("<w:tbl><w:tr><w:tc>" + _TEXTBOX + "</w:tc><w:tc/></w:tr></w:tbl>"), "nested-paragraph"),
        (
            _doc(
                "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val='3'/></w:tcPr>"
                + _P.format("x")
                + "</w:tc></w:tr></w:tbl>"
            ),
            "unsure-table",
        ),
        (
            _doc(
                "<w:tbl><w:tr><w:sdt><w:sdtContent><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc></w:sdtContent></w:sdt></w:tr></w:tbl>"
            ),
            "unsure-table",
        ),
        (
            _doc("<w:tbl><w:tr><w:trPr><w:gridAfter w:val='x'/></w:trPr><w:tc><w:p/></w:tc></w:tr></w:tbl>"),
            "unsure-table",
        ),
    ],
)
def test_fallback_takes_the_walk(raw: bytes, reader: str) -> None:
    fast, got, walk = _both(raw)
    assert got == reader
    assert fast == walk


def test_utf16_part_takes_the_walk() -> None:
    raw = (_HEAD.replace("UTF-8", "UTF-16") + _P.format("甲") + _GRID + _TAIL).encode("utf-16")
    fast, reader, walk = _both(raw)
    assert (reader, fast) == ("encoding", walk)
    assert "甲" in fast


def test_xslt_error_takes_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_tree: object) -> str:
        raise etree.XSLTApplyError("too deep")

    monkeypatch.setattr(docx, "_stylesheet", lambda: broken)
    fast, reader, walk = _both(_doc(_P.format("甲") + _GRID))
    assert (reader, fast) == ("xslt-error", walk)


@pytest.mark.parametrize(
    "raw",
    [
        _doc(_P.format("问? 叹! 号# &amp; &lt;") + _GRID),  # the one-byte pre-checks' bytes in text
        _doc(_P.format("\ue100私用"), head=_HEAD),  # a private-use character outside the marks
        b"\xef\xbb\xbf" + _doc(_P.format("带BOM") + _GRID),
        _doc(_P.format("无声明") + _GRID, head=_HEAD.split("\n", 1)[1]),
    ],
)
def test_harmless_bytes_keep_the_fast_path(raw: bytes) -> None:
    fast, reader, walk = _both(raw)
    assert (reader, fast) == ("xslt", walk)


def test_cases_the_xslt_must_get_right() -> None:
    cells = (
        "<w:tr><w:trPr><w:gridBefore w:val='1'/><w:gridBefore w:val='3'/></w:trPr>"
        "<w:tc><w:tcPr><w:vMerge w:val='restart'/><w:gridSpan/></w:tcPr><w:p><w:r><w:t>a|b</w:t></w:r></w:p>"
        "<w:p><w:r><w:tab/><w:t>　c</w:t><w:br/></w:r></w:p></w:tc>"
        "<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>"
        "<w:tc><w:tcPr><w:gridSpan w:val='300'/></w:tcPr></w:tc>"
        "</w:tr><w:customXml><w:tr><w:tc><w:p><w:r><w:t>d</w:t></w:r></w:p></w:tc><w:tc/></w:tr></w:customXml>"
    )
    frame = (
        "<w:tbl><w:tr><w:tc><w:tcPr/>"
        + _P.format("框")
        + "<w:tbl>"
        + cells
        + "</w:tbl></w:tc></w:tr></w:tbl>"
    )
    fast, reader, walk = _both(_doc(frame + "<w:p><w:tab/><w:r><w:t>x</w:t><w:tab/></w:r></w:p>"))
    assert (reader, fast) == ("xslt", walk)
    assert walk.startswith("框\n\n| ")  # the frame stands for its content; the nested grid is a table
    assert walk.endswith("\nx\t")


def test_flat_form() -> None:
    """Rows and cells carry nothing but their b/a/g/m properties before the field end."""
    m = "\ue010-\ue01f"
    row = re.compile(
        f"{docx._ROW}(?:[ba][^{m}]*{docx._SEP})*{docx._SEP}(?=[{docx._CELL}{docx._ROW}{docx._END}])"
    )
    cell = re.compile(
        f"{docx._CELL}(?:[gm][^{m}]*{docx._SEP})*{docx._SEP}[^{m}]*(?=[{docx._CELL}{docx._ROW}{docx._END}])"
    )
    raw = _doc(
        _Gen(7).table(0) + _GRID + "<w:tbl><w:tr><w:trPr><w:gridBefore w:val='2'/></w:trPr>" + _GRID[11:]
    )
    seen = 0
    for flat in [str(docx._stylesheet()(body_of(raw).getroottree()))] + [
        str(docx._stylesheet()(docx._docx_body(data, name)[0].getroottree()))
        for name, data in renders(pdf=False)
    ]:
        assert flat.count(docx._ROW) == len(row.findall(flat))
        assert flat.count(docx._CELL) == len(cell.findall(flat))
        seen += flat.count(docx._CELL)
    assert seen > 1000
