"""The inputs of a run, walked lazily so that memory does not grow with their number.

:func:`expand_inputs` walks the arguments once, to count the files (for the progress bar) and
to collect the arguments that match nothing and the files that are no reports; iterating
:attr:`Inputs.files` walks them again and yields each file as it is found. No list or set of
every path is held. A file that an earlier argument already yields (a file inside a folder given
before it, a folder given twice, a glob matching it) is skipped by *containment*: the earlier
arguments are few, so each file is checked against their roots, not against a set of paths.

Order and choice are those of a single sorted walk: arguments in the order given; in a folder,
sub-folders and files sorted by name, hidden ones (``.name``) left out, symlinked folders not
followed; a glob's matches sorted (a glob argument's matches are one sorted list while that
argument is walked: give a folder rather than a quoted glob for a million files).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from extractor.read.load import HTML_SUFFIXES, SCRIPT_SUFFIXES, TEXT_SUFFIXES, UNSUPPORTED, shown_path

#: Suffixes picked up when walking a folder. Other files in a folder are counted as skipped.
REPORT_SUFFIXES: Final = (
    (TEXT_SUFFIXES - {"", ".csv", ".tsv"})
    | HTML_SUFFIXES
    | (SCRIPT_SUFFIXES - {".jsonl"})
    | set(UNSUPPORTED)
    | {".pdf", ".docx", ".zip"}
)

_MAGIC: Final = re.compile(r"[*?[]")


def _glob_covers(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """True when ``glob.glob(pattern, recursive=True)`` yields the path of ``parts`` (path
    components, lexically): wildcards stay within one component and skip hidden names unless
    the pattern's component starts with a dot; ``**`` stands for any non-hidden folders."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if _glob_covers(rest, parts):
            return True
        return bool(parts) and not parts[0].startswith(".") and _glob_covers(pattern, parts[1:])
    if not parts:
        return False
    name = parts[0]
    if _MAGIC.search(head):
        if name.startswith(".") and not head.startswith("."):
            return False
        if not fnmatch.fnmatchcase(name, head):
            return False
    elif name != head:
        return False
    return _glob_covers(rest, parts[1:])


class _Earlier:
    """What the arguments before the current one yield, kept as their roots (not their files)."""

    def __init__(self) -> None:
        self.files: set[str] = set()  # file arguments (absolute): as many as the command line
        self.folders: set[str] = set()  # folder arguments (absolute)
        self.globs: list[tuple[tuple[str, ...], bool]] = []  # pattern components, relative?
        self.cwd = Path.cwd()

    def __bool__(self) -> bool:
        return bool(self.files or self.folders or self.globs)

    def covers(self, key: Path) -> bool:
        """True when an earlier argument already yields the file ``key`` (absolute)."""
        if str(key) in self.files:
            return True
        roots = [root for root in key.parents if str(root) in self.folders] if self.folders else []
        if any(self._walk_yields(root, key) for root in roots):
            return True
        return any(self._glob_yields(pattern, relative, key) for pattern, relative in self.globs)

    @staticmethod
    def _walk_yields(root: Path, key: Path) -> bool:
        """True when walking the folder ``root`` yields ``key``: no hidden name on the way, a
        report suffix, and no symlinked folder in between (those are not followed)."""
        rel = key.relative_to(root).parts
        if any(part.startswith(".") for part in rel) or key.suffix.lower() not in REPORT_SUFFIXES:
            return False
        return not any(os.path.islink(root.joinpath(*rel[:i])) for i in range(1, len(rel)))

    def _glob_yields(self, pattern: tuple[str, ...], relative: bool, key: Path) -> bool:
        if not relative:
            return _glob_covers(pattern, key.parts)
        try:
            return _glob_covers(pattern, key.relative_to(self.cwd).parts)
        except ValueError:
            return False

    def add(self, arg: str, kind: str) -> None:
        if kind == "folder":
            self.folders.add(str(Path(arg).absolute()))
        elif kind == "file":
            self.files.add(str(Path(arg).absolute()))
        else:
            p = Path(arg)
            self.globs.append((p.parts, not p.is_absolute()))


def _walk_folder(p: Path) -> Iterator[tuple[bool, Path]]:
    """``(is a report, path)`` of every non-hidden file under the folder, sorted per level."""
    for root, dirs, files in os.walk(p, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        at = Path(root)
        for name in sorted(files):
            if not name.startswith("."):
                f = at / name
                yield f.suffix.lower() in REPORT_SUFFIXES, f


def _glob_files(arg: str) -> list[Path] | None:
    """The files a glob matches, sorted and unique; None when it matches nothing at all."""
    matches = sorted(set(glob.glob(arg, recursive=True)))
    return [Path(m) for m in matches if Path(m).is_file()] if matches else None


def walk(args: Iterable[str]) -> Iterator[tuple[str, Path | str]]:
    """Events of one walk over the arguments: ``("file", path)``, ``("skipped", path)`` (a file
    in a folder that is no report) and ``("missing", arg)`` (nothing there, no glob match)."""
    earlier = _Earlier()
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            kind = "folder"
            for is_report, f in _walk_folder(p):
                if not is_report:
                    yield "skipped", f
                elif not (earlier and earlier.covers(f.absolute())):
                    yield "file", f
        elif p.exists() or p.is_symlink():
            kind = "file"
            if not (earlier and earlier.covers(p.absolute())):
                yield "file", p
        elif _MAGIC.search(arg) and (found := _glob_files(arg)) is not None:
            kind = "glob"
            for f in found:
                if not (earlier and earlier.covers(f.absolute())):
                    yield "file", f
        else:
            yield "missing", arg
            continue
        earlier.add(arg, kind)


@dataclass
class InputFiles:
    """The files of a run: iterating walks the arguments again; ``len`` is the first walk's count."""

    args: tuple[str, ...]
    count: int = 0
    zips: int = 0

    def __iter__(self) -> Iterator[Path]:
        for kind, f in walk(self.args):
            if kind == "file":
                yield Path(f)

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def has_zip(self) -> bool:
        """True when some input is a zip archive (its members are counted only when read)."""
        return self.zips > 0

    def count_in(self, paths: Container[str]) -> int:
        """How many of the files are in ``paths`` (e.g. done in an earlier run): one more walk."""
        return sum(1 for f in self if shown_path(str(f)) in paths)


@dataclass
class Inputs:
    files: InputFiles
    #: How many files in the folders are not reports (a count: an archive may hold millions).
    skipped: int = 0
    missing: list[str] = field(default_factory=list)


def expand_inputs(args: Iterable[str]) -> Inputs:
    """Files as given, folders recursively (report suffixes only), globs expanded; sorted, unique.

    One walk counts the files and the skipped files and collects the missing arguments; the
    files themselves are walked again, lazily, when :attr:`Inputs.files` is iterated.
    """
    files = InputFiles(tuple(args))
    inputs = Inputs(files)
    for kind, f in walk(files.args):
        if kind == "file":
            files.count += 1
            files.zips += Path(f).suffix.lower() == ".zip"
        elif kind == "skipped":
            inputs.skipped += 1
        else:
            inputs.missing.append(str(f))
    return inputs
