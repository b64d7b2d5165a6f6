"""DOCX → report text: the body's paragraphs and tables in document order, tables as pipe rows.

Only the main document part is parsed (lxml, with python-docx's parser settings), so the output
is the one python-docx's ``Document(...).element.body`` gave. Tables are rendered by the one grid
renderer (:func:`extractor.read.grid.render_grid`): a grid position covered by a merged cell
(``gridSpan``/``vMerge``) holds the span mark; a table whose every row is at most one cell wide
is a frame (layout) table and stands for its cells' content.

Two readers of the parsed body give the same text:

* :func:`walked`, a Python walk of the tree (the reference);
* one compiled XSLT (:data:`_XSL`) that writes the body as a flat string, paragraphs as text and
  tables as rows and cells between private-use marks, which Python cuts into the same grids
  (a third of the time). :func:`text_of` takes it unless the part holds something it might read
  otherwise (the marks themselves, character references, comments, CDATA, processing
  instructions, a paragraph inside a paragraph, a table it cannot tell is a frame) and then
  walks; ``tests/test_docx_fast.py`` holds the two to the same text.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterator
from typing import Any, Final

from extractor.errors import InputError, InputTooLargeError, UnsupportedFormatError
from extractor.read.grid import Grid, render_grid

#: Upper bound on the declared uncompressed size of a DOCX package (python-docx reads parts whole).
MAX_DOCX_UNPACKED: Final = 256 * 1024 * 1024
_NS: Final = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W: Final = "{" + _NS + "}"
_DOCX_MAIN: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_REL_DOC: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def docx_to_text(data: bytes | zipfile.ZipFile, path: str) -> str:
    """Paragraphs and tables of a DOCX body in document order; tables as pipe rows.

    ``data`` is the file's bytes or the zip archive the loader already opened for
    :func:`extractor.read.archive.is_docx` (closed here).
    """
    body, raw = _docx_body(data, path)
    return text_of(body, raw)[0]


def _parser() -> Any:
    from lxml import etree

    return etree.XMLParser(remove_blank_text=True, resolve_entities=False)


def body_of(raw: bytes) -> Any:
    """The ``w:body`` of a main document part's bytes (``None`` without one); lxml errors pass."""
    from lxml import etree

    return etree.fromstring(raw, _parser()).find(_W + "body")


def _docx_body(data: bytes | zipfile.ZipFile, path: str) -> tuple[Any, bytes]:
    from lxml import etree

    try:  # the package is opened once, for the checks and the parts
        zf = data if isinstance(data, zipfile.ZipFile) else zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(path, f"not a valid DOCX (zip) file: {exc}") from exc
    with zf:
        _check_docx_package(infos, path)
        parser = _parser()
        try:
            part = _docx_main_part(zf, parser)
            types = etree.fromstring(zf.read("[Content_Types].xml"), parser)
            ct = next((o.get("ContentType") for o in types if o.get("PartName") == "/" + part), None)
            if ct != _DOCX_MAIN:
                raise ValueError(f"not a Word document, content type is {ct!r}")
            raw = zf.read(part)
            body = body_of(raw)
        except Exception as exc:  # zipfile/lxml raise assorted types for broken packages
            raise InputError(path, f"cannot read DOCX: {type(exc).__name__}: {exc}") from exc
    if body is None:
        raise InputError(path, "cannot read DOCX: the document has no body")
    return body, raw


def _docx_main_part(zf: zipfile.ZipFile, parser: Any) -> str:
    """The main document part's name, from the package relationships (as python-docx finds it)."""
    from lxml import etree

    rels = etree.fromstring(zf.read("_rels/.rels"), parser)
    target = next((r.get("Target", "") for r in rels if r.get("Type") == _REL_DOC), "")
    return target.lstrip("/") or "word/document.xml"


def _check_docx_package(infos: list[zipfile.ZipInfo], path: str) -> None:
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise UnsupportedFormatError(path, "zip container without word/document.xml: not a DOCX")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_DOCX_UNPACKED:
        raise InputTooLargeError(path, f"DOCX unpacks to {declared} bytes, over {MAX_DOCX_UNPACKED}")


