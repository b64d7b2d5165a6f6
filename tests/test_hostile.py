"""Hostile inputs, each generated here (no checked-in blobs): one record each, in bounded memory
(peak RSS of the child process that runs the extract) and bounded time; the run goes on."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.read.load import load_bytes
from extractor.run.runner import FileTimeout, Item, deadline, process

from .helpers import measured, seed

MAX_RSS_MB = 300
MAX_WALL_S = 90


def deflate_bomb_pdf(streams: int = 4, each: int = 100 * 1024 * 1024) -> bytes:
    bomb = zlib.compress(b"\0" * each, 9)
    objs = b"".join(
        b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (i, len(bomb))
        + bomb
        + b"\nendstream\nendobj\n"
        for i in range(1, streams + 1)
    )
    return b"%PDF-1.4\n" + objs + b"trailer\n<< >>\n%%EOF\n"


def span_bomb_html() -> str:
    """About 120 KB of cells with rowspan/colspan 200 each: 10^8 grid cells if expanded."""
    row = "<tr>" + '<td rowspan="200" colspan="200">1</td>' * 50 + "</tr>"
    return "<html><body><p>政府信息公开工作年度报告</p><table>" + row * 60 + "</table></body></html>"


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def hostile_docx(path: Path, chunks: Iterator[bytes]) -> None:
    """A minimal DOCX package whose word/document.xml is ``chunks`` (streamed: never in memory whole)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            for c in chunks:
                fh.write(c)


def _deep_document() -> Iterator[bytes]:
    yield f'<w:document xmlns:w="{_W_NS}"><w:body>'.encode()
    yield b"<w:tbl><w:tr><w:tc>" * 50_000  # nested tables, far past the XML parser's depth limit
    yield b"</w:tc></w:tr></w:tbl>" * 50_000
    yield b"</w:body></w:document>"


def _bomb_document() -> Iterator[bytes]:
    yield f'<w:document xmlns:w="{_W_NS}"><w:body><w:p><w:r><w:t>'.encode()
    for _ in range(300):  # 300 MB of spaces, about 300 KB deflated
        yield b" " * (1 << 20)
    yield b"</w:t></w:r></w:p></w:body></w:document>"


def _numbers_in_table() -> str:
    """A report whose table 三 holds 5 MB of numbers (the rule path holds over 100 bytes a character)."""
    text = seed("000").read_text(encoding="utf-8")
    at = text.index("三、收到和处理")
    filler = " ".join(str(i % 97) for i in range(1_700_000))
    return text[: at + 40] + filler + text[at + 40 :]


def make_hostile(d: Path) -> dict[str, str]:
    """Write every hostile case into ``d``; return name → expected status ("error" or "ok")."""
    d.mkdir(parents=True, exist_ok=True)
    deep = "[" * 200_000 + "]" * 200_000
    (d / "brackets.json").write_text(deep, encoding="utf-8")
    (d / "brackets.txt").write_text(deep, encoding="utf-8")
    (d / "spans.html").write_text(span_bomb_html(), encoding="utf-8")
    (d / "bomb.pdf").write_bytes(deflate_bomb_pdf())
    os.mkfifo(d / "fifo.txt")
    (d / "zero.txt").symlink_to("/dev/zero")
    (d / "utf16.txt").write_bytes(seed("000").read_text(encoding="utf-8").encode("utf-16-le"))
    (d / "good.txt").write_text(seed("000").read_text(encoding="utf-8"), encoding="utf-8")
    (d / "numbers.txt").write_text(_numbers_in_table(), encoding="utf-8")
    hostile_docx(d / "deep.docx", _deep_document())
    hostile_docx(d / "bomb.docx", _bomb_document())
    return {
        "deep.docx": "error", "bomb.docx": "error",
        "brackets.json": "error", "brackets.txt": "any", "spans.html": "error", "bomb.pdf": "error",
        "fifo.txt": "error", "zero.txt": "error", "utf16.txt": "verified", "good.txt": "verified",
        "numbers.txt": "error",
    }  # fmt: skip


def run_child(args: list[str], timeout: float = MAX_WALL_S) -> tuple[int, float, float, str]:
    """Run ``python -m extractor ARGS``; return (exit status, peak RSS in MB, wall s, stderr)."""
    m = measured([sys.executable, "-m", "extractor", *args], timeout)
    if m.code is None:
        pytest.fail(f"extract did not finish in {timeout} s")
    return m.code, m.rss_mb, m.wall_s, m.stderr


