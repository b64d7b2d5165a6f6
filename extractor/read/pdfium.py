"""PDF pages through pypdfium2, in the shapes pdfplumber's table finder and text layout take.

pdfplumber spends ~90 % of a PDF's time in pdfminer interpreting content streams; its table
finding and text layout are pure functions of character and edge dicts. This module builds those
dicts from pdfium (characters with their boxes from the text page, ruling edges from the page's
path objects, classified as pdfminer does: two-point lines, axis-aligned rectangles, other
polylines), so :func:`extractor.read.formats.pdf_to_text` gets the same tables and text.

:func:`read_page` returns ``None`` for a page it cannot describe exactly as pdfminer would —
rotated or offset page boxes, non-upright or unmapped characters, Bézier curves, form XObjects,
text objects the pdfium text page dropped — and the caller reads that page with pdfplumber.
"""

from __future__ import annotations

import ctypes
import importlib
import itertools
import struct
from dataclasses import dataclass, field
from typing import Any, Final

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from extractor.read.pdf_text import Char

Obj = dict[str, Any]


@dataclass
class PageObjects:
    """What pdfplumber's ``TableFinder``/``Table.extract`` read from a page: bbox, chars, edges."""

    bbox: tuple[float, float, float, float]
    chars: list[Char] = field(default_factory=list)
    edges: list[Obj] = field(default_factory=list)


def open_document(data: bytes) -> pdfium.PdfDocument:
    """The document; raises :class:`pypdfium2.PdfiumError` (``err_code`` 4: a password)."""
    return pdfium.PdfDocument(data)


def read_page(doc: pdfium.PdfDocument, index: int, doctop: float) -> PageObjects | None:
    """Chars and edges of page ``index`` (``doctop``: heights of the pages before), or None."""
    page = doc[index]
    try:
        width, height = page.get_width(), page.get_height()
        if page.get_rotation() or page.get_mediabox() != (0, 0, width, height):
            return None
        if page.get_cropbox() != page.get_mediabox():
            return None
        page_at = ctypes.cast(page.raw, ctypes.c_void_p).value or 0
        try:
            textpage = page.get_textpage()
        except Exception:
            if _edges(page, page_at, height, doctop, None) is None:
                return None  # a page pdfplumber reads anyway: its text page does not matter
            raise
        try:
            found = _page_chars(textpage, height)
        finally:
            textpage.close()
        if found is None:
            return None
        chars, objects = found
        edges = _edges(page, page_at, height, doctop, objects)
        if edges is None:
            return None
        return PageObjects((0, 0, width, height), chars, edges)
    finally:
        page.close()


def _edges(page: Any, page_at: int, height: float, doctop: float, texts: set[int] | None) -> list[Obj] | None:
    """The page's ruling edges; None for a form XObject, a curve, or a text object not in
    ``texts`` (the text objects of the page's chars: the text page left one out)."""
    lines: list[Obj] = []
    rects: list[Obj] = []
    curves: list[Obj] = []
    seen = 0
    buf = ctypes.create_string_buffer(24)  # for _path_edges: one buffer for the page's paths
    for i in range(raw.FPDFPage_CountObjects(page.raw)):
        address = _page_object_address(page_at, i)
        if texts is not None and address in texts:
            seen += 1
            continue
        kind = _object_type(address)
        if kind == _PATH:
            if not _path_edges(address, buf, height, doctop, lines, rects, curves):
                return None
        elif kind == _FORM or (kind == _TEXT and texts is not None):
            return None
    if texts is not None and seen != len(texts):
        return None  # a char of an object that is not on the page
    return lines + rects + curves


def _by_address(fn: Any, restype: str, *argtypes: str) -> Any:
    """The pdfium function ``fn`` (a pypdfium2 ctypes binding) called through cffi's C backend
    with the C types named (``intptr_t`` for every pointer: addresses are plain ints): a call
    costs ~0.2 µs instead of ctypes' ~0.3 µs, and pages call these once or more per char. Only
    cffi's backend is used (no declarations to parse, so no pycparser at import)."""
    kind = _BACKEND.new_function_type(tuple(_C_TYPES[t] for t in argtypes), _C_TYPES[restype], False)
    return _BACKEND.cast(kind, ctypes.cast(fn, ctypes.c_void_p).value or 0)


