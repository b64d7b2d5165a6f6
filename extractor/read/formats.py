"""Binary input formats: PDF and DOCX → report text (zip archives: :mod:`extractor.read.archive`).

Tables come out as ``| a | b | c |`` rows, one grid row per line, rendered by the one grid
renderer the HTML loader uses too (:func:`extractor.read.grid.render_grid`): a grid position
covered by a merged cell (DOCX ``gridSpan``/``vMerge``, pdfplumber's ``None``) holds
:data:`extractor.read.normalise.SPAN`; a real empty cell is empty. Everything else is text in
reading order.

* :func:`pdf_to_text` returns ``""`` for a PDF without a text layer (a scan): the caller turns
  that into a ``needs_review`` record. A corrupt or encrypted PDF raises :class:`InputError`.
* :func:`docx_to_text` walks the body XML so paragraphs and tables keep document order.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from extractor.errors import InputError, InputTooLargeError, UnsupportedFormatError
from extractor.read.grid import Grid, render_grid

if TYPE_CHECKING:
    from extractor.read import pdf_columns
    from extractor.read.pdf_layout import PlumberPages

MAX_PDF_PAGES: Final = 200
MAX_PDF_EDGES: Final = 5000  # per page, for table detection
#: Upper bound on the bytes all the deflate streams of one PDF decompress to (deflate bombs).
MAX_PDF_UNPACKED: Final = 256 * 1024 * 1024
_STREAM: Final = re.compile(rb"stream\r?\n")
#: Upper bound on the declared uncompressed size of a DOCX package (python-docx reads parts whole).
MAX_DOCX_UNPACKED: Final = 256 * 1024 * 1024
_CHUNK: Final = 64 * 1024


# ----------------------------------------------------------------------------------------- PDF
def pdf_to_text(data: bytes, path: str) -> str:
    """Text of a PDF, ruled tables as pipe rows, in page order; ``""`` when it has no text layer.

    Pages are read with pypdfium2 (:mod:`extractor.read.pdfium`) and laid out with pdfplumber's
    table finder and text layout; a page pdfium cannot describe as pdfminer would is read by
    pdfplumber itself (same output, ten times the time).
    """
    from pypdfium2 import PdfiumError

    from extractor.read import pdf_columns, pdfium
    from extractor.read.pdf_layout import PlumberPages

    try:
        doc = pdfium.open_document(data)
    except PdfiumError as exc:
        if getattr(exc, "err_code", None) == 4:
            raise UnsupportedFormatError(path, "PDF is encrypted with a password") from exc
        raise InputError(path, f"cannot read PDF: {exc}") from exc
    try:
        if len(doc) > MAX_PDF_PAGES:
            raise InputTooLargeError(path, f"PDF has {len(doc)} pages, over the {MAX_PDF_PAGES}-page limit")
        fallback = PlumberPages(data, path)
        pages: list[str] = []
        doctop = 0.0
        carry = pdf_columns.Carry()
        for index in range(len(doc)):
            pages.append(_read_pdf_page(doc, index, doctop, fallback, path, carry))
            doctop += doc.get_page_size(index)[1]
        fallback.close()
    finally:
        doc.close()
    if not any(p.strip() for p in pages):
        return ""
    return "\n\n".join(p for p in pages if p.strip())


def check_pdf_streams(data: bytes, path: str, limit: int = MAX_PDF_UNPACKED) -> None:
    """Refuse a PDF whose deflate streams together decompress past ``limit`` bytes.

    Streams are inflated chunk by chunk and thrown away, so the check itself holds at most one
    chunk; a stream that is not deflate data is skipped (the reader decides about it). ISA-L
    (``isal``) inflates at twice zlib's speed; a stream it does not inflate to its end without
    error is counted by zlib, and a total over ``limit`` is counted again by zlib alone, so the
    decision is zlib's own (ISA-L's total is never below zlib's).
    """
    if _streams_total(data, limit, fast=True) > limit and _streams_total(data, limit, fast=False) > limit:
        raise InputTooLargeError(
            path, f"PDF streams decompress to over {limit} bytes (a deflate bomb?); refused"
        )


def _streams_total(data: bytes, limit: int, *, fast: bool) -> int:
    """Bytes the deflate streams inflate to, counting stops just past ``limit``."""
    from isal import isal_zlib

    isal_error: type[Exception] = isal_zlib.error  # type: ignore[assignment]  # a class; the stub says instance

    total = 0
    for m in _STREAM.finditer(data):
        size, ended = 0, False
        if fast:
            try:
                size, ended = _inflated_size(data, m.end(), limit - total, isal_zlib.decompressobj())
            except isal_error:
                ended = False
            else:
                if size > limit - total:
                    return total + size  # over: the caller counts again with zlib alone
        if not ended:  # zlib's count, as the check always was
            try:
                size, _ = _inflated_size(data, m.end(), limit - total, zlib.decompressobj())
            except zlib.error:
                continue
        total += size
        if total > limit:
            break
    return total


def _inflated_size(data: bytes, pos: int, budget: int, d: Any) -> tuple[int, bool]:
    """Bytes the deflate stream at ``pos`` inflates to through ``d`` (counting stops just past
    ``budget``), and whether the stream ended."""
    total = 0
    while not d.eof and pos < len(data) and total <= budget:
        piece = data[pos : pos + _CHUNK]
        pos += len(piece)
        out = d.decompress(piece, _CHUNK)
        total += len(out)
        while d.unconsumed_tail and not d.eof and out and total <= budget:
            out = d.decompress(d.unconsumed_tail, _CHUNK)
            total += len(out)
    return total, bool(d.eof)


def _read_pdf_page(
    doc: Any, index: int, doctop: float, fallback: PlumberPages, path: str, carry: pdf_columns.Carry
) -> str:
    """One page's text (the place for per-page limits)."""
    from extractor.read import pdfium
    from extractor.read.pdf_layout import page_text

    try:
        objects = pdfium.read_page(doc, index, doctop)
    except Exception as exc:  # pdfium raises on broken page trees and content
        raise InputError(path, f"cannot read PDF: {type(exc).__name__}: {exc}".rstrip(": ")) from exc
    if objects is None:
        return fallback.page_text(index, carry)
    return page_text(objects, carry)


