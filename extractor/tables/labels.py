"""Tolerant, order-constrained row labels: a misprinted label between two rows that were found is
that row.

The template fixes the order of the rows. When a row's label is not found (a character lost,
swapped or added, a homophone, a traditional form the normaliser does not know), the text
between the previous and the next row that *were* found is searched for the closest
approximate occurrence of the label (edit distance, at most about a third of its length).
Nothing outside that window is ever considered, so a near-miss can never be matched out of
order.
"""

from __future__ import annotations

import itertools
from typing import Final

from extractor.read.normalise import CJK, fold_for_match

#: At most this share of a label's characters may differ in a near-miss (≥ 4-character labels).
MAX_SHARE: Final = 0.34
MIN_LENGTH: Final = 4


def allowed_distance(pattern: str) -> int:
    return int(len(pattern) * MAX_SHARE) if len(pattern) >= MIN_LENGTH else 0


def near_occurrence(text: str, pattern: str, lo: int, hi: int) -> tuple[int, int, int] | None:
    """The closest approximate occurrence of ``pattern`` in ``text[lo:hi]``.

    Returns ``(start, end, distance)`` (Sellers' approximate substring matching), the match
    trimmed to CJK characters at both ends; ``None`` when nothing is close enough.
    """
    limit = allowed_distance(pattern)
    window = text[lo:hi]
    if limit == 0 or not window:
        return None
    chars = set(pattern)
    if sum(c in window for c in chars) < len(chars) - limit:  # cheap: too few of its characters
        return None
    best: tuple[int, int, int] | None = None
    for a, b in _candidate_ranges(window, chars, len(pattern), limit):
        best = _sellers(window, pattern, limit, a, b, best)
    if best is None:
        return None
    start, end, d = best
    while start < end and not CJK.match(window[start]):
        start += 1
    while end > start and not CJK.match(window[end - 1]):
        end -= 1
    if end - start < MIN_LENGTH - 1:
        return None
    return lo + start, lo + end, d


def _candidate_ranges(window: str, chars: set[str], m: int, limit: int) -> list[tuple[int, int]]:
    """The stretches of ``window`` that can hold a near-miss, merged and in order. A substring
    within distance ``limit`` of the pattern shares at least ``m - limit`` characters with it
    (in order) and is at most ``m + limit`` long, so it lies inside a ``m + limit`` stretch
    holding at least ``m - limit`` of the pattern's characters: only those are searched (the
    search gives the same answer, a substring outside them cannot be close enough)."""
    size, need = m + limit, m - limit
    counts = [0, *itertools.accumulate(c in chars for c in window)]
    n = len(window)
    out: list[tuple[int, int]] = []
    for s in range(n):
        e = min(s + size, n)
        if counts[e] - counts[s] >= need:
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
    return out


def _sellers(
    window: str, pattern: str, limit: int, a: int, b: int, best: tuple[int, int, int] | None
) -> tuple[int, int, int] | None:
    """Sellers' approximate matching over ``window[a:b]`` (substrings starting at ``a`` or
    later), updating ``best`` as one pass over the whole window would at those ends."""
    m = len(pattern)
    # dist[i] = edit distance of pattern[:i] to the best substring ending here;
    # origin[i] = where that substring starts. Plain ints, this runs once per missing row.
    dist = list(range(m + 1))
    origin = [a] * (m + 1)
    for j in range(a + 1, b + 1):
        ch = window[j - 1]
        diag_d, diag_o = dist[0], origin[0]  # row 0: the empty prefix, starting anywhere
        left_d, left_o = 0, j
        new_d, new_o = [0], [j]
        for i in range(1, m + 1):
            up_d, up_o = dist[i], origin[i]
            d, o = diag_d + (pattern[i - 1] != ch), diag_o
            if up_d + 1 < d:
                d, o = up_d + 1, up_o  # a window character not in the label
            if left_d + 1 < d:
                d, o = left_d + 1, left_o  # a label character lost
            new_d.append(d)
            new_o.append(o)
            diag_d, diag_o, left_d, left_o = up_d, up_o, d, o
        dist, origin = new_d, new_o
        d = dist[m]
        # the closest; at equal distance from the same start, the longer (a swapped tail)
        if d <= limit and (best is None or d < best[2] or (d == best[2] and origin[m] == best[0])):
            best = (origin[m], j, d)
    return best


def best_near(text: str, patterns: tuple[str, ...], lo: int, hi: int) -> tuple[int, int, int] | None:
    """The near-miss of a row's canonical label, else of its listed variants (closest first)."""
    found = []
    for k, p in enumerate(patterns):
        pat = fold_for_match(p)
        hit = near_occurrence(text, pat, lo, hi)
        if hit is not None:
            if k == 0:
                return hit
            found.append((hit[2] / len(pat), hit))
    return min(found)[1] if found else None
