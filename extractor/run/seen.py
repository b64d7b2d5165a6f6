"""What a run has seen, in memory that does not grow with the number of inputs.

The inputs done in an earlier run (``--resume``) and the first record of every SHA-256 are kept
as 16-byte BLAKE2b digests of the string. The first few thousand live in one packed
open-addressing table in memory (24 bytes a slot, at most two thirds full); past
:data:`SPILL_AT` entries the index moves to a private temporary SQLite database on disk (deleted
when it is closed or the process ends, in SQLite's temporary folder: ``SQLITE_TMPDIR`` or
``TMPDIR``), whose page cache is capped at :data:`CACHE_KIB`, so a million-file run holds as
little memory as a thousand-file one. Two different strings share a digest with probability
about 2⁻¹²⁷ per pair — far below that of two different files sharing a SHA-256 prefix, which
de-duplication already trusts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Final

from extractor.errors import RunIndexError

if TYPE_CHECKING:
    import sqlite3

_KEY: Final = 16
_SLOT: Final = _KEY + 8
_EMPTY: Final = bytes(_KEY)
#: Entries held in memory before the index moves to disk (a table of at most 8,192 slots, 192 KiB).
SPILL_AT: Final = 4096
#: The on-disk index's page cache, in KiB.
CACHE_KIB: Final = 2048


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

    def items(self) -> Iterator[tuple[bytes, int]]:
        """Every ``(key, value)``, in slot order."""
        buf = self._buf
        for at in range(0, len(buf), _SLOT):
            key = bytes(buf[at : at + _KEY])
            if key != _EMPTY:
                yield key, int.from_bytes(buf[at + _KEY : at + _SLOT], "little", signed=True)

    def _grow(self) -> None:
        old = self._buf
        self._cap *= 2
        self._buf = bytearray(self._cap * _SLOT)
        for at in range(0, len(old), _SLOT):
            key = bytes(old[at : at + _KEY])
            if key != _EMPTY:
                new = self._slot(key)
                self._buf[new : new + _SLOT] = old[at : at + _SLOT]


class DigestIndex:
    """The same map as :class:`DigestTable`, held in memory up to ``spill_at`` entries and in a
    temporary SQLite database from then on. A database that cannot be written (its disk full)
    raises :class:`~extractor.errors.RunIndexError`."""

    def __init__(self, spill_at: int | None = None) -> None:
        self._mem: DigestTable | None = DigestTable()
        self._db: sqlite3.Connection | None = None
        self._spill_at = SPILL_AT if spill_at is None else spill_at
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def on_disk(self) -> bool:
        return self._db is not None

    def get(self, key: bytes) -> int | None:
        if self._mem is not None:
            return self._mem.get(key)
        row = self._sql("SELECT v FROM seen WHERE k = ?", key).fetchone()
        return None if row is None else int(row[0])

    def setdefault(self, key: bytes, value: int) -> int:
        """The value of ``key``, after storing ``value`` if it had none."""
        if self._mem is not None:
            got = self._mem.setdefault(key, value)
            self._n = len(self._mem)
            if self._n > self._spill_at:
                self._spill()
            return got
        got_row = self._sql("SELECT v FROM seen WHERE k = ?", key).fetchone()
        if got_row is not None:
            return int(got_row[0])
        self._sql("INSERT INTO seen VALUES (?, ?)", key, value)
        self._n += 1
        return value

    def close(self) -> None:
        """Delete the on-disk index (if there is one); the index is empty afterwards."""
        if self._db is not None:
            self._db.close()
        self._db, self._mem, self._n = None, DigestTable(), 0

    def _spill(self) -> None:
        import sqlite3

        assert self._mem is not None
        try:
            db = sqlite3.connect("", isolation_level=None, check_same_thread=False)  # "": a private temp file
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            db.execute("CREATE TABLE seen (k BLOB PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID")
            db.execute("BEGIN")
            db.executemany("INSERT INTO seen VALUES (?, ?)", self._mem.items())
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise RunIndexError(f"cannot create it: {exc}") from exc
        self._db, self._mem = db, None

    def _sql(self, query: str, *args: bytes | int) -> sqlite3.Cursor:
        import sqlite3

        assert self._db is not None
        try:
            return self._db.execute(query, args)
        except sqlite3.Error as exc:
            raise RunIndexError(f"cannot write it after {self._n} entries: {exc}") from exc


class SeenPaths:
    """A set of paths (or any strings) held as digests."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._table = DigestIndex()
        for p in paths:
            self.add(p)

    def add(self, path: str) -> None:
        self._table.setdefault(digest(path), 0)

    def close(self) -> None:
        """Delete the on-disk part now (it would go when this is freed, or at exit)."""
        self._table.close()

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._table.get(digest(path)) is not None

    def __len__(self) -> int:
        return len(self._table)


class FirstRecords:
    """SHA-256 → the sink's key of the first record of that content, and whether that record
    was written by an earlier run (resumed) rather than this one."""

    def __init__(self, earlier: Iterable[tuple[str, int]] = ()) -> None:
        self._table = DigestIndex()
        for sha, key in earlier:
            self.add(sha, key, resumed=True)

    def add(self, sha: str, key: int, *, resumed: bool = False) -> None:
        """Remember ``key`` for ``sha`` unless a record of it is already known."""
        self._table.setdefault(digest(sha), key * 2 + resumed)

    def get(self, sha: str) -> tuple[int, bool] | None:
        """``(key, resumed)`` of the first record of ``sha``, or None."""
        v = self._table.get(digest(sha))
        return None if v is None else (v >> 1, bool(v & 1))

    def close(self) -> None:
        """Delete the on-disk part now (it would go when this is freed, or at exit)."""
        self._table.close()

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, str) and self._table.get(digest(sha)) is not None

    def __len__(self) -> int:
        return len(self._table)
