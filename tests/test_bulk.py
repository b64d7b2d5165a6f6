"""Bulk runs: hostile inputs never stop a run; kill -9 then --resume loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from extractor.cli import app

from .helpers import seed

runner = CliRunner()
#: Upper bound of one record's size for the generated reports (polling by file size, not by reading).
RECORD_BYTES = 12_000


def _records(p: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]


def _make_reports(folder: Path, n: int) -> list[Path]:
    base = seed("001").read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"r{i:05d}.txt"
        p.write_text(base + f"\n附注：编号{i}\n", encoding="utf-8")
        paths.append(p)
    return paths


def test_hostile_inputs_each_get_one_error_record(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.txt").write_text(seed("000").read_text(encoding="utf-8"), encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.txt").write_bytes(os.urandom(4096) + b"\x00")
    (d / "truncated.html").write_text("<html><body><table><tr><td>规章<td", encoding="utf-8")
    (d / "deep.html").write_text("<div>" * 200_000 + "年度报告" + "</div>" * 10, encoding="utf-8")
    (d / "latin1.txt").write_bytes("caf\xe9 r\xe9sum\xe9 ".encode("latin-1") * 50)
    (d / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with (d / "big.txt").open("wb") as fh:  # over the size limit, sparse on disk
        fh.truncate(100 * 1024 * 1024)
    (d / "loop.txt").symlink_to(d / "loop.txt")
    out = tmp_path / "r.jsonl"
    res = runner.invoke(app, ["extract", str(d), str(d / "loop.txt"), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    recs = {Path(str(r["path"])).name: r for r in _records(out)}
    assert set(recs) == {
        "good.txt", "empty.txt", "binary.txt", "truncated.html", "deep.html",
        "latin1.txt", "old.doc", "big.txt", "loop.txt",
    }  # fmt: skip
    assert recs["good.txt"]["status"] == "verified"
    for name in ("empty.txt", "binary.txt", "latin1.txt", "old.doc", "big.txt", "loop.txt"):
        assert recs[name]["status"] == "error", name
        assert recs[name]["error"], name
    assert "100-byte" not in str(recs["big.txt"]["error"]) and "limit" in str(recs["big.txt"]["error"])
    assert recs["truncated.html"]["status"] in ("needs_review", "error")
    assert recs["deep.html"]["status"] in ("needs_review", "error")


def test_identical_files_extracted_once(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    text = seed("002").read_text(encoding="utf-8")
    for name in ("a.txt", "b.txt", "c.txt"):
        (d / name).write_text(text, encoding="utf-8")
    out = tmp_path / "r.jsonl"
    assert runner.invoke(app, ["extract", str(d), "-o", str(out), "-q"]).exit_code == 0
    recs = _records(out)
    assert [Path(str(r["path"])).name for r in recs] == ["a.txt", "b.txt", "c.txt"]
    assert len({r["sha256"] for r in recs}) == 1
    assert recs[0]["tables"] == recs[1]["tables"] == recs[2]["tables"]
    dups = [f for r in recs[1:] for f in r["findings"] if f["check"] == "duplicate"]  # type: ignore[union-attr]
    assert len(dups) == 2 and "a.txt" in dups[0]["message"]


def test_zip_members_in_place(tmp_path: Path) -> None:
    z = tmp_path / "archive.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2021/report.txt", seed("000").read_text(encoding="utf-8"))
        zf.writestr("../evil.txt", "x")
    out = tmp_path / "r.jsonl"
    res = runner.invoke(app, ["extract", str(z), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    recs = {str(r["path"]): r for r in _records(out)}
    good = next(r for p, r in recs.items() if p.endswith("!2021/report.txt"))
    assert good["status"] == "verified"
    evil = next(r for p, r in recs.items() if "evil" in p)
    assert evil["status"] == "error"


def test_jobs_give_the_same_records(tmp_path: Path) -> None:
    paths = _make_reports(tmp_path / "in", 40)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert runner.invoke(app, ["extract", str(tmp_path / "in"), "-o", str(one), "-q"]).exit_code == 0
    assert (
        runner.invoke(app, ["extract", str(tmp_path / "in"), "-o", str(two), "-q", "-j", "2"]).exit_code == 0
    )
    a = {r["path"]: r for r in _records(one)}
    b = {r["path"]: r for r in _records(two)}
    assert a == b and len(a) == len(paths)


def _start_run(tmp_path: Path, n_files: int, at_least: int) -> tuple[subprocess.Popen[str], Path, list[str]]:
    """Start ``extractor extract`` on n generated reports; return once ``at_least`` records are on disk.

    The child gets the default SIGINT disposition: a shell without job control starts background
    jobs with SIGINT ignored, and Python keeps an inherited SIG_IGN (a terminal would not).
    Polls the file size, never reads the file, so polling costs the run nothing.
    """
    _make_reports(tmp_path / "in", n_files)
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "extractor", "extract", str(tmp_path / "in"), "-o", str(out), "-q"]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.stat().st_size > at_least * RECORD_BYTES:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "run finished before it could be stopped; make the test bigger"
    return proc, out, cmd


def test_kill_9_midway_then_resume(tmp_path: Path) -> None:
    proc, out, cmd = _start_run(tmp_path, 2000, at_least=300)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    paths = sorted((tmp_path / "in").iterdir())
    partial = out.read_bytes().count(b"\n")
    assert 300 <= partial < 2000
    res = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    recs = _records(out)
    got = [str(r["path"]) for r in recs]
    assert len(got) == len(set(got)) == 2000
    assert set(got) == {str(p) for p in paths}


def test_sigterm_stops_cleanly_too(tmp_path: Path) -> None:
    proc, out, _ = _start_run(tmp_path, 3000, at_least=200)
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "interrupted" in stderr and "--resume" in stderr
    assert 200 <= len(_records(out)) < 3000


def test_ctrl_c_stops_cleanly_with_a_summary(tmp_path: Path) -> None:
    proc, out, _ = _start_run(tmp_path, 3000, at_least=200)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "--resume" in stderr and "verified" in stderr
    recs = _records(out)  # every line is a complete record
    assert 200 <= len(recs) < 3000
