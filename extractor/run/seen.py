"""What a run has seen, in memory that grows by tens of bytes per input, not by a path's worth.

The inputs done in an earlier run (``--resume``) and the first record of every SHA-256 are kept
as 16-byte BLAKE2b digests of the string in one packed open-addressing table (24 bytes a slot,
at most two thirds full) instead of Python sets and dicts of ``str`` (about 0.2–0.3 KB an entry).
Two different strings share a digest with probability about 2⁻¹²⁷ per pair — far below that of
two different files sharing a SHA-256 prefix, which de-duplication already trusts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final

_KEY: Final = 16
_SLOT: Final = _KEY + 8
_EMPTY: Final = bytes(_KEY)


def digest(text: str) -> bytes:
    """The table key of ``text``: never all zeros (that marks an empty slot)."""
    d = bytearray(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=_KEY).digest())
    d[0] |= 1
    return bytes(d)


class DigestTable:
    """A map from digest to a signed 64-bit integer in one ``bytearray`` (linear probing)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._cap = max(16, 1 << (capacity - 1).bit_length())
        self._buf = bytearray(self._cap * _SLOT)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        return len(self._buf)

    def _slot(self, key: bytes) -> int:
        """Byte offset of the slot holding ``key``, or of the empty slot where it would go."""
        mask = self._cap - 1
        i = int.from_bytes(key[8:16], "little") & mask
        buf = self._buf
        while True:
            at = i * _SLOT
            here = buf[at : at + _KEY]
            if here == key or here == _EMPTY:
                return at
            i = (i + 1) & mask

    def get(self, key: bytes) -> int | None:
        at = self._slot(key)
        if self._buf[at : at + _KEY] == _EMPTY:
            return None
        return int.from_bytes(self._buf[at + _KEY : at + _SLOT], "little", signed=True)

    def setdefault(self, key: bytes, value: int) -> int:
        """The value of ``key``, after storing ``value`` if it had none."""
        at = self._slot(key)
        buf = self._buf
        if buf[at : at + _KEY] != _EMPTY:
            return int.from_bytes(buf[at + _KEY : at + _SLOT], "little", signed=True)
        buf[at : at + _SLOT] = key + value.to_bytes(8, "little", signed=True)
        self._n += 1
        if self._n * 3 > self._cap * 2:
            self._grow()
        return value

    def _grow(self) -> None:
        old = self._buf
        self._cap *= 2
        self._buf = bytearray(self._cap * _SLOT)
        for at in range(0, len(old), _SLOT):
            key = bytes(old[at : at + _KEY])
            if key != _EMPTY:
                new = self._slot(key)
                self._buf[new : new + _SLOT] = old[at : at + _SLOT]


class SeenPaths:
    """A set of paths (or any strings) held as digests."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._table = DigestTable()
        for p in paths:
            self.add(p)

    def add(self, path: str) -> None:
        self._table.setdefault(digest(path), 0)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._table.get(digest(path)) is not None

    def __len__(self) -> int:
        return len(self._table)


class FirstRecords:
    """SHA-256 → the sink's key of the first record of that content, and whether that record
    was written by an earlier run (resumed) rather than this one."""

    def __init__(self, earlier: Iterable[tuple[str, int]] = ()) -> None:
        self._table = DigestTable()
        for sha, key in earlier:
            self.add(sha, key, resumed=True)

    def add(self, sha: str, key: int, *, resumed: bool = False) -> None:
        """Remember ``key`` for ``sha`` unless a record of it is already known."""
        self._table.setdefault(digest(sha), key * 2 + resumed)

    def get(self, sha: str) -> tuple[int, bool] | None:
        """``(key, resumed)`` of the first record of ``sha``, or None."""
        v = self._table.get(digest(sha))
        return None if v is None else (v >> 1, bool(v & 1))

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, str) and self._table.get(digest(sha)) is not None

    def __len__(self) -> int:
        return len(self._table)
