"""Run-together digit cells: ``21710000218`` → ``217,1,0,0,0,0,218``.

A crawled page may print a row's cells with no separator. The cells are recovered by
enumerating every way to cut the printed tokens into the expected number of cells, subject to:
no leading zeros (``07`` is never a cell), a sign only at the start of a cell, decimals and
units staying on the last cell of their token, boundaries that the source does print (spaces,
tabs) are kept — and then the table's identities, applied by the caller.

Nothing is guessed: the caller keeps a split only when exactly one candidate survives.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

NUMBER_TOKEN: Final = re.compile(r"[+\-]?\d+(?:\.\d+)?(?:万元|元|万|件|个|项|次|条|宗)?")
_PARTS: Final = re.compile(r"^([+\-]?)(\d+)((?:\.\d+)?)(.*)$")

#: Stop enumerating after this many raw candidates (the split is then reported as too ambiguous).
MAX_CANDIDATES: Final = 200_000


@dataclass(frozen=True)
class Token:
    sign: str
    digits: str
    frac: str
    unit: str

    @property
    def text(self) -> str:
        return f"{self.sign}{self.digits}{self.frac}{self.unit}"

    @property
    def valid_single(self) -> bool:
        """A token that is a well-formed number on its own (no leading zero)."""
        return _valid(self.digits)


def parse_token(text: str) -> Token:
    m = _PARTS.match(text)
    if m is None:  # pragma: no cover - NUMBER_TOKEN guarantees the shape
        raise ValueError(text)
    return Token(m.group(1), m.group(2), m.group(3), m.group(4))


def _valid(digits: str) -> bool:
    return digits == "0" or (bool(digits) and digits[0] != "0")


Cuts = tuple[tuple[str, ...], ...]


def _cuts(digits: str, k: int, memo: dict[tuple[str, int], Cuts]) -> Cuts:
    """All ways to cut ``digits`` into ``k`` non-empty parts with no leading zeros.

    ``memo`` holds the suffixes already cut during one :func:`split_tokens` call (the recursion
    meets the same suffix once per way of cutting what precedes it).
    """
    key = (digits, k)
    found = memo.get(key)
    if found is not None:
        return found
    if k == 1:
        found = ((digits,),) if _valid(digits) else ()
    else:
        out: list[tuple[str, ...]] = []
        # first part: a lone "0", or a run starting with 1-9
        for i in range(1, len(digits) - (k - 1) + 1):
            head = digits[:i]
            if not _valid(head):
                break
            out.extend((head, *rest) for rest in _cuts(digits[i:], k - 1, memo))
        found = tuple(out)
    memo[key] = found
    return found


def _token_cells(token: Token, k: int, memo: dict[tuple[str, int], Cuts]) -> Cuts:
    """The token's cuts into ``k`` cells, sign on the first cell, decimals and unit on the last."""
    out = []
    for parts in _cuts(token.digits, k, memo):
        cells = list(parts)
        cells[0] = token.sign + cells[0]
        cells[-1] = cells[-1] + token.frac + token.unit
        out.append(tuple(cells))
    return tuple(out)


def _compositions(maxes: list[int], i: int, remaining: int) -> Iterator[tuple[int, ...]]:
    """The ways to give tokens ``i…`` (of at most ``maxes[k]`` cells each) ``remaining`` cells."""
    if i == len(maxes) - 1:
        if 1 <= remaining <= maxes[i]:
            yield (remaining,)
        return
    rest_max = sum(maxes[i + 1 :])
    for k in range(1, min(maxes[i], remaining - (len(maxes) - 1 - i)) + 1):
        if remaining - k > rest_max:
            continue
        for tail in _compositions(maxes, i + 1, remaining - k):
            yield (k, *tail)


def split_tokens(
    tokens: Sequence[Token],
    n: int,
    accept: Callable[[tuple[str, ...]], bool] | None = None,
    limit: int = MAX_CANDIDATES,
) -> tuple[list[tuple[str, ...]], int, bool]:
    """Cut ``tokens`` into exactly ``n`` cells.

    Returns ``(accepted, total, complete)``: the candidates ``accept`` keeps (cell texts as
    printed, sign/decimals/unit attached), how many well-formed candidates there were before
    ``accept``, and whether enumeration finished under ``limit``.
    """
    accepted: list[tuple[str, ...]] = []
    total = 0
    if not tokens or n < len(tokens):
        return accepted, 0, True
    maxes = [len(t.digits) for t in tokens]
    if sum(maxes) < n:
        return accepted, 0, True
    if sum(maxes) == n:  # one digit per cell: the only possible cut
        cand = tuple(
            (t.sign if i == 0 else "") + d + (t.frac + t.unit if i == len(t.digits) - 1 else "")
            for t in tokens
            for i, d in enumerate(t.digits)
        )
        if accept is None or accept(cand):
            accepted.append(cand)
        return accepted, 1, True

    memo: dict[tuple[str, int], Cuts] = {}
    cells: dict[tuple[int, int], Cuts] = {}
    for ks in _compositions(maxes, 0, n):
        # the same order as cutting token by token, first token slowest
        per_token = []
        for i, k in enumerate(ks):
            if (i, k) not in cells:
                cells[i, k] = _token_cells(tokens[i], k, memo)
            per_token.append(cells[i, k])
        for combo in itertools.product(*per_token):
            cand = combo[0] if len(combo) == 1 else tuple(itertools.chain.from_iterable(combo))
            total += 1
            if total > limit:
                return accepted, total, False
            if accept is None or accept(cand):
                accepted.append(cand)
    return accepted, total, True
