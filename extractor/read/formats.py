"""PDF → report text (DOCX: :mod:`extractor.read.docx`; zip archives: :mod:`extractor.read.archive`).

Tables come out as ``| a | b | c |`` rows, one grid row per line, rendered by the one grid
renderer the HTML and DOCX loaders use too (:func:`extractor.read.grid.render_grid`): a grid
position covered by a merged cell (pdfplumber's ``None``) holds
:data:`extractor.read.normalise.SPAN`; a real empty cell is empty. Everything else is text in
reading order.

* :func:`pdf_to_text` returns ``""`` for a PDF without a text layer (a scan): the caller turns
  that into a ``needs_review`` record. A corrupt or encrypted PDF raises :class:`InputError`.
"""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING, Any, Final

from extractor.errors import InputError, InputTooLargeError, UnsupportedFormatError

if TYPE_CHECKING:
    from extractor.read import pdf_columns
    from extractor.read.pdf_layout import PlumberPages

MAX_PDF_PAGES: Final = 200
MAX_PDF_EDGES: Final = 5000  # per page, for table detection
#: Upper bound on the bytes all the deflate streams of one PDF decompress to (deflate bombs).
MAX_PDF_UNPACKED: Final = 256 * 1024 * 1024
_STREAM: Final = re.compile(rb"stream\r?\n")
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


#: Sniffer the loader uses to route bytes to the PDF reader (a DOCX: :func:`extractor.read.archive.is_docx`).
def is_pdf(data: bytes, suffix: str) -> bool:
    return suffix == ".pdf" or b"%PDF-" in data[:1024]


__all__: Final[list[str]] = [
    "check_pdf_streams",
    "is_pdf",
    "pdf_to_text",
]