# ---------------------------------------------------------------------------------------- DOCX
_W: Final = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


_DOCX_MAIN: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_REL_DOC: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def docx_to_text(data: bytes | zipfile.ZipFile, path: str) -> str:
    """Paragraphs and tables of a DOCX body in document order; tables as pipe rows.

    ``data`` is the file's bytes or the zip archive the loader already opened for
    :func:`extractor.read.archive.is_docx` (closed here).

    Only the main document part is parsed (lxml, with python-docx's parser settings), so the
    output is the one python-docx's ``Document(...).element.body`` gave, at a fifth of the time.
    """
    body = _docx_body(data, path)
    out: list[str] = []
    _walk_body(body, out)
    return "\n".join(out)


def _docx_body(data: bytes | zipfile.ZipFile, path: str) -> Any:
    from lxml import etree

    try:  # the package is opened once, for the checks and the parts
        zf = data if isinstance(data, zipfile.ZipFile) else zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(path, f"not a valid DOCX (zip) file: {exc}") from exc
    with zf:
        _check_docx_package(infos, path)
        parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
        try:
            part = _docx_main_part(zf, parser)
            types = etree.fromstring(zf.read("[Content_Types].xml"), parser)
            ct = next((o.get("ContentType") for o in types if o.get("PartName") == "/" + part), None)
            if ct != _DOCX_MAIN:
                raise ValueError(f"not a Word document, content type is {ct!r}")
            root = etree.fromstring(zf.read(part), parser)
        except Exception as exc:  # zipfile/lxml raise assorted types for broken packages
            raise InputError(path, f"cannot read DOCX: {type(exc).__name__}: {exc}") from exc
    body = root.find(_W + "body")
    if body is None:
        raise InputError(path, "cannot read DOCX: the document has no body")
    return body


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
    v = vals.get(name)
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


#: Sniffer the loader uses to route bytes to the PDF reader (a DOCX: :func:`extractor.read.archive.is_docx`).
def is_pdf(data: bytes, suffix: str) -> bool:
    return suffix == ".pdf" or b"%PDF-" in data[:1024]


__all__: Final[list[str]] = [
    "check_pdf_streams",
    "docx_to_text",
    "is_pdf",
    "pdf_to_text",
]
