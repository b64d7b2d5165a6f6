"""CLI edges (issue 7): usage errors are exit 2 with one clear line; user text is never markup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from extractor.cli import app

from .helpers import seed

runner = CliRunner()


def _one_error_line(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def test_output_that_is_a_folder_or_unwritable_is_a_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["extract", str(seed("000")), "-o", str(tmp_path), "-q"])
    assert res.exit_code == 2 and "is a folder" in _one_error_line(res.output)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["extract", str(seed("000")), "-o", str(blocker / "r.jsonl"), "-q"])
    assert res.exit_code == 2 and "cannot write the output" in _one_error_line(res.output)


def test_existing_export_target_of_the_wrong_kind_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert runner.invoke(app, ["extract", str(seed("000")), "-o", str(out), "-q"]).exit_code == 0
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["export", str(out), "--to", "csv", "-o", str(target)])
    assert res.exit_code == 2 and "is a file" in _one_error_line(res.output)
    res = runner.invoke(app, ["export", str(out), "--to", "sqlite", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in _one_error_line(res.output)


def test_a_missing_input_is_an_error_record(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    missing = str(tmp_path / "gone.txt")
    res = runner.invoke(app, ["extract", str(seed("000")), missing, "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    recs = {r["path"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert recs[missing]["status"] == "error" and "no such file" in recs[missing]["error"]
    assert recs[str(seed("000"))]["status"] == "verified"


def test_square_brackets_are_printed_literally(tmp_path: Path) -> None:
    res = runner.invoke(app, ["show", str(tmp_path / "pip install 'extractor[export]'.txt")])
    assert res.exit_code == 2 and "'extractor[export]'" in res.output
    bad = tmp_path / "[red]report[bold].txt"
    bad.write_bytes(b"")
    res = runner.invoke(app, ["extract", str(bad), "-o", str(tmp_path / "r.jsonl")])
    assert "[red]report[bold].txt" in res.output


def test_regress_of_an_unknown_case_is_an_error() -> None:
    res = runner.invoke(app, ["regress", "--case", "nosuch"])
    assert res.exit_code == 2 and "no golden case named nosuch" in _one_error_line(res.output)


def test_a_value_after_a_flag_is_rejected(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["extract", str(seed("000")), "--overwrite", "true", "-o", str(tmp_path / "r.jsonl")]
    )
    assert res.exit_code == 2 and "take no value" in _one_error_line(res.output)
    assert not (tmp_path / "r.jsonl").exists()


def test_show_of_a_results_file_without_record(tmp_path: Path) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert runner.invoke(app, ["extract", str(seed("000")), "-o", str(one), "-q"]).exit_code == 0
    res = runner.invoke(app, ["show", str(one), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["path"] == str(seed("000"))
    src = tmp_path / "in"
    src.mkdir()
    for n in ("000", "001"):
        shutil.copy(seed(n), src)
    assert runner.invoke(app, ["extract", str(src), "-o", str(two), "-q"]).exit_code == 0
    res = runner.invoke(app, ["show", str(two)])
    assert res.exit_code == 2 and "2 records: pick one with --record" in _one_error_line(res.output)


def test_utf16_without_bom_is_read(tmp_path: Path) -> None:
    p = tmp_path / "u16.txt"
    p.write_bytes(seed("000").read_text(encoding="utf-8").encode("utf-16-be"))
    res = runner.invoke(app, ["show", str(p), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "verified"


def test_a_file_name_that_is_no_utf8_is_a_record_not_a_crash(tmp_path: Path) -> None:
    """A name from another system (bytes that are no UTF-8) stopped the whole run with a
    UnicodeEncodeError when its record was written; it is now shown with ``\\xff`` escapes, and
    ``--resume`` knows it."""
    import os
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(seed("000"), src / "good.txt")
    bad = os.path.join(os.fsencode(src), b"bad\xff.txt")
    with open(bad, "wb") as fh:
        fh.write(seed("001").read_bytes())
    out = tmp_path / "r.jsonl"
    missing = os.path.join(os.fsencode(tmp_path), b"gone\xfe.txt")
    cmd = [os.fsencode(sys.executable), b"-m", b"extractor", b"extract", os.fsencode(src), missing,
           b"-o", os.fsencode(out), b"-q"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    recs = {r["path"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert recs[f"{src}/bad\\xff.txt"]["status"] == "verified"
    assert recs[f"{src}/good.txt"]["status"] == "verified"
    assert "no such file" in recs[f"{tmp_path}/gone\\xfe.txt"]["error"]
    again = subprocess.run([*cmd, b"--resume"], capture_output=True, check=False)
    assert again.returncode == 0 and b"2 of 2 inputs already in" in again.stderr, again.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
