"""Output integrity with real processes: the output lock, --resume that keeps every parsable record,
disk full (a file-size rlimit in the child) without a torn record, exports renamed into place."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from .helpers import seed
from .test_bulk import _make_reports

PY = [sys.executable, "-m", "extractor"]


def _fsize_limit(n: int):  # type: ignore[no-untyped-def]
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))  # writes past n fail with EFBIG

    return limit


def test_a_second_extract_on_the_same_output_fails_clearly(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from extractor.run.jsonl import "
         "RecordWriter; w = RecordWriter(Path(sys.argv[1]), append=True); print('locked', flush=True); "
         "time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        res = subprocess.run([*PY, "extract", str(seed("000")), "-o", str(out), "-q", "--overwrite"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    finally:
        holder.kill()
        holder.communicate()
    assert res.returncode == 2
    assert "locked" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_resume_keeps_every_parsable_record_and_reports_the_rest(tmp_path: Path) -> None:
    _make_reports(tmp_path / "in", 20)
    out = tmp_path / "r.jsonl"
    cmd = [*PY, "extract", str(tmp_path / "in"), "-o", str(out), "-q"]
    assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
    lines = out.read_bytes().splitlines(keepends=True)
    lines[9] = b'{"path": "r00009.txt", "status": "verif\n'  # damaged line 10 of 20
    out.write_bytes(b"".join(lines) + b'{"path": "torn')
    res = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "kept 19 record(s); moved 2 unparsable line(s) (line 10, 21)" in res.stderr
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 20 and len({r["path"] for r in recs}) == 20
    assert recs[-1]["path"].endswith("r00009.txt")  # only the damaged one was extracted again
    dropped = (tmp_path / "r.jsonl.dropped").read_bytes()
    assert b'"status": "verif' in dropped and b'"path": "torn' in dropped


def test_disk_full_is_one_clear_line_and_no_torn_record(tmp_path: Path) -> None:
    _make_reports(tmp_path / "in", 30)
    out = tmp_path / "r.jsonl"
    res = subprocess.run([*PY, "extract", str(tmp_path / "in"), "-o", str(out), "-q"], capture_output=True,
                         text=True, timeout=120, preexec_fn=_fsize_limit(60_000))  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "file size limit" in res.stderr and "none torn" in res.stderr and "Traceback" not in res.stderr
    data = out.read_bytes()
    assert 0 < len(data) <= 60_000 and data.endswith(b"\n")
    recs = [json.loads(x) for x in data.splitlines()]  # every line a whole record
    assert 0 < len(recs) < 30


def test_a_failed_export_leaves_the_previous_one_whole_and_no_temp_folder(tmp_path: Path) -> None:
    _make_reports(tmp_path / "in", 40)
    res_jsonl = tmp_path / "r.jsonl"
    assert subprocess.run([*PY, "extract", str(tmp_path / "in"), "-o", str(res_jsonl), "-q"],
                          capture_output=True, timeout=120).returncode == 0  # fmt: skip
    for to, dest in (("csv", tmp_path / "csv"), ("sqlite", tmp_path / "r.sqlite")):
        cmd = [*PY, "export", str(res_jsonl), "--to", to, "-o", str(dest)]
        assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
        before = {p.name: p.read_bytes() for p in ([dest] if dest.is_file() else sorted(dest.iterdir()))}
        time.sleep(0.01)
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, preexec_fn=_fsize_limit(20_000)
        )
        assert res.returncode == 2, res.stderr
        assert "cannot write the export" in res.stderr and "Traceback" not in res.stderr
        after = {p.name: p.read_bytes() for p in ([dest] if dest.is_file() else sorted(dest.iterdir()))}
        assert after == before, to
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
