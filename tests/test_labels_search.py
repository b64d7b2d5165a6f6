"""The near-miss search finds exactly what one Sellers pass over the whole window finds (it only
skips stretches that cannot hold a match)."""

from __future__ import annotations

import random

from extractor.read.normalise import CJK, fold_for_match
from extractor.spec import APPLICATION_ROWS
from extractor.tables.labels import MIN_LENGTH, allowed_distance, near_occurrence


def _reference(text: str, pattern: str, lo: int, hi: int) -> tuple[int, int, int] | None:
    """The search as it was: Sellers over the whole window.

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
    m = len(pattern)
    # Sellers: dist[i] = edit distance of pattern[:i] to the best substring ending here;
    # origin[i] = where that substring starts. Plain ints, this runs once per missing row.
    dist = list(range(m + 1))
    origin = [0] * (m + 1)
    best: tuple[int, int, int] | None = None
    for j, ch in enumerate(window, 1):
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


_LABELS = [fold_for_match(r.patterns[0]) for rows in APPLICATION_ROWS.values() for r in rows]


def _mutated(label: str, rnd: random.Random) -> str:
    out = list(label)
    for _ in range(rnd.randint(0, 3)):
        k = rnd.randrange(len(out) + 1)
        op = rnd.choice("dis")
        if op == "d" and out:
            del out[min(k, len(out) - 1)]
        elif op == "i":
            out.insert(k, rnd.choice(label + "的x1"))
        elif out:
            out[min(k, len(out) - 1)] = rnd.choice(label)
    return "".join(out)


def test_near_occurrence_equals_one_pass_over_the_window() -> None:
    rnd = random.Random(5)
    hits = 0
    for _ in range(1500):
        pattern = rnd.choice(_LABELS)
        pieces = [_mutated(pattern, rnd), _mutated(rnd.choice(_LABELS), rnd), "0|1\t2", "　", "属于"]
        parts = [rnd.choice(pieces) for _ in range(6)]
        text = "".join(parts)
        lo = rnd.randint(0, len(text) // 3)
        hi = rnd.randint(lo, len(text))
        want = _reference(text, pattern, lo, hi)
        assert near_occurrence(text, pattern, lo, hi) == want, (text, pattern, lo, hi)
        hits += want is not None
    assert hits > 200  # the texts do hold near-misses to find
