"""iter_zip: normal members, hostile names, symlinks, bombs, lying headers, nesting, corruption."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from extractor.errors import InputError, InputTooLargeError, UnsupportedFormatError
from extractor.read.archive import iter_zip

Members = list[tuple[str, bytes | InputError]]


def make_zip(
    path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]], *, dirs: tuple[str, ...] = ()
) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for d in dirs:
            zf.writestr(d if d.endswith("/") else d + "/", b"")
        for name, data in members:
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def run(path: Path, **kw: int) -> Members:
    return list(iter_zip(path, **kw))


def as_dict(items: Members) -> dict[str, bytes | InputError]:
    return dict(items)


def test_normal_members_and_directories(tmp_path: Path) -> None:
    p = make_zip(
        tmp_path / "reports.zip",
        [
            ("2021/a.html", b"<p>\xe6\x8a\xa5\xe5\x91\x8a</p>"),
            ("b.txt", b"text"),
            ("2021/sub/c.docx", b"PK.."),
        ],
        dirs=("2021", "2021/sub", "empty"),
    )
    items = run(p)
    assert [n for n, _ in items] == [f"{p}!2021/a.html", f"{p}!b.txt", f"{p}!2021/sub/c.docx"]
    got = as_dict(items)
    assert got[f"{p}!b.txt"] == b"text"
    assert got[f"{p}!2021/a.html"] == "<p>报告</p>".encode()


def test_legacy_gbk_member_names_are_decoded(tmp_path: Path) -> None:
    raw = zip_bytes([("XXXX.txt", b"x")])
    p = tmp_path / "gbk.zip"
    p.write_bytes(raw.replace(b"XXXX", "报告".encode("gbk")))  # no UTF-8 flag: as Windows tools write
    assert [n for n, _ in run(p)] == [f"{p}!报告.txt"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "traversal"),
        ("a/../../evil.txt", "traversal"),
        ("a\\..\\evil.txt", "traversal"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/evil.txt", "absolute"),
    ],
)
def test_hostile_names_are_refused(tmp_path: Path, name: str, why: str) -> None:
    p = make_zip(tmp_path / "t.zip", [(name, b"payload"), ("ok.txt", b"fine")])
    items = run(p)
    assert len(items) == 2
    bad = items[0][1]
    assert isinstance(bad, InputError) and why in bad.problem
    assert items[1] == (f"{p}!ok.txt", b"fine")


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("link.txt")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3
    p = make_zip(tmp_path / "s.zip", [(info, b"/etc/passwd"), ("ok.txt", b"fine")])
    got = as_dict(run(p))
    err = got[f"{p}!link.txt"]
    assert isinstance(err, InputError) and "symbolic link" in err.problem
    assert got[f"{p}!ok.txt"] == b"fine"


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    out = bytearray(zip_bytes([("secret.txt", b"looks encrypted")]))
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set bit 0 of the flags
        i = out.find(sig)
        struct.pack_into("<H", out, i + offset, struct.unpack_from("<H", out, i + offset)[0] | 0x1)
    p = tmp_path / "e.zip"
    p.write_bytes(bytes(out))
    [(name, err)] = run(p)
    assert name == f"{p}!secret.txt"
    assert isinstance(err, UnsupportedFormatError) and "encrypted" in err.problem


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    p = make_zip(tmp_path / "bomb.zip", [("bomb.txt", b"\0" * (8 * 1024 * 1024)), ("ok.txt", b"fine")])
    info = zipfile.ZipFile(p).getinfo("bomb.txt")
    assert info.file_size / info.compress_size > 200
    got = as_dict(run(p))
    err = got[f"{p}!bomb.txt"]
    assert isinstance(err, InputTooLargeError) and "200x" in err.problem
    assert got[f"{p}!ok.txt"] == b"fine"


def test_small_compressible_member_is_not_a_bomb(tmp_path: Path) -> None:
    """The ratio is judged only past 1 MiB of output: a 100 KiB blank page is fine."""
    p = make_zip(tmp_path / "blank.zip", [("blank.html", b" " * 100_000)])
    [(_, data)] = run(p)
    assert data == b" " * 100_000


def test_member_size_limit_reads_in_chunks(tmp_path: Path) -> None:
    import os

    p = make_zip(tmp_path / "big.zip", [("big.bin", os.urandom(300_000)), ("ok.txt", b"fine")])
    got = as_dict(run(p, max_member_bytes=100_000))
    err = got[f"{p}!big.bin"]
    assert isinstance(err, InputTooLargeError) and "100000" in err.problem
    assert got[f"{p}!ok.txt"] == b"fine"


def _patch_sizes(raw: bytes, declared: int) -> bytes:
    """Rewrite the uncompressed size in every local and central header (a lying header)."""
    out = bytearray(raw)
    i = out.find(b"PK\x03\x04")
    while i >= 0:
        struct.pack_into("<I", out, i + 22, declared)
        i = out.find(b"PK\x03\x04", i + 4)
    i = out.find(b"PK\x01\x02")
    while i >= 0:
        struct.pack_into("<I", out, i + 24, declared)
        i = out.find(b"PK\x01\x02", i + 4)
    return bytes(out)


def test_lying_header_size_is_not_trusted(tmp_path: Path) -> None:
    p = tmp_path / "liar.zip"
    p.write_bytes(_patch_sizes(zip_bytes([("a.txt", b"A" * 5_000_000)]), 10))
    [(name, err)] = run(p)
    assert name == f"{p}!a.txt"
    assert isinstance(err, InputError) and "corrupt" in err.problem  # CRC of the cut data fails
    p.write_bytes(_patch_sizes(zip_bytes([("a.txt", b"A" * 300_000)]), 1))
    [(_, err)] = run(p)
    assert isinstance(err, InputError)


def test_total_size_limit_stops_the_archive(tmp_path: Path) -> None:
    import os

    members = [(f"m{i}.bin", os.urandom(60_000)) for i in range(5)]
    p = make_zip(tmp_path / "total.zip", list(members))
    items = run(p, max_total_bytes=150_000)
    assert [type(v) for _, v in items] == [bytes, bytes, InputTooLargeError]
    err = items[-1][1]
    assert isinstance(err, InputError) and "total" in err.problem


def test_member_count_limit(tmp_path: Path) -> None:
    p = make_zip(tmp_path / "many.zip", [(f"f{i}.txt", b"x") for i in range(12)])
    items = run(p, max_members=10)
    assert len(items) == 11
    name, err = items[-1]
    assert name == str(p) and isinstance(err, InputTooLargeError) and "10 members" in err.problem


@pytest.mark.parametrize(
    "content",
    [b"this is not a zip", b"PK\x03\x04" + b"\0" * 100, b""],
    ids=["text", "truncated-header", "empty"],
)
def test_corrupt_zip_is_one_error(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "bad.zip"
    p.write_bytes(content)
    [(name, err)] = run(p)
    assert name == str(p)
    assert isinstance(err, InputError) and "not a readable zip" in err.problem


def test_truncated_zip_is_one_error(tmp_path: Path) -> None:
    raw = zip_bytes([("a.txt", b"hello" * 1000)])
    p = tmp_path / "cut.zip"
    p.write_bytes(raw[: len(raw) // 2])
    [(name, err)] = run(p)
    assert name == str(p) and isinstance(err, InputError)


def test_corrupt_member_data(tmp_path: Path) -> None:
    raw = bytearray(zip_bytes([("a.txt", b"hello world " * 2000), ("b.txt", b"fine")]))
    start = raw.find(b"PK\x03\x04") + 30 + len("a.txt")
    raw[start + 10 : start + 60] = b"\xff" * 50  # garble the deflate stream
    p = tmp_path / "garbled.zip"
    p.write_bytes(bytes(raw))
    got = as_dict(run(p))
    assert isinstance(got[f"{p}!a.txt"], InputError)
    assert got[f"{p}!b.txt"] == b"fine"


def test_nested_zip_depth_one_is_opened_deeper_refused(tmp_path: Path) -> None:
    deepest = zip_bytes([("c.txt", b"too deep")])
    inner = zip_bytes([("a.txt", b"inner text"), ("deeper.zip", deepest), ("../x.txt", b"evil")])
    p = make_zip(
        tmp_path / "outer.zip", [("inner.zip", inner), ("top.txt", b"top"), ("junk.zip", b"garbage")]
    )
    got = as_dict(run(p))
    assert got[f"{p}!inner.zip!a.txt"] == b"inner text"
    deep = got[f"{p}!inner.zip!deeper.zip"]
    assert isinstance(deep, UnsupportedFormatError) and "nested" in deep.problem
    evil = got[f"{p}!inner.zip!../x.txt"]
    assert isinstance(evil, InputError) and "traversal" in evil.problem
    junk = got[f"{p}!junk.zip"]
    assert isinstance(junk, InputError) and "not a readable zip" in junk.problem
    assert got[f"{p}!top.txt"] == b"top"
    assert f"{p}!inner.zip!deeper.zip!c.txt" not in got


def test_nested_bomb_counts_against_the_outer_limits(tmp_path: Path) -> None:
    inner = zip_bytes([(f"f{i}.txt", b"y" * 1000) for i in range(8)])
    p = make_zip(tmp_path / "outer.zip", [("inner.zip", inner), ("after.txt", b"z")])
    items = run(p, max_members=5)
    assert isinstance(items[-1][1], InputTooLargeError)
    assert all(not n.endswith("after.txt") for n, _ in items)


def test_docx_and_pdf_members_extract_like_their_seed(tmp_path: Path) -> None:
    """End to end: a zip of DOCX/PDF renderings → members → extract_bytes → the seed's tables."""
    from extractor.pipeline import extract_bytes, extract_path

    from .helpers import seed
    from .test_formats import to_docx, to_pdf

    text = seed("001").read_text(encoding="utf-8")
    p = make_zip(tmp_path / "bundle.zip", [("年报/001.docx", to_docx(text)), ("年报/001.pdf", to_pdf(text))])
    ref = extract_path(seed("001"))
    items = run(p)
    assert [n for n, _ in items] == [f"{p}!年报/001.docx", f"{p}!年报/001.pdf"]
    for name, data in items:
        assert isinstance(data, bytes)
        rec = extract_bytes(data, name, suffix=Path(name).suffix)
        assert rec.path == name and rec.status == "verified" and rec.tables == ref.tables
