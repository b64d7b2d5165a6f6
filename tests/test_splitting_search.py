"""The memoised digit splitter enumerates exactly what the plain recursive search did, in order."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence

import pytest

from extractor.spec import APPLICATION_ROWS, OUTCOME_ROWS
from extractor.tables.applications import _h3, _resolve_applications
from extractor.tables.cells import Fit
from extractor.tables.rules import MAX_COMBINATIONS
from extractor.tables.splitting import Token, _valid, parse_token, split_tokens
from extractor.tables.values import as_int


def _reference_cuts(digits: str, k: int) -> Iterator[tuple[str, ...]]:
    """(main @ 197d83e) All ways to cut ``digits`` into ``k`` non-empty parts with no leading zeros."""
    if k == 1:
        if _valid(digits):
            yield (digits,)
        return
    # first part: a lone "0", or a run starting with 1-9
    limit = len(digits) - (k - 1)
    for i in range(1, limit + 1):
        head = digits[:i]
        if not _valid(head):
            break
        for rest in _reference_cuts(digits[i:], k - 1):
            yield (head, *rest)


def _reference_split(
    tokens: Sequence[Token],
    n: int,
    accept: Callable[[tuple[str, ...]], bool] | None = None,
    limit: int = 200_000,
) -> tuple[list[tuple[str, ...]], int, bool]:
    """The search as it was before memoisation (main @ 197d83e), the reference."""
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

    def compositions(i: int, remaining: int) -> Iterator[tuple[int, ...]]:
        if i == len(tokens) - 1:
            if 1 <= remaining <= maxes[i]:
                yield (remaining,)
            return
        rest_max = sum(maxes[i + 1 :])
        for k in range(1, min(maxes[i], remaining - (len(tokens) - 1 - i)) + 1):
            if remaining - k > rest_max:
                continue
            for tail in compositions(i + 1, remaining - k):
                yield (k, *tail)

    def expand(i: int, ks: tuple[int, ...]) -> Iterator[tuple[str, ...]]:
        if i == len(tokens):
            yield ()
            return
        t = tokens[i]
        for parts in _reference_cuts(t.digits, ks[i]):
            cells = list(parts)
            cells[0] = t.sign + cells[0]
            cells[-1] = cells[-1] + t.frac + t.unit
            for tail in expand(i + 1, ks):
                yield (*cells, *tail)

    for ks in compositions(0, n):
        for cand in expand(0, ks):
            total += 1
            if total > limit:
                return accepted, total, False
            if accept is None or accept(cand):
                accepted.append(cand)
    return accepted, total, True


def _rows(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(300):
        cells = [str(rng.choice([0, 0, 1, 3, 7, 12, 40, 105, 218, 3119])) for _ in range(7)]
        glue = [rng.random() < 0.6 for _ in range(6)]
        row = cells[0] + "".join(("" if g else " ") + c for g, c in zip(glue, cells[1:], strict=True))
        yield ("-" if rng.random() < 0.05 else "") + row + rng.choice(["", "", ".5", "件"])


@pytest.mark.parametrize("seed", range(4))
def test_same_candidates_in_the_same_order(seed: int) -> None:
    for row in _rows(seed):
        tokens = [parse_token(t) for t in row.split()]
        if len(tokens) > 7:
            continue
        assert split_tokens(tokens, 7) == _reference_split(tokens, 7), row
        assert split_tokens(tokens, 7, _h3) == _reference_split(tokens, 7, _h3), row


def test_limit_stops_at_the_same_candidate() -> None:
    tokens = [parse_token("1234567891011121314")]
    got = split_tokens(tokens, 7, limit=1000)
    assert got == _reference_split(tokens, 7, limit=1000)
    assert got[1:] == (1001, False) and len(got[0]) == 1000


# ------------------------------------------- table 三: picking one cut per row across rows
def _reference_resolve(
    fits: dict[str, Fit], variant: str
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """``_resolve_applications`` as it was on main @ 197d83e, the reference."""
    chosen = {k: f.candidates[0] for k, f in fits.items() if len(f.candidates) == 1}
    ambiguous = {k: f.candidates for k, f in fits.items() if len(f.candidates) > 1}
    resolution: dict[str, str] = {}
    if not ambiguous:
        return chosen, resolution
    keys = list(ambiguous)
    size = 1
    for k in keys:
        size *= len(ambiguous[k])
    if size > MAX_COMBINATIONS:
        return chosen, resolution
    outcome = OUTCOME_ROWS[variant]
    valid = []
    for combo in itertools.product(*(ambiguous[k] for k in keys)):
        trial = {**chosen, **dict(zip(keys, combo, strict=True))}
        if _reference_columns_hold(trial, outcome):
            valid.append(combo)
    for i, k in enumerate(keys):
        options = {combo[i] for combo in valid}
        if len(options) == 1:
            chosen[k] = options.pop()
            resolution[k] = "the row identity and the column identities H1/H2"
    return chosen, resolution


def _reference_columns_hold(rows: dict[str, tuple[str, ...]], outcome: tuple[str, ...]) -> bool:
    for c in range(7):

        def v(key: str, c: int = c) -> int | None:
            r = rows.get(key)
            return None if r is None else as_int(r[c])

        a, b, t, f = v("new_received"), v("carried_over"), v("total_processed"), v("carried_forward")
        if None not in (a, b, t, f) and a + b != t + f:  # type: ignore[operator]
            return False
        parts = [v(k) for k in outcome]
        if t is not None and None not in parts and sum(parts) != t:  # type: ignore[arg-type]
            return False
    return True


def _row(rng: random.Random) -> tuple[str, ...]:
    cells = [rng.choice(["0", "1", "2", "3", "10", "", "/"]) for _ in range(6)]
    return (*cells, str(sum(as_int(c) or 0 for c in cells)))


@pytest.mark.parametrize("variant", ["2019", "2021"])
def test_cross_row_resolution_is_unchanged(variant: str) -> None:
    rng = random.Random(variant)
    keys = [r.key for r in APPLICATION_ROWS[variant]]
    for _ in range(150):
        fits = {}
        for key in rng.sample(keys, rng.randint(2, len(keys))):
            cands = [_row(rng) for _ in range(rng.choice([1, 1, 1, 1, 2, 3]))]
            fits[key] = Fit(cands, "split" if len(cands) > 1 else "positional")
        assert _resolve_applications(fits, variant) == _reference_resolve(fits, variant)
