"""The compact seen-index: a packed digest table that behaves like the set/dict it replaces."""

from __future__ import annotations

import random

from extractor.run.seen import DigestTable, FirstRecords, SeenPaths, digest


def test_table_matches_a_dict_through_growth() -> None:
    rng = random.Random(7)
    table, ref = DigestTable(16), {}
    for i in range(20_000):
        key = digest(f"k{rng.randrange(15_000)}")
        value = rng.randrange(-(2**62), 2**62)
        assert table.setdefault(key, value) == ref.setdefault(key, value), i
    assert len(table) == len(ref)
    assert all(table.get(k) == v for k, v in ref.items())
    assert table.get(digest("absent")) is None
    assert table.nbytes <= 24 * 2 * 3 * len(ref)  # at most two thirds full after growth: ~72 B an entry


def test_seen_paths_and_first_records() -> None:
    seen = SeenPaths(["a/b.txt", "c.pdf"])
    assert "a/b.txt" in seen and "c.pdf" in seen and "a/b.tx" not in seen and 3 not in seen
    assert len(seen) == 2 and not SeenPaths()
    first = FirstRecords([("sha1", 120)])
    first.add("sha1", 999)  # the first record of a content stays the first
    first.add("sha2", 0)
    first.add("sha3", -1)  # the service's store may give -1
    assert first.get("sha1") == (120, True)
    assert first.get("sha2") == (0, False)
    assert first.get("sha3") == (-1, False)
    assert first.get("sha4") is None and "sha2" in first and len(first) == 3


def test_digest_is_never_the_empty_slot() -> None:
    assert all(digest(str(i))[0] & 1 for i in range(1000))