# ------------------------------------------------------------------------ the walk (reference)
def walked(body: Any) -> str:
    """The body's text by a Python walk of the tree."""
    out: list[str] = []
    _walk_body(body, out)
    return "\n".join(out)


def _walk_body(el: Any, out: list[str]) -> None:
    for child in el.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            out.append(_para_text(child))
        elif tag == _W + "tbl":
            grid = _docx_grid(child)
            if max((len(r) for r in grid), default=0) <= 1:  # a frame or layout table: its content
                for tc in (tc for tr in _rows_of(child) for tc in _cells_of(tr)):
                    _walk_body(tc, out)
            else:
                out.append("\n" + render_grid(grid) + "\n")
        elif tag in (_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "smartTag"):
            _walk_body(child, out)


_T, _TAB, _BR, _CR, _R, _VAL = (_W + t for t in ("t", "tab", "br", "cr", "r", "val"))
_GRID_BEFORE, _GRID_AFTER = _W + "gridBefore", _W + "gridAfter"
_GRID_SPAN, _V_MERGE = _W + "gridSpan", _W + "vMerge"


def _para_text(p: Any) -> str:
    parts: list[str] = []
    for node in p.iter(_T, _TAB, _BR, _CR):
        tag = node.tag
        if tag == _T:
            parts.append(node.text or "")
        elif tag == _TAB:
            parent = node.getparent()
            if parent is not None and parent.tag == _R:
                parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _vals(el: Any, props: str) -> dict[str, str]:
    """``w:val`` of each ``w:<props>/w:<name>`` element of ``el`` ("" without one), the first of
    each name as ``el.find("w:<props>/w:<name>")`` finds it, keyed by the ``{ns}name`` tag; the
    children are walked once (an ElementPath search per property costs more than the cell)."""
    out: dict[str, str] = {}
    for holder in el.iterchildren(_W + props):
        for found in holder.iterchildren():
            tag = found.tag
            if isinstance(tag, str) and tag not in out:
                out[tag] = found.get(_VAL) or ""
    return out


def _int_of(vals: dict[str, str], name: str, default: int) -> int:
    return _int(vals.get(name), default)


def _int(v: str | None, default: int) -> int:
    try:
        return max(0, min(int(v), 200)) if v else default
    except ValueError:
        return default


def _children(el: Any, tag: str) -> Iterator[Any]:
    """Child elements ``w:<tag>``, looking through content-control and custom-XML wrappers."""
    for child in el.iterchildren():
        if child.tag == _W + tag:
            yield child
        elif child.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
            yield from _children(child, tag)


def _rows_of(tbl: Any) -> Iterator[Any]:
    return _children(tbl, "tr")


def _cells_of(tr: Any) -> Iterator[Any]:
    return _children(tr, "tc")


def _docx_grid(tbl: Any) -> Grid:
    grid: Grid = []
    for tr in _rows_of(tbl):
        row_props = _vals(tr, "trPr")
        row: list[str | None] = [None] * _int_of(row_props, _GRID_BEFORE, 0)
        for tc in _cells_of(tr):
            props = _vals(tc, "tcPr")
            span = max(1, _int_of(props, _GRID_SPAN, 1))
            merge = props.get(_V_MERGE)
            if merge is not None and merge != "restart":
                row.extend([None] * span)  # continuation of a vertical merge
                continue
            text = " ".join(_para_text(p) for p in tc.iter(_W + "p"))
            row.append(text)
            row.extend([None] * (span - 1))
        row.extend([None] * _int_of(row_props, _GRID_AFTER, 0))
        grid.append(row)
    return grid