def test_the_peak_is_the_child_s_own_not_the_test_process_s() -> None:
    """The measurement itself: a child that holds 120 MB reads about 120 MB more than one that
    holds nothing, and neither carries this process's pages (pytest's, after many tests)."""
    ballast = bytearray(300 * 1024 * 1024)  # this process grows by 300 MB, the children must not
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    fill = "b = bytearray(120 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1"
    small = measured([sys.executable, "-c", "pass"], 60)
    big = measured([sys.executable, "-c", fill], 60)
    del ballast
    assert small.code == big.code == 0, (small.stderr, big.stderr)
    assert small.rss_mb < 100, small
    assert 100 < big.rss_mb - small.rss_mb < 150, (small, big)


# With workers: items refused before reading are recorded by the parent (sending them to a worker
# broke the pool once: InputError did not unpickle).
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_hostile_input_is_one_record_in_bounded_memory_and_time(tmp_path: Path, jobs: str) -> None:
    expected = make_hostile(tmp_path / "in")
    make_hostile(tmp_path / "in" / "again")  # twice, so that a pool sees several of each
    # copies are de-duplicated by content, and brackets.json and .txt are the same bytes: "any"
    expected |= {f"again/{k}": "any" for k in expected}
    out = tmp_path / "r.jsonl"
    args = ["extract", str(tmp_path / "in"), "-o", str(out), "-q", "-j", jobs]
    code, rss_mb, wall, stderr = run_child(args)
    print(f"\nhostile inputs, --jobs {jobs}: peak RSS {rss_mb:.0f} MB, wall {wall:.1f} s")
    assert code == 0, stderr
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    by_name = {str(Path(r["path"]).relative_to(tmp_path / "in")): r for r in recs}
    assert len(recs) == len(by_name) == len(expected) == 22
    assert "DOCX unpacks to" in by_name["bomb.docx"]["error"]
    assert "cannot read DOCX" in by_name["deep.docx"]["error"], by_name["deep.docx"]["error"]
    for name, want in expected.items():
        rec = by_name[name]
        if want == "error":
            assert rec["status"] == "error" and rec["error"], (name, rec["status"])
        elif want == "verified":
            assert rec["status"] == "verified", (name, rec["status"], rec["error"])
    assert "over" in by_name["spans.html"]["error"] and "cells" in by_name["spans.html"]["error"]
    assert "deflate" in by_name["bomb.pdf"]["error"]
    assert "over the 1,000,000-character limit" in by_name["numbers.txt"]["error"]
    assert "FIFO" in by_name["fifo.txt"]["error"] and "device" in by_name["zero.txt"]["error"]
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"
    assert wall < MAX_WALL_S


def test_deep_nesting_is_not_a_payload_but_never_aborts() -> None:
    deep = ("[" * 200_000 + "]" * 200_000).encode()
    for suffix in (".json", ".txt"):
        line = process(Item("deep" + suffix, data=deep, suffix=suffix, sha256="x"))
        assert json.loads(line)["path"] == "deep" + suffix
    with pytest.raises(Exception, match="no report text"):
        load_bytes(deep, "deep.json", suffix=".json")


def test_the_file_deadline_breaks_a_blocking_read(tmp_path: Path) -> None:
    fifo = tmp_path / "stuck"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    with pytest.raises(FileTimeout), deadline(0.5):
        fifo.open("rb").read()  # no writer: open() blocks forever
    assert time.monotonic() - t0 < 3
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_text_limit_names_itself_and_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.errors import ConfigError
    from extractor.pipeline import extract_bytes

    text = seed("000").read_text(encoding="utf-8")
    data = (text + "。" * (1_000_001 - len(text))).encode()
    rec = extract_bytes(data, "long.txt", suffix=".txt")
    assert rec.status == "error"
    assert rec.path == "long.txt"
    assert rec.error == "its text is 1,000,001 characters, over the 1,000,000-character limit of one report"
    monkeypatch.setenv("EXTRACTOR_MAX_TEXT_CHARS", "2000000")
    assert extract_bytes(data, "long.txt", suffix=".txt").status == "verified"
    monkeypatch.setenv("EXTRACTOR_MAX_TEXT_CHARS", "lots")
    with pytest.raises(ConfigError, match="EXTRACTOR_MAX_TEXT_CHARS='lots' is not a positive whole number"):
        extract_bytes(data, "long.txt", suffix=".txt")
