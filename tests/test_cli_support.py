"""The CLI's consoles write the status table and plain lines themselves where rich would print
them without styles: the bytes must be rich's, and everything else must still go through rich."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from rich.console import Console

from extractor.cli_support import Summary, _LazyConsole, summary

from .helpers import CORPUS, SEEDS

TITLES = [
    "  spaced  ",
    "1 records → results.jsonl",
    "19 records → /tmp/tmpk2j3h4g5/some/deeper/folder/with/a/long/name/o.jsonl" * 2,
    "3 records → 报告/二〇二三年/结果.jsonl",
    "re-checked out.jsonl",
    "",
]
COUNTS = [
    Counter(),
    Counter(verified=1),
    Counter(verified=12, needs_review=7, error=1),
    Counter(verified=10**9, source_inconsistent=3, unsupported_template=10**12, reviewed=2),
]


def _stderr_of(print_it: object, *args: object, **options: object) -> str:
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    with redirect_stderr(buf):
        print_it(*args, **options)  # type: ignore[operator]
    buf.seek(0)
    return buf.read()


def _both(obj: object, **options: object) -> tuple[str, str]:
    """(what the CLI's console writes, what rich writes) on a stderr that is not a terminal."""
    ours = _stderr_of(_LazyConsole(stderr=True, soft_wrap=True).print, obj, **options)
    rich_obj = obj.table() if isinstance(obj, Summary) else obj
    theirs = _stderr_of(Console(stderr=True, soft_wrap=True).print, rich_obj, **options)
    return ours, theirs


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("skipped", [0, 4])
def test_the_status_table_is_richs(title: str, skipped: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for counts in COUNTS:
        ours, theirs = _both(summary(counts, skipped, title))
        assert ours == theirs
        assert ours == summary(counts, skipped, title).plain()  # written by hand, not by rich


@pytest.mark.parametrize("columns", ["20", "33", "34", "35", "44", "45"])
def test_a_narrow_console_goes_to_rich(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    for skipped in (0, 4):
        ours, theirs = _both(summary(Counter(verified=3), skipped, "3 records → o.jsonl"))
        assert ours == theirs


@pytest.mark.parametrize(
    "line",
    [
        "reports not verified, by check that failed: complete (13), split (9), H2 (1)",
        "error a/报告.txt: file is empty",
        "resume: 3 of 9 inputs already in o.jsonl",
        "an emoji code :smile: and :thumbs_up: goes through rich",
        "markup-like [red]text[/red] printed as is",
        "a\ttab",
    ],
)
def test_plain_lines_are_richs(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # longer than the console: rich does not wrap (soft wrap)
    for options in ({"markup": False}, {"markup": False, "highlight": False}, {}):
        ours, theirs = _both(line, **options)
        assert ours == theirs, options


def test_styles_go_through_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    ours, theirs = _both(summary(Counter(verified=1), 2, "1 records → o.jsonl"))
    assert ours == theirs and "\x1b[" in ours


def test_a_one_file_run_imports_no_rich(tmp_path: Path) -> None:
    for report in (SEEDS[0], CORPUS / "005.txt"):  # verified; needs_review (the failed-checks line)
        code = (
            "import sys\n"
            "from extractor.cli_fast import module_main\n"
            f"sys.argv = ['extractor', 'extract', {str(report)!r}, '-q', '--overwrite',"
            f" '-o', {str(tmp_path / 'o.jsonl')!r}]\n"
            "try:\n"
            "    module_main()\n"
            "except SystemExit as e:\n"
            "    assert e.code == 0, e.code\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "[]", done.stdout
        assert "1 records → " in done.stderr and "┏" in done.stderr
