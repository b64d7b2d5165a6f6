"""A row's text segment → its atoms: the numbers, markers and positioned blanks it prints.

A *segment* is the text between one row label and the next. It is cut at the separators the
source prints (tab, pipe, newline); a blank cell is one that stands between two inline
separators (``\t\t``, ``| |``), so layout whitespace at line ends is never mistaken for data.
Noise (ordinals, annotations, page marks) is blanked first with text of the same length, so an
atom's offsets are offsets in the source. :mod:`extractor.tables.cells` fits the atoms to cells.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

from extractor.read.normalise import SPAN, has_cjk
from extractor.tables.splitting import NUMBER_TOKEN, Token, parse_token
from extractor.tables.values import MARKERS

_SEPARATORS: Final = re.compile(r"([\t|\n])")
_MD_RULE: Final = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*(?::?-{3,}:?)?[ \t]*$", re.M)
_NOISE: Final = re.compile(
    r"数据\s*\d+|第\s*\d+\s*(?:项|条|页)|保留\s*\d+\s*位小数|共\s*\d+\s*页|\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
)
# Group ordinals and their (possibly torn) heading text: "（四）无" / "法提供" must not leave a
# lone "无" that would read as a marker.
_ORDINAL: Final = re.compile(r"[（(]\s*[一二三四五六七八九十]\s*[）)][\u3400-\u9fff]*")
# Sub-item ordinals written "(1)" / "（2）" before a label.
_PAREN_NUMBER: Final = re.compile(r"[（(]\s*\d{1,2}\s*[）)](?=\s*[\u3400-\u9fff])")
# Parenthesised annotations that contain Chinese text (units, explanations, Hubei-style notes).
_ANNOTATION: Final = re.compile(r"[（(][^（）()\n]*[\u3400-\u9fff][^（）()\n]*[）)]")
# A sub-item ordinal ("2." before 其他法律…) glued to the previous row's digits.
_LABEL_NUMBER: Final = re.compile(r"(?<![\d.])[1-9][.．、,，](?=[ \t]*[\u3400-\u9fff])")

#: A comma before three digits that normalisation left (``1,8681,1011176``: "1,868" and "1,101"
#: run together, or cells 1 | 8681 | …): thousands separator or cell boundary cannot be told.
_GROUPED: Final = re.compile(r"\d,\d{3}")
_DIGIT_RUN: Final = re.compile(r"[\d,.]+")


#: ``blank``: an empty cell between two inline separators (``\t\t``, ``| |``); ``line``: an empty
#: piece bordered by a line break — a blank cell only where the row's cell count proves it;
#: ``grouped``: digits with a comma that may group thousands or part two cells (see _GROUPED).
AtomKind = Literal["num", "blank", "marker", "line", "grouped"]


class Atom(NamedTuple):
    """A cell-like item of a segment; ``start``/``end`` are its offsets in the segment text
    (a blank spans the empty slot between its two separators)."""

    kind: AtomKind
    text: str
    start: int = -1
    end: int = -1

    @property
    def token(self) -> Token | None:
        return parse_token(self.text) if self.kind == "num" else None

    @property
    def valid_single(self) -> bool:
        """A well-formed number on its own (no leading zero); blanks and markers are fine."""
        t = self.text
        if self.kind != "num" or t == "0":
            return True
        if t.isascii() and t.isdigit():
            return t[0] != "0"
        tok = parse_token(t)
        return tok.valid_single


#: What :func:`clean_segment` leaves where it removed text (one per character, so offsets stay
#: true): not a cell at all (a group heading or an annotation is not a blank data cell).
_CUT: Final = "\ue001"


def _spaces(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _cut(m: re.Match[str]) -> str:
    return _CUT * len(m.group(0))


def clean_segment(seg: str) -> str:
    """Blank out noise (markdown rules, ordinals, annotations, page marks) with spaces of the
    same length, so offsets in the cleaned segment are offsets in the source."""
    if "---" in seg:
        seg = _MD_RULE.sub(_spaces, seg)
    if "(" in seg or "（" in seg:
        seg = _ORDINAL.sub(_cut, seg)
        seg = _PAREN_NUMBER.sub(_cut, seg)
        seg = _ANNOTATION.sub(_cut, seg)
    if _NOISE_HINT.search(seg):
        seg = _NOISE.sub(_cut, seg)
    if _LABEL_NUMBER_HINT.search(seg):
        seg = _LABEL_NUMBER.sub(_spaces, seg)
    return seg


_NOISE_HINT: Final = re.compile(r"数据|第|保留|页|年")
_LABEL_NUMBER_HINT: Final = re.compile(r"[.．、,，]")


def atoms_of(segment: str, *, stop_at_text: bool = False, base: int = 0, cells: int = 0) -> list[Atom]:
    """Numbers, markers and positioned blanks in a segment, in order.

    ``stop_at_text``: a row's cells end at the first text-only cell that follows them (an
    unrecognised extra row such as 其他主动公开文件 must not lend its numbers to the row above).
    ``base`` is the segment's offset in the region: atom offsets are region offsets.
    ``cells``: the row's cell count; a grid line (tab or pipe cells) holding that many ends the
    row, so a stray line below it (a page number in its own grid row) lends it nothing.
    """
    parts = _SEPARATORS.split(_own_lines(clean_segment(segment)))
    atoms: list[Atom] = []
    last = len(parts) - 1
    seen_value = shared_line = grid_line = False
    lines = 0  # "line" atoms so far
    off = base  # offset of parts[i] in the region (every separator is one character)
    new = tuple.__new__  # a NamedTuple's own __new__ is slow Python code; this is the hot loop
    # parts = [piece, sep, piece, sep, ..., piece]
    for i in range(0, last + 1, 2):
        piece = parts[i]
        if i:
            if parts[i - 1] != "\n":
                grid_line = True
            elif cells and _row_ends(parts, i, grid_line and len(atoms) - lines >= cells):
                break
            else:
                grid_line = False
        at = off
        off += len(piece) + 1
        stripped = piece.strip()
        if stripped.isascii():
            if stripped.isdigit():
                s0 = at if stripped is piece else at + len(piece) - len(piece.lstrip())
                atoms.append(new(Atom, ("num", stripped, s0, s0 + len(stripped))))
                seen_value = True
                shared_line = shared_line or i == 0
                continue
            if not stripped:
                if 0 < i < last:  # see _blank_kind (inlined: this loop is the hot path)
                    before, after = parts[i - 1], parts[i + 1]
                    if before != "\n" and after != "\n":
                        atoms.append(new(Atom, ("blank", "", at, at + len(piece))))
                    elif before != "|" and after != "|":
                        atoms.append(new(Atom, ("line", "", at, at + len(piece))))
                        lines += 1
                continue
        found = _text_piece(piece, stripped, at, atoms)
        if found < 0:
            seen_value = seen_value or found == _VALUE_ATOM
            continue
        if not found:
            if stop_at_text and seen_value and has_cjk(stripped):
                break
            continue
        shared_line = shared_line or found > 1 or i == 0
        seen_value = True
    # cells printed side by side on a line, or on the label's own line: an empty line is layout,
    # not a blank cell (that is a one-cell-a-line layout's, whose cells start below the label)
    if shared_line:
        return [a for a in atoms if a[0] != "line"]
    return atoms


def _row_ends(parts: list[str], i: int, full: bool) -> bool:
    """Whether a row's cells end before the line starting at ``parts[i]``: the grid line above
    holds all of them (``full``), or this line is a grid row of two or more cells whose first
    cell (after an outer ``|``) is a number (a page number in its own grid row)."""
    if full:
        return True
    if i < len(parts) - 1 and parts[i + 1] == "\n":
        return False  # no cell separator on the line: not a grid row
    if not parts[i].strip() and i + 2 < len(parts) and parts[i + 1] == "|":
        i += 2  # the outer pipe's empty outside
    seps = parts[i + 1 : i + 4 : 2]
    return len(seps) == 2 and "\n" not in seps and _NUMBER_CELL.fullmatch(parts[i]) is not None


_VALUE_ATOM: Final = -2


def _text_piece(piece: str, stripped: str, at: int, atoms: list[Atom]) -> int:
    """Atoms of a piece that is not plain digits or empty, appended; how many numbers it held
    (-1: no cell — a span mark or removed text; ``_VALUE_ATOM``: a marker or grouped digits)."""
    if SPAN in stripped or _CUT in stripped:
        stripped = stripped.replace(SPAN, "").replace(_CUT, "").strip()
        if not stripped:
            return -1  # a cell covered by a rowspan/colspan, or removed text: no cell of its own
    if stripped in MARKERS:
        k = piece.find(stripped)
        s0, e0 = (at + k, at + k + len(stripped)) if k >= 0 else (at, at + len(piece))
        atoms.append(Atom("marker", stripped, s0, e0))
        return _VALUE_ATOM
    if "," in piece and (g := _GROUPED.search(piece)):
        run = next(m for m in _DIGIT_RUN.finditer(piece) if m.start() <= g.start() < m.end())
        atoms.append(Atom("grouped", run.group(0), at + run.start(), at + run.end()))
        return _VALUE_ATOM
    found = 0
    for m in NUMBER_TOKEN.finditer(piece):
        atoms.append(Atom("num", m.group(0), at + m.start(), at + m.end()))
        found += 1
    return found


_NUMBER_CELL: Final = re.compile(r"[ \t]*[+\-]?\d[\d,.]*[ \t]*")
_LAYOUT: Final = " \t|" + SPAN + _CUT
_VALUE_HINT: Final = re.compile(r"\d|(?:^|[\t|])[ \t]*(?:/|-{1,2}|—{1,2}|–|无|\\)[ \t]*(?:[\t|]|$)")


def _own_lines(segment: str) -> str:
    """Drop the segment's last line when it holds no value: the cells printed before the next
    row's label on its own line (``\t\t1.属于…``) belong to that row, not to this one."""
    cut = segment.rfind("\n")
    if cut < 0 or cut == len(segment) - 1:  # (an empty last line holds no cell anyway)
        return segment
    tail = segment[cut + 1 :]
    if not tail.strip(_LAYOUT) or not _VALUE_HINT.search(tail):
        return segment[: cut + 1]
    return segment
