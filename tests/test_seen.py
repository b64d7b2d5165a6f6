"""The seen-index: a packed digest table in memory, then a temporary SQLite file, that behaves
like the set/dict it replaces and keeps a run's memory flat."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import extractor.run.seen as seen_module
from extractor.cli import app
from extractor.run.seen import SPILL_AT, DigestIndex, DigestTable, FirstRecords, SeenPaths, digest

from .helpers import seed


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


def test_index_matches_a_dict_across_the_move_to_disk() -> None:
    rng = random.Random(11)
    index, ref = DigestIndex(spill_at=300), {}
    for i in range(6_000):
        key = digest(f"k{rng.randrange(4_000)}")
        value = rng.randrange(-(2**62), 2**62)
        assert index.setdefault(key, value) == ref.setdefault(key, value), i
        if i % 7 == 0:
            probe = digest(f"k{rng.randrange(8_000)}")
            assert index.get(probe) == ref.get(probe), i
    assert index.on_disk and len(index) == len(ref) > 300
    assert all(index.get(k) == v for k, v in ref.items())
    index.close()
    assert not index.on_disk and len(index) == 0 and index.get(next(iter(ref))) is None


def test_small_runs_stay_in_memory() -> None:
    first = FirstRecords((f"sha{i}", i) for i in range(SPILL_AT))
    assert not first._table.on_disk
    first.add("one more", 1)
    assert first._table.on_disk and first.get("sha0") == (0, True) and first.get("one more") == (1, False)


def test_a_full_disk_under_the_index_is_one_clear_error() -> None:
    # a file size limit of 64 KiB on a child process: the index's temporary file cannot grow
    code = (
        "import resource\n"
        "from extractor.errors import RunIndexError\n"
        "from extractor.run.seen import SeenPaths\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "seen = SeenPaths()\n"
        "try:\n"
        "    for i in range(400_000):\n"
        "        seen.add(f'/archive/{i}.txt')\n"
        "except RunIndexError as exc:\n"
        "    print(exc)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("the run's index of seen inputs (a temporary file; set TMPDIR to move it): ")
    assert "free space and run again with --resume" in res.stdout


def test_resume_and_copies_with_the_index_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seen_module, "SPILL_AT", 3)
    src = tmp_path / "in"
    src.mkdir()
    base = seed("001").read_text(encoding="utf-8")
    for i in range(8):
        (src / f"r{i}.txt").write_text(base + f"\n编号{i}\n", encoding="utf-8")
    (src / "r8.txt").write_text(base + "\n编号0\n", encoding="utf-8")  # a copy of r0
    out = tmp_path / "r.jsonl"
    first_half = [str(src / f"r{i}.txt") for i in range(5)]
    assert CliRunner().invoke(app, ["extract", *first_half, "-o", str(out), "-q"]).exit_code == 0
    res = CliRunner().invoke(app, ["extract", str(src), "-o", str(out), "-q", "--resume"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    paths = [Path(r["path"]).name for r in recs]
    assert paths == [f"r{i}.txt" for i in range(9)]  # each once: none of the done ones again
    assert all(r["status"] == "verified" for r in recs)
    dup = [f["message"] for f in recs[8]["findings"] if f["check"] == "duplicate"]
    assert len(dup) == 1 and "an earlier record" in dup[0]
    assert recs[8]["tables"] == recs[0]["tables"]
