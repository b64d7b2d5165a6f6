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
        page_at = ctypes.cast(page.raw, _VOID).value or 0
        try:
            textpage = page.get_textpage()
        except Exception:
            if _edges(page, page_at, height, doctop, None) is None:
                return None  # a page pdfplumber reads anyway: its text page does not matter
            raise
        try:
            found = _chars(textpage, height)
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
    for i in range(raw.FPDFPage_CountObjects(page.raw)):
        address = _page_object_address(page_at, i)
        if texts is not None and address in texts:
            seen += 1
            continue
        kind = _object_type(address)
        if kind == _PATH:
            if not _path_edges(raw.FPDFPage_GetObject(page.raw, i), height, doctop, lines, rects, curves):
                return None
        elif kind == _FORM or (kind == _TEXT and texts is not None):
            return None
    if texts is not None and seen != len(texts):
        return None  # a char of an object that is not on the page
    return lines + rects + curves


def _by_address(fn: Any, restype: Any, *argtypes: Any) -> Any:
    """The pdfium function ``fn`` with plain-address arguments/results (no ctypes cast per call)."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(fn, ctypes.c_void_p).value or 0)


_VOID = ctypes.c_void_p
_text_object_address = _by_address(raw.FPDFText_GetTextObject, _VOID, _VOID, ctypes.c_int)
_page_object_address = _by_address(raw.FPDFPage_GetObject, _VOID, _VOID, ctypes.c_int)
_object_type = _by_address(raw.FPDFPageObj_GetType, ctypes.c_int, _VOID)
_font_address = _by_address(raw.FPDFTextObj_GetFont, _VOID, _VOID)
_INT = ctypes.c_int
_TEXT, _PATH, _FORM = raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM
_is_generated = _by_address(raw.FPDFText_IsGenerated, _INT, _VOID, _INT)
_unicode_map_error = _by_address(raw.FPDFText_HasUnicodeMapError, _INT, _VOID, _INT)
_loose_char_box = _by_address(raw.FPDFText_GetLooseCharBox, _INT, _VOID, _INT, _VOID)
_char_matrix = _by_address(raw.FPDFText_GetMatrix, _INT, _VOID, _INT, _VOID)
_char_origin = _by_address(raw.FPDFText_GetCharOrigin, _INT, _VOID, _INT, _VOID, _VOID)
_font_size = _by_address(raw.FPDFText_GetFontSize, ctypes.c_double, _VOID, _INT)
#: Native layouts of FS_RECTF/FS_MATRIX (floats) and a double, read in one call each.
_RECT, _MATRIX, _DOUBLE = struct.Struct("=4f"), struct.Struct("=6f"), struct.Struct("=d")
_font_descent = _by_address(
    raw.FPDFFont_GetDescent, ctypes.c_int, _VOID, ctypes.c_float, ctypes.POINTER(ctypes.c_float)
)


def _chars(textpage: Any, height: float) -> tuple[list[Char], set[int]] | None:
    """The page's chars and the addresses of their text objects; None for a char pdfminer reads
    its own way."""
    tp: int = ctypes.cast(textpage.raw, _VOID).value or 0
    box = ctypes.create_string_buffer(16)  # FS_RECTF: left, top, right, bottom (floats)
    box_at, loose_box, unpack = ctypes.addressof(box), _loose_char_box, _RECT.unpack_from
    unicode_map_error, text_object, maybe_generated = (
        _unicode_map_error,
        _text_object_address,
        _MAYBE_GENERATED,
    )
    shape = _Shapes(tp, height)
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
            found = shapes[key] if key in shapes else shapes.setdefault(key, shape(i, key))
            last_key = key
        if code == 0 or found is None:
            return None  # unmapped glyph, or rotated/mirrored text: pdfminer's way is different
        loose_box(tp, i, box_at)
        left, _top, right, _bottom = unpack(box)
        size, bottom = found
        append((chr(code), left, right, bottom - size, bottom))
    return chars, set(shapes)


_MAYBE_GENERATED: Final = frozenset({0x20, 0x0D, 0x0A, 0})


def _text_units(tp: Any) -> memoryview:
    """The text page's UTF-16 code units, one per char index (one call instead of one per char)."""
    n = raw.FPDFText_CountChars(tp)
    buf = ctypes.create_string_buffer(2 * (n + 1))
    got = raw.FPDFText_GetText(tp, 0, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
    return memoryview(buf.raw).cast("H")[: max(got - 1, 0)]


class _Shapes:
    """(font size on the page, pdfminer's bottom) of a char's text object; None if not upright."""

    def __init__(self, tp: int, height: float) -> None:
        self.tp, self.height = tp, height
        self.matrix = ctypes.create_string_buffer(24)  # FS_MATRIX: a, b, c, d, e, f (floats)
        self.origin = ctypes.create_string_buffer(16)  # x, y (doubles)
        self.at = ctypes.addressof(self.matrix), ctypes.addressof(self.origin)
        self.value = ctypes.c_float()
        self.descents: dict[int, float | None] = {}

    def descent(self, font: int) -> float | None:
        if font not in self.descents:
            ok = _font_descent(font, 1.0, ctypes.byref(self.value))
            self.descents[font] = self.value.value if ok else None
        return self.descents[font]

    def __call__(self, i: int, obj: int) -> tuple[float, float] | None:
        tp, (matrix_at, origin_at) = self.tp, self.at
        _char_matrix(tp, i, matrix_at)
        a, b, c, d, _e, _f = _MATRIX.unpack_from(self.matrix)
        font = _font_address(obj) if obj else None
        if not font or b or c or a <= 0 or d <= 0:
            return None
        descent = self.descent(font)
        if descent is None:
            return None
        _char_origin(tp, i, origin_at, origin_at + 8)
        size = _font_size(tp, i) * d
        # pdfminer: the box runs from the font's descent below the baseline to one font size above
        return size, self.height - (_DOUBLE.unpack_from(self.origin, 8)[0] + descent * size)


def _path_edges(
    obj: Any, height: float, doctop: float, lines: list[Obj], rects: list[Obj], curves: list[Obj]
) -> bool:
    """Append the path's edges as pdfminer/pdfplumber would; False when it has curves."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    raw.FPDFPath_GetDrawMode(obj, fill, stroke)
    if not fill.value and not stroke.value:
        return True  # painted with 'n' (a clip): pdfminer makes no object
    m = raw.FS_MATRIX()
    raw.FPDFPageObj_GetMatrix(obj, m)
    x, y = ctypes.c_float(), ctypes.c_float()
    subpaths: list[list[tuple[float, float]]] = []
    closed: list[bool] = []
    for k in range(raw.FPDFPath_CountSegments(obj)):
        seg = raw.FPDFPath_GetPathSegment(obj, k)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind not in (raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_LINETO):
            return False
        raw.FPDFPathSegment_GetPoint(seg, x, y)
        pt = (m.a * x.value + m.c * y.value + m.e, height - (m.b * x.value + m.d * y.value + m.f))
        if kind == raw.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append([pt])
            closed.append(False)
        else:
            subpaths[-1].append(pt)
        if raw.FPDFPathSegment_GetClose(seg):
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
