"""Cell-level reading shared by the rule path: a row's atoms (:mod:`extractor.tables.atoms`)
→ exactly n cells, or the reason they cannot be told: surplus blanks at the ends, empty lines
that may or may not be cells, run-together digits and their cuts.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from extractor.tables.atoms import Atom
from extractor.tables.splitting import Token, parse_token, split_tokens

_KIND: Final = operator.itemgetter(0)
_TEXT: Final = operator.itemgetter(1)
_ZEROS: Final = itertools.repeat("0")


@dataclass
class Fit:
    """The outcome of fitting a segment's atoms to ``n`` cells.

    ``candidates`` holds cell texts ("" blank, a marker, or a number as printed). ``how`` is
    ``positional`` (the source printed exactly n cells), ``split`` (run-together digits were
    cut; see ``raw_count``), or ``none`` (``problem`` says why nothing fits).
    """

    candidates: list[tuple[str, ...]]
    how: Literal["positional", "split", "block", "none"]
    problem: str = ""
    raw_count: int = 0
    printed: str = ""
    items: tuple[Atom, ...] = ()


def fit(
    atoms: Sequence[Atom],
    n: int,
    accept: Callable[[tuple[str, ...]], bool] | None = None,
    *,
    blank_row_ok: bool = False,
    empty_lines: bool | Callable[[], bool] = True,
) -> Fit:
    """Fit atoms to ``n`` cells. ``blank_row_ok``: exactly n blank cells form a valid row.
    ``empty_lines``: an empty line may be a blank cell (false where the text separates every
    line by an empty one, see :func:`empty_lines_are_cells`); a callable is asked only when
    the row has an empty line."""
    items = atoms
    kinds = set(map(_KIND, atoms))  # (C-level scan: this runs for every row)
    if "grouped" in kinds:
        shown = " ".join(a.text or "□" for a in atoms)
        return Fit([], "none", GROUPED_COMMAS, printed=shown)
    if "line" in kinds:
        items = [a for a in atoms if a[0] != "line"]
        if not (empty_lines() if callable(empty_lines) else empty_lines):
            atoms = items
    if len(items) > n:
        options = _trimmed(list(items), n)
        if len(options) > 1:
            return _either_end(options, n, accept, list(items))
        items = options[0]
    if len(items) == n and _well_formed(items):
        # the common case first: exactly n well-formed cells, none blank (printed is for messages)
        return Fit([tuple(map(_TEXT, items))], "positional", raw_count=1, items=tuple(items))
    if len(items) != n and len(items) != len(atoms):
        items_or_fit = _with_empty_lines(atoms, n, accept)
        if isinstance(items_or_fit, Fit):
            return items_or_fit
        items = items_or_fit or items
    return _fit_rest(items, n, accept, blank_row_ok)


def _fit_rest(
    items: Sequence[Atom], n: int, accept: Callable[[tuple[str, ...]], bool] | None, blank_row_ok: bool
) -> Fit:
    """:func:`fit` once surplus blanks and empty lines are settled: blank rows, well-formed
    cells, or a cut of run-together digits."""
    printed = " ".join(a.text or "□" for a in items)
    nums = [a for a in items if a.kind == "num"]
    if not items:
        return Fit([], "none", "no value printed", printed=printed)
    if not nums and all(a.kind == "blank" for a in items):
        if blank_row_ok and len(items) == n:
            return Fit([("",) * n], "positional", raw_count=1, printed=printed, items=tuple(items))
        return Fit([], "none", f"all {len(items)} cells are blank", printed=printed)
    if len(items) == n and all(
        (a.kind == "num" and (t := a.text).isdigit() and t.isascii() and (t[0] != "0" or t == "0"))
        or a.valid_single
        for a in items
    ):
        return Fit(
            [tuple(a.text for a in items)], "positional", raw_count=1, printed=printed, items=tuple(items)
        )
    if len(nums) != len(items):
        return Fit(
            [],
            "none",
            f"found {len(nums)} numbers and {len(items) - len(nums)} blank/marker cells "
            f"where {n} cells are expected; their positions cannot be told",
            printed=printed,
        )
    if len(nums) > n:
        return Fit([], "none", f"found {len(nums)} numbers where {n} are expected", printed=printed)
    return _split_fit(items, nums, n, accept, printed)


def _split_fit(
    items: Sequence[Atom],
    nums: list[Atom],
    n: int,
    accept: Callable[[tuple[str, ...]], bool] | None,
    printed: str,
) -> Fit:
    """Number tokens only, fewer than (or as many as, some malformed) ``n``: cut them."""
    tokens = [parse_token(a.text) for a in nums]
    cands, total, complete = split_tokens(tokens, n, accept)
    if not complete:
        return Fit([], "none", f"run-together digits '{printed}' allow too many splits", printed=printed)
    if total == 0:
        if sum(len(t.digits) for t in tokens) < n:
            return Fit([], "none", f"'{printed}' {FEWER_DIGITS} ({n})", printed=printed)
        return Fit(
            [], "none", f"'{printed}' cannot be cut into {n} cells without leading zeros", printed=printed
        )
    if not cands:
        return Fit(
            [],
            "none",
            f"no way to cut '{printed}' into {n} cells satisfies the row's identity ({total} cuts tried)",
            raw_count=total,
            printed=printed,
        )
    if len(cands) == 1 and 1 < len(tokens) < n and _blank_reading(tokens, n, accept):
        return Fit([], "none", SPLIT_OR_BLANKS, raw_count=total, printed=printed)
    how: Literal["positional", "split"] = "positional" if len(tokens) == n else "split"
    return Fit(cands, how, raw_count=total, printed=printed, items=tuple(items))


def _blank_reading(tokens: Sequence[Token], n: int, accept: Callable[[tuple[str, ...]], bool] | None) -> bool:
    """Whether the numbers a row prints apart, each one whole cell, with blank (0) cells in the
    printed gaps between or around them, also make a valid row: then a cut of one of them is not
    the only reading. (A blank hidden inside a run-together token is not looked for: the layout
    shows no gap there, and the pingtan-style glued rows print their zeros.)"""
    if not all(t.valid_single for t in tokens):
        return False
    texts = [t.text for t in tokens]
    for where in itertools.combinations(range(n), len(texts)):
        cells = ["0"] * n
        for i, text in zip(where, texts, strict=True):
            cells[i] = text
        if accept is None or accept(tuple(cells)):
            return True
    return False


#: Where one cell was read: (start, end) in the segment and how it was tied ("" = the plain
#: ordinal after the row label; "cut" = a piece of a run-together token; "blank" = an empty
#: slot read as 0; "block" = a block of numbers printed after several labels).
CellSpan = tuple[int, int, str]


def cell_spans(f: Fit, cand: tuple[str, ...]) -> list[CellSpan]:
    """The span of each cell of ``cand`` (one of ``f.candidates``) among ``f.items``."""
    items = f.items
    if len(items) == len(cand):
        tie = "block" if f.how == "block" else ""
        return [(a.start, a.end, "blank" if a.kind == "blank" else tie) for a in items]
    out: list[CellSpan] = []
    j, count = 0, len(cand)
    for a in items:  # a split: every item is a number token cut into consecutive cells
        at, size, first = a[2], len(a[1]), j
        end = at + size
        while at < end and j < count:
            step = len(cand[j])
            out.append((at, at + step, ""))
            at += step
            j += 1
        if j - first > 1:
            out[first:j] = [(s, e, "cut") for s, e, _ in out[first:j]]
    return out


AMBIGUOUS_BLANKS: Final = (
    "blank cells at both ends of the row: which of them are the row's cells cannot be told"
)
#: "1   16" for three cells: "16" run together, or a blank cell in the printed gap; only the
#: header's columns or the row's identity may tell.
SPLIT_OR_BLANKS: Final = (
    "fewer numbers than cells, printed apart: numbers run together or blank cells, which cannot be told"
)
#: "1 2" for seven cells: the report leaves cells blank, and nothing shows which (see
#: :mod:`extractor.tables.hidden`: a blank may then hide inside any run-together token).
FEWER_DIGITS: Final = "prints fewer digits than the row has cells: blank cells, not shown where"
#: "1,8681,1011176": commas that may group thousands run together, or part cells.
GROUPED_COMMAS: Final = (
    "digits with commas that may be thousands separators or cell boundaries: the cells cannot be told"
)
_SURPLUS_LINES: Final = (
    "more lines than cells: with the empty ones at the end dropped the row breaks its identity, "
    "with another line dropped it keeps it; which lines are cells cannot be told"
)
_UNPROVEN_BLANKS: Final = (
    "empty lines stand between the values but their count does not prove which cells are blank"
)


def _shown(atoms: Sequence[Atom]) -> str:
    return " ".join(a.text or "□" for a in atoms)


def _well_formed(items: Sequence[Atom]) -> bool:
    """Every item a well-formed cell other than a blank (plain digits checked inline: hot)."""
    texts = list(map(_TEXT, items))
    joined = "".join(texts)
    if "" not in texts and joined.isdigit() and joined.isascii():  # all plain digits (no blank, marker)
        return sum(map(str.startswith, texts, _ZEROS)) == texts.count("0")  # no leading zero but "0"
    for a in items:
        kind, t = a[0], a[1]
        if kind == "num" and t.isdigit() and t.isascii() and (t[0] != "0" or t == "0"):
            continue
        if kind == "blank" or not a.valid_single:
            return False
    return True


def _trimmed(items: list[Atom], n: int, kinds: tuple[str, ...] = ("blank",)) -> list[list[Atom]]:
    """The ways to drop surplus blank cells from the ends of a row (layout cells: empty label
    columns, padding). Several ways when the surplus could come off either end."""
    extra = len(items) - n
    if extra <= 0:
        return [items]
    size = len(items)
    lead = 0
    while lead < size and items[lead][0] in kinds:
        lead += 1
    if items[-1][0] not in kinds and lead >= extra:
        return [items[extra:]]  # the usual case: empty label columns before the cells
    trail = 0
    while trail < size and items[size - 1 - trail][0] in kinds:
        trail += 1
    first = max(0, extra - trail)
    if first == min(lead, extra):  # one way only (e.g. one layout blank at each end)
        return [items[first : len(items) - (extra - first)]]
    options = {
        tuple(items[a : len(items) - (extra - a)]) for a in range(min(lead, extra) + 1) if extra - a <= trail
    }
    if not options:  # more cells than blanks at the ends: the caller says so
        a = min(lead, extra)
        return [items[a : len(items) - min(trail, extra - a)]]
    return [list(o) for o in sorted(options)]


def _either_end(
    options: list[list[Atom]], n: int, accept: Callable[[tuple[str, ...]], bool] | None, atoms: list[Atom]
) -> Fit:
    """Surplus blanks at both ends: only the row's identity may tell which end is layout."""
    valid = [o for o in options if all(a.valid_single for a in o)]
    kept = [o for o in valid if accept is not None and accept(tuple(a.text for a in o))]
    if len({tuple(a.text for a in o) for o in kept}) == 1:
        # one reading; where equal texts could come off either end, the first way is the one tied
        cand = tuple(a.text for a in kept[0])
        return Fit([cand], "positional", raw_count=len(valid), printed=_shown(atoms), items=tuple(kept[0]))
    return Fit([], "none", AMBIGUOUS_BLANKS, printed=_shown(atoms))


