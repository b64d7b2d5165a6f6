"""CLI commands through typer's runner: exact exit codes and messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from extractor.cli import app

from .helpers import SAMPLES, seed

runner = CliRunner()


def _lines(p: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]


def test_extract_folder_with_bad_file(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for p in [seed("000"), seed("004")]:
        shutil.copy(p, src / p.name)
    (src / "empty.txt").write_bytes(b"")
    (src / "notes.png").write_bytes(b"\x89PNG")
    out = tmp_path / "r.jsonl"
    res = runner.invoke(app, ["extract", str(src), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    recs = _lines(out)
    assert len(recs) == 3
    by_name = {Path(str(r["path"])).name: r for r in recs}
    assert by_name["empty.txt"]["status"] == "error"
    assert by_name[seed("000").name]["status"] == "verified"
    assert by_name[seed("004").name]["status"] == "needs_review"
    assert "skipped (not a report file)" in res.output


def test_extract_refuses_to_clobber_then_resumes(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert runner.invoke(app, ["extract", str(seed("000")), "-o", str(out), "-q"]).exit_code == 0
    res = runner.invoke(app, ["extract", str(seed("000")), "-o", str(out), "-q"])
    assert res.exit_code == 2
    assert "exists; use --resume" in res.output
    # a torn last line (as after kill -9) is dropped on resume, finished records are kept
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"path": "torn')
    res = runner.invoke(
        app, ["extract", str(seed("000")), str(seed("001")), "-o", str(out), "--resume", "-q"]
    )
    assert res.exit_code == 0, res.output
    assert "1 of 2 inputs already" in res.output
    assert [Path(str(r["path"])).name for r in _lines(out)] == [seed("000").name, seed("001").name]


def test_extract_no_inputs_is_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["extract", str(tmp_path / "nothing*.txt"), "-o", str(tmp_path / "r.jsonl")])
    assert res.exit_code == 2
    assert "no input files found" in res.output


def test_verify_detects_tampering(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    runner.invoke(app, ["extract", str(seed("001")), "-o", str(out), "-q"])
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 0 and "re-check to their saved status" in res.output
    rec = _lines(out)[0]
    rec["tables"]["applications"]["new_received"]["total"] = 9  # type: ignore[index]
    out.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 1
    assert "saved verified, re-checked" in res.output


def test_verify_malformed_results(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"path": "a"}\nnot json\n', encoding="utf-8")
    res = runner.invoke(app, ["verify", str(bad)])
    assert res.exit_code == 2
    assert "line" in res.output


def test_show_marks_unread_cells() -> None:
    res = runner.invoke(app, ["show", str(seed("004"))])
    assert res.exit_code == 0
    assert "needs_review" in res.output and "?" in res.output
    res = runner.invoke(app, ["show", str(seed("000")), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["status"] == "verified"


def test_show_missing_file() -> None:
    res = runner.invoke(app, ["show", str(SAMPLES / "nope.txt")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_show_a_saved_record(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    runner.invoke(app, ["extract", str(seed("000")), str(seed("004")), "-o", str(out), "-q"])
    res = runner.invoke(app, ["show", str(out), "--record", "004_", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "needs_review"
    res = runner.invoke(app, ["show", str(out), "--record", ".txt"])
    assert res.exit_code == 2 and "2 records match" in res.output
