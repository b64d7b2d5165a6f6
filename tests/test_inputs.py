"""Input expansion walks lazily and de-duplicates by containment, yet yields exactly what one
walk keeping a set of every absolute path did (the oracle below is that former implementation)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from extractor.run.inputs import REPORT_SUFFIXES, _glob_covers, expand_inputs


def _oracle(args: list[str]) -> tuple[list[Path], list[Path], list[str]]:
    out: list[Path] = []
    skipped: list[Path] = []
    missing: list[str] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        if p.absolute() not in seen:
            seen.add(p.absolute())
            out.append(p)

    for arg in args:
        p = Path(arg)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    f = Path(root) / name
                    if name.startswith("."):
                        continue
                    (add(f) if f.suffix.lower() in REPORT_SUFFIXES else skipped.append(f))
        elif p.exists() or p.is_symlink():
            add(p)
        elif any(ch in arg for ch in "*?["):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                missing.append(arg)
            for m in matches:
                if Path(m).is_file():
                    add(Path(m))
        else:
            missing.append(arg)
    return out, skipped, missing


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a/{x.txt, y.pdf, note.png, .hid.txt, .secret/s.txt, b/{z.html, c/w.txt}, link -> b, ln.txt -> x.txt}"""
    monkeypatch.chdir(tmp_path)
    for rel in ["a/x.txt", "a/y.pdf", "a/note.png", "a/.hid.txt", "a/.secret/s.txt", "a/b/z.html",
                "a/b/c/w.txt", "a/b/c/v.md", "d/x.txt", "d/[br]/q.txt"]:  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    (tmp_path / "a" / "link").symlink_to(tmp_path / "a" / "b", target_is_directory=True)
    (tmp_path / "a" / "ln.txt").symlink_to(tmp_path / "a" / "x.txt")
    return tmp_path


CASES = [
    ["a"],
    ["a", "a"],
    ["a/b/z.html", "a"],
    ["a", "a/b/z.html", "a/b", "a/b/c/w.txt"],
    ["a/b", "a"],
    ["a", "a/.secret", "a/.secret/s.txt", "a/.hid.txt", "a/note.png"],
    ["a", "a/link", "a/link/z.html"],
    ["a/link", "a/b"],
    ["a/**/*.txt", "a", "a/b/c/w.txt"],
    ["a", "a/**/*.txt", "**/*.md"],
    ["a/*", "a/b/*", "a"],
    ["d/[[]br]/*.txt", "d", "d/[br]/q.txt"],
    ["gone.txt", "a", "nothing*.txt", "a/x.txt", "gone.txt"],
    ["./a", "a/x.txt", "a//b", "a/../a/x.txt"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_same_files_order_skips_and_missing_as_one_walk_with_a_set(tree: Path, args: list[str]) -> None:
    files, skipped, missing = _oracle(args)
    inputs = expand_inputs(args)
    assert list(inputs.files) == files
    assert len(inputs.files) == len(files)
    assert inputs.skipped == len(skipped)
    assert inputs.missing == missing


def test_absolute_arguments_and_globs(tree: Path) -> None:
    args = [str(tree / "a" / "b"), str(tree / "a" / "**" / "*.html"), "a/b/z.html", str(tree / "a")]
    files, _, _ = _oracle(args)
    assert list(expand_inputs(args).files) == files


def test_files_are_walked_again_each_time_and_counted(tree: Path) -> None:
    inputs = expand_inputs(["a"])
    first = list(inputs.files)
    (tree / "a" / "b" / "new.txt").write_text("x", encoding="utf-8")
    assert Path("a/b/new.txt") in list(inputs.files)  # the second walk sees it
    assert len(inputs.files) == len(first)  # the count is the first walk's
    assert inputs.files.count_in({str(first[0]), "elsewhere"}) == 1
    assert not inputs.files.has_zip


def test_glob_covers_follows_glob_rules() -> None:
    assert _glob_covers(("a", "**", "*.txt"), ("a", "x.txt"))
    assert _glob_covers(("a", "**", "*.txt"), ("a", "b", "c", "x.txt"))
    assert not _glob_covers(("a", "**", "*.txt"), ("a", ".b", "x.txt"))
    assert not _glob_covers(("a", "*"), ("a", ".x"))
    assert _glob_covers(("a", ".*"), ("a", ".x"))
    assert not _glob_covers(("a", "*"), ("a", "b", "x"))
    assert _glob_covers(("a", "[xy].txt"), ("a", "y.txt"))
    assert not _glob_covers(("a", "X.txt"), ("a", "x.txt"))
