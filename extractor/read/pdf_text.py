"""pdfplumber's default word and line grouping, on plain tuples instead of per-char dicts.

The pdfium reader (:mod:`extractor.read.pdfium`) hands its characters over as
:data:`Char` tuples ``(text, x0, x1, top, bottom)``, all upright. For those, :func:`band_text` is
``pdfplumber.utils.chars_to_textmap(crop_to_bbox(chars, bbox), layout_bbox=bbox, …).as_string``
and :func:`cell_text` is ``extract_text(chars)`` as ``Table.extract`` calls it — the same
clustering (tops chained within 3 pt), word splitting (a space, a step back, a gap over 3 pt or
a top 3 pt away) and ligature expansion, step by step, so the strings are equal; only the dicts,
generators and sort-key lambdas are gone. ``tests/test_reader_parity.py`` checks every page of
every rendered PDF against pdfplumber itself.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator
from typing import Final

#: ``(text, x0, x1, top, bottom)`` of one upright character (``text``: one character), in
#: pdfplumber's coordinates.
Char = tuple[str, float, float, float, float]
#: ``(text, top)`` of a word: all the layout needs of pdfplumber's word dict.
Word = tuple[str, float]

TOLERANCE: Final = 3  # pdfplumber's DEFAULT_X_TOLERANCE and DEFAULT_Y_TOLERANCE
#: pdfplumber.utils.text.LIGATURES (``expand_ligatures=True``).
LIGATURES: Final = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}


def clusters(values: Iterable[float]) -> dict[float, int]:
    """``make_cluster_dict(values, 3)``: sorted distinct values, chained while within 3 apart."""
    out: dict[float, int] = {}
    group = 0
    last: float | None = None
    for x in sorted(set(values)):
        if last is not None and x > last + TOLERANCE:
            group += 1
        out[x] = group
        last = x
    return out


def _lines(chars: list[Char]) -> Iterator[list[Char]]:
    """``WordExtractor.iter_chars_to_lines``: chars clustered by top, each line sorted by x0."""
    index = clusters(c[3] for c in chars)
    if len(chars) == 1 or max(index.values()) == 0:  # one line: the stable sorts keep its order
        yield sorted(chars, key=_X0)
        return
    ordered = sorted(chars, key=lambda c: index[c[3]])
    for _, line in itertools.groupby(ordered, key=lambda c: index[c[3]]):
        yield sorted(line, key=_X0)


_X0: Final = operator.itemgetter(1)


def words(chars: list[Char]) -> list[Word]:
    """``WordExtractor().extract_words(chars)`` (default settings) as (text, top) pairs."""
    out: list[Word] = []
    for line in _lines(chars) if chars else ():
        _line_words(line, out)
    return out


def _line_words(line: list[Char], out: list[Word]) -> None:
    """The words of one line of chars sorted by x0, appended to ``out``."""
    word: list[Char] = []
    p: Char | None = None  # the word's last char
    for c in line:
        text = c[0]
        if text.isspace():
            if word:
                out.append(_merge(word))
            word, p = [], None
        elif text == "":  # ``text in split_at_punctuation`` with the default "": its own word
            if word:
                out.append(_merge(word))
            out.append(_merge([c]))
            word, p = [], None
        elif p is not None and (c[1] < p[1] or c[1] > p[2] + TOLERANCE or abs(c[3] - p[3]) > TOLERANCE):
            out.append(_merge(word))
            word, p = [c], c
        else:
            word.append(c)
            p = c
    if word:
        out.append(_merge(word))


def _merge(word: list[Char]) -> Word:
    # a char's text is one character (pdfium's code unit), so mapping the joined text is mapping
    # each char's text as pdfplumber does
    return "".join([c[0] for c in word]).translate(_EXPAND), min([c[3] for c in word])


_EXPAND: Final = str.maketrans(LIGATURES)


def cell_text(chars: list[Char]) -> str:
    """``pdfplumber.utils.extract_text(chars)``'s lines as ``Table.extract`` joins them."""
    if len(chars) == 1:  # a lone char is its own word, unless a space
        text = chars[0][0]
        return "" if text.isspace() else text.translate(_EXPAND)
    tops = [c[3] for c in chars]
    if tops and not max(tops) > min(tops) + TOLERANCE:
        # all tops within 3 pt: one cluster of chars, so one of words (their tops are some of
        # these), kept in extraction order: one line of words
        out: list[Word] = []
        _line_words(sorted(chars, key=_X0), out)
        return " ".join([w[0] for w in out])
    found = words(chars)
    index = clusters(w[1] for w in found)
    ordered = sorted(found, key=lambda w: index[w[1]])
    return "\n".join(
        " ".join(w[0] for w in line) for _, line in itertools.groupby(ordered, key=lambda w: index[w[1]])
    )


def crop(chars: list[Char], bbox: tuple[float, float, float, float]) -> list[Char]:
    """The chars overlapping ``bbox``, clipped to it, as pdfplumber's ``crop_to_bbox`` keeps them."""
    bx0, btop, bx1, bbottom = bbox
    cropped: list[Char] = []
    for c in chars:
        text, x0, x1, top, bottom = c
        if bx0 <= x0 and x1 <= bx1 and btop <= top and bottom <= bbottom:  # inside: kept as it is
            if bottom - top >= 0 and x1 - x0 >= 0 and (bottom - top) + (x1 - x0) > 0:
                cropped.append(c)
            continue
        left, right = max(x0, bx0), min(x1, bx1)
        upper, lower = max(top, btop), min(bottom, bbottom)
        width, height = right - left, lower - upper
        if height >= 0 and width >= 0 and height + width > 0:
            cropped.append((text, left, right, upper, lower))
    return cropped


def band_text(chars: list[Char], bbox: tuple[float, float, float, float]) -> str:
    """The text of the chars overlapping ``bbox``, clipped to it (``crop_to_bbox``), as pdfplumber
    lays it out without ``layout=True``: lines in extraction order, words one space apart."""
    found = words(crop(chars, bbox))
    index = clusters(w[1] for w in found)
    lines: list[str] = []
    for _, line in itertools.groupby(found, key=lambda w: index[w[1]]):  # order kept (presorted)
        parts: list[str] = []
        length = 0
        for text, _top in line:
            if length:  # one space before a word once the line holds a letter
                parts.append(" ")
                length += 1
            parts.append(text)
            length += len(text)
        lines.append("".join(parts))
    return "\n".join(lines)