_BACKEND: Any = importlib.import_module("_cffi_backend")  # untyped C module of cffi
_C_TYPES = {t: _BACKEND.new_primitive_type(t) for t in ("intptr_t", "int", "double", "float")}
_VOID, _INT = "intptr_t", "int"
_text_object_address = _by_address(raw.FPDFText_GetTextObject, _VOID, _VOID, _INT)
_page_object_address = _by_address(raw.FPDFPage_GetObject, _VOID, _VOID, _INT)
_object_type = _by_address(raw.FPDFPageObj_GetType, _INT, _VOID)
_font_address = _by_address(raw.FPDFTextObj_GetFont, _VOID, _VOID)
_TEXT, _PATH, _FORM = raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM
_is_generated = _by_address(raw.FPDFText_IsGenerated, _INT, _VOID, _INT)
_unicode_map_error = _by_address(raw.FPDFText_HasUnicodeMapError, _INT, _VOID, _INT)
_loose_char_box = _by_address(raw.FPDFText_GetLooseCharBox, _INT, _VOID, _INT, _VOID)
_char_matrix = _by_address(raw.FPDFText_GetMatrix, _INT, _VOID, _INT, _VOID)
_char_origin = _by_address(raw.FPDFText_GetCharOrigin, _INT, _VOID, _INT, _VOID, _VOID)
_font_size = _by_address(raw.FPDFText_GetFontSize, "double", _VOID, _INT)
#: Native layouts of FS_RECTF (floats), FS_MATRIX (floats) and FS_MATRIX followed by a point of
#: doubles (x skipped, y read), each read in one call.
_RECT, _MATRIX, _SHAPE = struct.Struct("=4f"), struct.Struct("=6f"), struct.Struct("=6f8xd")
_font_descent = _by_address(raw.FPDFFont_GetDescent, _INT, _VOID, "float", _VOID)


def _chars(textpage: Any, height: float, objects: set[int]) -> list[Char] | None:
    """The page's chars; None for a char pdfminer reads its own way or when their text objects
    are not exactly ``objects`` (a text object the text page left out)."""
    found = _page_chars(textpage, height)
    if found is None or found[1] != objects:
        return None
    return found[0]


def _page_chars(textpage: Any, height: float) -> tuple[list[Char], set[int]] | None:
    """The page's chars and the addresses of their text objects; None for a char pdfminer reads
    its own way."""
    tp: int = ctypes.cast(textpage.raw, ctypes.c_void_p).value or 0
    # one buffer: FS_RECTF (left, top, right, bottom floats) at 0, FS_MATRIX (a…f floats) at 16,
    # the origin (x, y doubles) at 40
    buf = ctypes.create_string_buffer(56)
    at = ctypes.addressof(buf)
    box_at, matrix_at, origin_at, origin_y_at = at, at + 16, at + 40, at + 48
    loose_box, unpack_box, unpack_shape = _loose_char_box, _RECT.unpack_from, _SHAPE.unpack_from
    unicode_map_error, text_object, maybe_generated = (
        _unicode_map_error,
        _text_object_address,
        _MAYBE_GENERATED,
    )
    descents: dict[int, float | None] = {}
    # per text object (one show operation): size, baseline and descent are the same for its chars
    shapes: dict[int, tuple[float, float] | None] = {}
    chars: list[Char] = []
    append = chars.append
    last_key, found = -1, None
    for i, code in enumerate(_text_units(textpage.raw)):
        if code in maybe_generated:
            generated = _is_generated(tp, i)
            if generated == 1:
                continue
            if generated:
                return None
        if unicode_map_error(tp, i) or 0xD800 <= code < 0xE000:
            return None  # unmapped, or half of a surrogate pair: pdfminer reads these its own way
        key = text_object(tp, i) or 0
        if key != last_key:
            last_key = key
            if key in shapes:
                found = shapes[key]
            else:  # the object's (font size on the page, pdfminer's bottom); None if not upright
                found = None
                _char_matrix(tp, i, matrix_at)
                _char_origin(tp, i, origin_at, origin_y_at)
                a, b, c, d, _e, _f, y = unpack_shape(buf, 16)  # the matrix and the origin's y
                font = _font_address(key) if key else None
                if font and not b and not c and a > 0 and d > 0:
                    descent = (
                        descents[font] if font in descents else descents.setdefault(font, _descent(font))
                    )
                    if descent is not None:
                        size = _font_size(tp, i) * d
                        # pdfminer: the box runs from the font's descent below the baseline to
                        # one font size above
                        found = size, height - (y + descent * size)
                shapes[key] = found
        if code == 0 or found is None:
            return None  # unmapped glyph, or rotated/mirrored text: pdfminer's way is different
        loose_box(tp, i, box_at)
        left, _top, right, _bottom = unpack_box(buf)
        size, bottom = found
        append((chr(code), left, right, bottom - size, bottom))
    return chars, set(shapes)


def _descent(font: int) -> float | None:
    value = ctypes.c_float()
    return value.value if _font_descent(font, 1.0, ctypes.addressof(value)) else None


_MAYBE_GENERATED: Final = frozenset({0x20, 0x0D, 0x0A, 0})


