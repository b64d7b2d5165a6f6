"""The PDF deflate-bomb check counts with ISA-L but decides as zlib alone would.

The reference here is the check as it was before ISA-L (every stream inflated by zlib, a stream
zlib refuses skipped, a truncated one counted as far as it goes); on streams that end, are cut,
are corrupt, carry a bad checksum or are no deflate data at all, and on totals just under, at
and just over the limit, :func:`check_pdf_streams` refuses exactly when the reference total is
over the limit.
"""

from __future__ import annotations

import random
import re
import zlib

import pytest

from extractor.errors import InputTooLargeError
from extractor.read.formats import check_pdf_streams

_STREAM = re.compile(rb"stream\r?\n")


def zlib_total(data: bytes) -> int:
    """Bytes all the streams inflate to, by zlib alone (no limit: the test data is small)."""
    total = 0
    for m in _STREAM.finditer(data):
        d = zlib.decompressobj()
        pos, size = m.end(), 0
        try:
            while not d.eof and pos < len(data):
                out = d.decompress(data[pos : pos + 4096])
                pos += 4096
                size += len(out)
        except zlib.error:
            continue
        total += size
    return total


def pdf(*streams: bytes) -> bytes:
    body = b"".join(
        b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (i, len(s))
        + s
        + b"\nendstream\nendobj\n"
        for i, s in enumerate(streams, 1)
    )
    return b"%PDF-1.4\n" + body + b"trailer\n<< >>\n%%EOF\n"


def _payload(rng: random.Random, n: int) -> bytes:
    return bytes(rng.choice(b"0123456789 BTETTjTf\n") for _ in range(n))


def _streams(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    good = [zlib.compress(_payload(rng, rng.randint(1, 300_000)), rng.randint(1, 9)) for _ in range(3)]
    bad_sum = bytearray(zlib.compress(_payload(rng, 5000)))
    bad_sum[-1] ^= 0xFF  # adler-32 wrong
    corrupt = bytearray(zlib.compress(_payload(rng, 20_000)))
    corrupt[len(corrupt) // 2] ^= 0x5A
    cut = zlib.compress(_payload(rng, 80_000))[:-200]  # never ends: counted as far as it goes
    raw = zlib.compress(_payload(rng, 10_000), wbits=-15)  # raw deflate: no zlib header
    streams = [*good, bytes(bad_sum), bytes(corrupt), raw, b"not deflate at all", b""]
    rng.shuffle(streams)
    return [*streams, cut]  # the cut one last, so it runs to the end of the file


@pytest.mark.parametrize("seed", range(6))
def test_decision_is_zlibs_at_the_limit(seed: int) -> None:
    data = pdf(*_streams(seed))
    total = zlib_total(data)
    assert total > 80_000
    check_pdf_streams(data, "x.pdf", limit=total)  # at the limit: accepted
    with pytest.raises(InputTooLargeError, match=r"x\.pdf"):
        check_pdf_streams(data, "x.pdf", limit=total - 1)
    with pytest.raises(InputTooLargeError):
        check_pdf_streams(data, "x.pdf", limit=total // 2)


def test_a_bomb_is_refused_and_a_small_file_is_not() -> None:
    bomb = zlib.compress(b"\0" * (20 * 1024 * 1024), 9)
    data = pdf(bomb, bomb)
    with pytest.raises(InputTooLargeError, match="deflate bomb"):
        check_pdf_streams(data, "b.pdf", limit=30 * 1024 * 1024)
    check_pdf_streams(data, "b.pdf", limit=40 * 1024 * 1024)
    check_pdf_streams(pdf(zlib.compress(b"BT /F1 12 Tf ET")), "s.pdf", limit=15)