#: A filled line's end (``\S[ \t]*\n``) and one followed by an empty line
#: (``\S[ \t]*\n[ \t]*(?=\n)``), searched in the reversed text: there the patterns open with
#: the line break, which the engine scans for, instead of being tried at every character.
_FILLED: Final = re.compile(r"\n[ \t]*\S")
_SPACED: Final = re.compile(r"\n[ \t]*\n[ \t]*\S")


def empty_lines_lazily(region: str) -> Callable[[], bool]:
    """:func:`empty_lines_are_cells` of ``region``, computed on first use and then kept."""
    return functools.cache(lambda: empty_lines_are_cells(region))


def empty_lines_are_cells(region: str) -> bool:
    """False for text that puts an empty line after most lines (PDF text layers, pasted pages):
    there an empty line is spacing, never a cell."""
    backwards = region[::-1]
    filled = len(_FILLED.findall(backwards))
    return not filled or len(_SPACED.findall(backwards)) * 2 < filled


def _line_between_values(atoms: Sequence[Atom]) -> bool:
    values = [i for i, a in enumerate(atoms) if a.kind in ("num", "marker")]
    return bool(values) and any(a.kind == "line" for a in atoms[values[0] : values[-1]])


def _stray_reading(
    atoms: Sequence[Atom], n: int, kept: list[Atom], accept: Callable[[tuple[str, ...]], bool]
) -> bool:
    """Whether the row read with its surplus empty lines dropped breaks its identity while another
    run of n of its lines keeps it: the surplus may be a stray line (a page number between the
    header and the data), so which lines are the cells cannot be told."""
    texts = tuple(a.text for a in kept)
    if accept(texts):
        return False
    return any(
        accept(window) and window != texts
        for a in range(len(atoms) - n + 1)
        if all(x.valid_single for x in atoms[a : a + n])
        for window in [tuple(x.text for x in atoms[a : a + n])]
    )


def _with_empty_lines(
    atoms: Sequence[Atom], n: int, accept: Callable[[tuple[str, ...]], bool] | None
) -> list[Atom] | Fit | None:
    """Empty lines count as cells only where they make the row's cell count exactly n."""
    every = [
        [a._replace(kind="blank") if a.kind == "line" else a for a in o]
        for o in _trimmed(list(atoms), n, kinds=("blank", "line"))
    ]
    if len(every) > 1:
        return _either_end(every, n, accept, list(atoms))
    if len(every[0]) == n:
        if len(atoms) > n and accept is not None and _stray_reading(atoms, n, every[0], accept):
            return Fit([], "none", _SURPLUS_LINES, printed=_shown(atoms))
        return every[0]
    if _line_between_values(atoms):
        return Fit([], "none", _UNPROVEN_BLANKS, printed=_shown(atoms))
    return None