def _text_units(tp: Any) -> memoryview:
    """The text page's UTF-16 code units, one per char index (one call instead of one per char)."""
    n = raw.FPDFText_CountChars(tp)
    buf = ctypes.create_string_buffer(2 * (n + 1))
    got = raw.FPDFText_GetText(tp, 0, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
    return memoryview(buf.raw).cast("H")[: max(got - 1, 0)]


_draw_mode = _by_address(raw.FPDFPath_GetDrawMode, _INT, _VOID, _VOID, _VOID)
_object_matrix = _by_address(raw.FPDFPageObj_GetMatrix, _INT, _VOID, _VOID)
_count_segments = _by_address(raw.FPDFPath_CountSegments, _INT, _VOID)
_segment = _by_address(raw.FPDFPath_GetPathSegment, _VOID, _VOID, _INT)
_segment_type = _by_address(raw.FPDFPathSegment_GetType, _INT, _VOID)
_segment_point = _by_address(raw.FPDFPathSegment_GetPoint, _INT, _VOID, _VOID, _VOID)
_segment_close = _by_address(raw.FPDFPathSegment_GetClose, _INT, _VOID)
_MOVETO, _LINETO = raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_LINETO
_TWO_INTS, _TWO_FLOATS = struct.Struct("=2i"), struct.Struct("=2f")


def _path_edges(
    obj: int, buf: Any, height: float, doctop: float, lines: list[Obj], rects: list[Obj], curves: list[Obj]
) -> bool:
    """Append the path's edges as pdfminer/pdfplumber would; False when it has curves."""
    at = ctypes.addressof(buf)  # 24 bytes: the draw mode's two ints, a point's two floats, a matrix
    _draw_mode(obj, at, at + 4)
    fill, stroke = _TWO_INTS.unpack_from(buf)
    if not fill and not stroke:
        return True  # painted with 'n' (a clip): pdfminer makes no object
    _object_matrix(obj, at)
    a, b, c, d, e, f = _MATRIX.unpack_from(buf)
    subpaths: list[list[tuple[float, float]]] = []
    closed: list[bool] = []
    for k in range(_count_segments(obj)):
        seg = _segment(obj, k)
        kind = _segment_type(seg)
        if kind != _MOVETO and kind != _LINETO:
            return False
        _segment_point(seg, at, at + 4)
        x, y = _TWO_FLOATS.unpack_from(buf)
        pt = (a * x + c * y + e, height - (b * x + d * y + f))
        if kind == _MOVETO or not subpaths:
            subpaths.append([pt])
            closed.append(False)
        else:
            subpaths[-1].append(pt)
        if _segment_close(seg):
            closed[-1] = True
    for pts, is_closed in zip(subpaths, closed, strict=True):
        _classify(pts, is_closed, doctop, lines, rects, curves)
    return True


def _classify(
    pts: list[tuple[float, float]],
    is_closed: bool,
    doctop: float,
    lines: list[Obj],
    rects: list[Obj],
    curves: list[Obj],
) -> None:
    if len(pts) == 1:
        return
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    top, bottom = min(p[1] for p in pts), max(p[1] for p in pts)
    base = {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top + doctop}
    base |= {"width": x1 - x0, "height": bottom - top}
    if len(pts) == 2:  # "ml" and "mlh" are lines for pdfminer
        lines.append({**base, "object_type": "line", "orientation": "h" if top == bottom else "v"})
        return
    if _is_rect(pts):
        rects.extend(_rect_edges(base))
        return
    if is_closed:
        pts = [*pts, pts[0]]
    for p0, p1 in itertools.pairwise(pts):
        ex0, ex1 = min(p0[0], p1[0]), max(p0[0], p1[0])
        et, eb = min(p0[1], p1[1]), max(p0[1], p1[1])
        orient = "v" if p0[0] == p1[0] else ("h" if p0[1] == p1[1] else None)
        curves.append(
            {"object_type": "curve_edge", "x0": ex0, "x1": ex1, "top": et, "bottom": eb}
            | {"doctop": et + doctop, "width": abs(p0[0] - p1[0]), "height": abs(p0[1] - p1[1])}
            | {"orientation": orient}
        )


def _is_rect(pts: list[tuple[float, float]]) -> bool:
    """Four corners (a fifth equal to the first allowed) going round an axis-aligned box."""
    if len(pts) == 5 and pts[4] == pts[0]:
        pts = pts[:4]
    if len(pts) != 4:
        return False
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = pts
    return (ax == bx and by == cy and cx == dx and dy == ay) or (
        ay == by and bx == cx and cy == dy and dx == ax
    )


def _rect_edges(r: Obj) -> list[Obj]:
    common = {"object_type": "rect_edge"}
    return [
        {**r, **common, "height": 0, "bottom": r["top"], "orientation": "h"},
        {**r, **common, "height": 0, "top": r["bottom"], "doctop": r["doctop"] + r["height"]}
        | {"orientation": "h"},
        {**r, **common, "width": 0, "x1": r["x0"], "orientation": "v"},
        {**r, **common, "width": 0, "x0": r["x1"], "orientation": "v"},
    ]