# ------------------------------------------------------------------------ the XSLT reader
#: Marks in the XSLT's output (private-use characters; a part holding any takes the walk):
#: table start/end, row, cell, field end, "a table it cannot tell is a frame", "a paragraph
#: inside a paragraph".
_TBL, _END, _ROW, _CELL, _SEP, _UNSURE, _NESTED = (chr(0xE010 + k) for k in range(7))
_WRAP: Final = "w:sdt|w:sdtContent|w:customXml"
#: A table with a row of two direct cells is a table whatever its spans.
_IS_TABLE: Final = "w:tr/w:tc[2] or w:sdt/w:sdtContent/w:tr/w:tc[2] or w:customXml/w:tr/w:tc[2]"
#: A table with no wrappers, no row of two cells and no spans is a frame (every row ≤ 1 wide).
_IS_FRAME: Final = (
    "not(w:sdt|w:sdtContent|w:customXml) and not(w:tr[w:tc[2] or w:sdt or w:sdtContent or"
    " w:customXml or w:trPr/w:gridBefore or w:trPr/w:gridAfter or w:tc/w:tcPr/w:gridSpan])"
)
# Modes: i body items, r rows, c cells, x a paragraph's text pieces, g row/cell properties.
# A paragraph is "\n" + its text; a table "\n" + _TBL + rows + _END; a row _ROW + properties
# + _SEP + cells; a cell _CELL + properties + _SEP + " " + text per paragraph; a property
# b/a/g/m (gridBefore/gridAfter/gridSpan/vMerge) + its w:val + _SEP, every one in document
# order (Python takes the first of each, as _vals does).
_XSL: Final = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:w="{_NS}"><xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/"><xsl:apply-templates select="*/w:body[1]/*" mode="i"/></xsl:template>
<xsl:template match="*" mode="i"/>
<xsl:template match="w:p" mode="i"><xsl:text>&#10;</xsl:text><xsl:call-template name="p"/></xsl:template>
<xsl:template match="{_WRAP}|w:ins|w:smartTag" mode="i"><xsl:apply-templates select="*" mode="i"/>
</xsl:template>
<xsl:template match="w:tbl" mode="i"><xsl:choose>
<xsl:when test="{_IS_TABLE}"><xsl:text>&#10;</xsl:text>{_TBL}<xsl:apply-templates select="*" mode="r"/>
{_END}</xsl:when>
<xsl:when test="{_IS_FRAME}"><xsl:apply-templates select="w:tr/w:tc/*" mode="i"/></xsl:when>
<xsl:otherwise>{_UNSURE}</xsl:otherwise></xsl:choose></xsl:template>
<xsl:template match="*" mode="r"/>
<xsl:template match="{_WRAP}" mode="r"><xsl:apply-templates select="*" mode="r"/></xsl:template>
<xsl:template match="w:tr" mode="r">{_ROW}<xsl:apply-templates select="w:trPr/*"
 mode="g"/>{_SEP}<xsl:apply-templates select="*" mode="c"/></xsl:template>
<xsl:template match="*" mode="c"/>
<xsl:template match="{_WRAP}" mode="c"><xsl:apply-templates select="*" mode="c"/></xsl:template>
<xsl:template match="w:tc" mode="c">{_CELL}<xsl:apply-templates select="w:tcPr/*"
 mode="g"/>{_SEP}<xsl:for-each select=".//w:p"><xsl:text> </xsl:text><xsl:call-template name="p"/>
</xsl:for-each></xsl:template>
<xsl:template match="*" mode="g"/>
<xsl:template match="w:gridBefore" mode="g">b<xsl:value-of select="@w:val"/>{_SEP}</xsl:template>
<xsl:template match="w:gridAfter" mode="g">a<xsl:value-of select="@w:val"/>{_SEP}</xsl:template>
<xsl:template match="w:gridSpan" mode="g">g<xsl:value-of select="@w:val"/>{_SEP}</xsl:template>
<xsl:template match="w:vMerge" mode="g">m<xsl:value-of select="@w:val"/>{_SEP}</xsl:template>
<xsl:template name="p"><xsl:apply-templates select="descendant::*" mode="x"/></xsl:template>
<xsl:template match="*" mode="x"/>
<xsl:template match="w:t" mode="x"><xsl:value-of select="node()[1][self::text()]"/></xsl:template>
<xsl:template match="w:tab" mode="x"><xsl:if test="parent::w:r"><xsl:text>&#9;</xsl:text></xsl:if>
</xsl:template>
<xsl:template match="w:br|w:cr" mode="x"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template match="w:p" mode="x">{_NESTED}</xsl:template>
</xsl:stylesheet>"""


def text_of(body: Any, raw: bytes) -> tuple[str, str]:
    """``(text, reader)``: the body's text and which reader gave it, ``"xslt"`` or the reason
    the part took the walk (:func:`walked`). ``raw`` is the part's bytes ``body`` was parsed from."""
    from lxml import etree

    why = _unsafe(body, raw)
    if why:
        return walked(body), why
    try:
        flat = str(_stylesheet()(body.getroottree()))
    except etree.XSLTError:  # libxslt's limits (template depth) on deeply nested frames
        return walked(body), "xslt-error"
    if _NESTED in flat:
        return walked(body), "nested-paragraph"
    if _UNSURE in flat:
        return walked(body), "unsure-table"
    return _unflatten(flat), "xslt"


@functools.cache
def _stylesheet() -> Any:
    """The compiled :data:`_XSL` (built on the first DOCX, 1 ms)."""
    from lxml import etree

    return etree.XSLT(etree.XML(_XSL))


def _unsafe(body: Any, raw: bytes) -> str:
    """Why the XSLT's string might not cut into the walk's text ("" when it will). Each check
    looks for one byte first (memchr: 0.5 µs for 44 KB, a two-byte search takes 30 µs)."""
    if body.getroottree().docinfo.encoding.upper() not in ("UTF-8", "UTF8"):
        return "encoding"  # the byte checks below read UTF-8
    if b"\xee" in raw and b"\xee\x80" in raw:
        return "marks"  # U+E000..U+E03F: the XSLT's marks
    if b"#" in raw and b"&#" in raw:
        return "char-ref"  # could spell a mark
    if b"!" in raw and b"<!" in raw:
        return "markup"  # comment, CDATA or DOCTYPE: text nodes the two readers may cut apart
    declared = raw.startswith(b"<?xml", 3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    start = raw.find(b"?>") + 2 if declared else 0
    if raw.find(b"?", start) >= 0 and raw.find(b"<?", start) >= 0:
        return "pi"
    return ""


def _unflatten(flat: str) -> str:
    parts = flat.split(_TBL)
    out = [parts[0]]
    for part in parts[1:]:
        table, _, rest = part.partition(_END)
        out.append("\n" + render_grid(_grid(table)) + "\n")
        out.append(rest)
    return "".join(out)[1:]


def _grid(table: str) -> Grid:
    grid: Grid = []
    for tr in table.split(_ROW)[1:]:
        head, *cells = tr.split(_CELL)
        if len(head) > 1:
            props = _props(head)
            row: list[str | None] = [None] * _int(props.get("b"), 0)
        else:
            props, row = {}, []
        for cell in cells:
            found, _, text = cell.rpartition(_SEP)
            if not found:
                row.append(text)
                continue
            cell_props = _props(found + _SEP)
            span = max(1, _int(cell_props.get("g"), 1))
            merge = cell_props.get("m")
            if merge is not None and merge != "restart":
                row.extend([None] * span)
                continue
            row.append(text)
            row.extend([None] * (span - 1))
        if props:
            row.extend([None] * _int(props.get("a"), 0))
        grid.append(row)
    return grid


def _props(head: str) -> dict[str, str]:
    """``b3<SEP>g<SEP><SEP>`` → ``{"b": "3", "g": ""}``, the first value of each letter."""
    out: dict[str, str] = {}
    for item in head.split(_SEP)[:-2]:
        out.setdefault(item[0], item[1:])
    return out


__all__: Final[list[str]] = ["MAX_DOCX_UNPACKED", "body_of", "docx_to_text", "text_of", "walked"]
