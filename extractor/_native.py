"""The rule path's hot modules, compiled to C with mypyc when the package is built (setup.py).

The compiled modules stand beside their sources (``atoms.py`` and
``atoms.cpython-311-x86_64-linux-gnu.so``); Python prefers the compiled one. The build writes
:data:`MANIFEST` beside them: the SHA-256 of every source it compiled. A compiled module is used
only while every source still has the hash it was built from, so an edited source (a developer's
editable install) is never shadowed by its stale build: then, or when ``EXTRACTOR_PURE=1`` is
set, or when nothing was compiled (no C compiler at install time), every module below loads
from its source. The two give the same records (``tests/test_native.py``).

A compiled class cannot be subclassed by interpreted code (mypyc): tests wrap, not subclass.

This module uses the standard library only: ``setup.py`` loads it by path at build time.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Final

#: Compiled together (one mypyc group): the HTML scanner and the plain-text grids, the table
#: readers, their cells and digit cuts, the page furniture, the locator, the text folding and the
#: pure verifier — the rule path's CPU.
COMPILED: Final = (
    "extractor.read.normalise",
    "extractor.read.html_grid",
    "extractor.read.plain",
    "extractor.read.aligned",
    "extractor.read.grid",
    "extractor.tables.atoms",
    "extractor.tables.cells",
    "extractor.tables.columns",
    "extractor.tables.furniture",
    "extractor.tables.grid",
    "extractor.tables.hidden",
    "extractor.tables.labels",
    "extractor.tables.locate",
    "extractor.tables.rules",
    "extractor.tables.applications",
    "extractor.tables.splitting",
    "extractor.tables.torn",
    "extractor.tables.values",
    "extractor.check.evidence",
    "extractor.check.verify",
)
#: The compiled group's library (mypyc's ``group_name`` in setup.py), a top-level module.
GROUP: Final = "extractor__mypyc"
#: The build's record of what it compiled, beside ``extractor/__init__.py``.
MANIFEST: Final = "_native.json"
_PACKAGE: Final = Path(__file__).resolve().parent


def source_path(module: str, root: Path = _PACKAGE.parent) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def digests(root: Path = _PACKAGE.parent, modules: Sequence[str] = COMPILED) -> dict[str, str]:
    """Module → SHA-256 of its source under ``root`` (the folder holding ``extractor/``)."""
    return {m: hashlib.sha256(source_path(m, root).read_bytes()).hexdigest() for m in modules}


def status() -> str:
    """``compiled`` (the compiled modules are in use), ``pure`` (EXTRACTOR_PURE=1, or nothing
    was compiled) or ``stale`` (a source changed since the build: its sources are used)."""
    if os.environ.get("EXTRACTOR_PURE") == "1":
        return "pure"
    try:
        built = json.loads((_PACKAGE / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "pure"
    if not isinstance(built, dict) or built.get("modules") != digests():
        return "stale"
    group = importlib.util.find_spec(GROUP)  # the compiled code itself: one library beside the package
    if group is None or group.origin is None or Path(group.origin).parent != _PACKAGE.parent:
        return "stale"  # none, or another build's (a copy of the package elsewhere on sys.path)
    return "compiled"


class _SourceFirst:
    """A meta-path finder that loads the compiled modules from their ``.py`` sources."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in COMPILED:
            return None
        src = source_path(name)
        loader = importlib.machinery.SourceFileLoader(name, str(src))
        return importlib.util.spec_from_file_location(name, src, loader=loader)


def install() -> str:
    """Decide once, before any of :data:`COMPILED` is imported: leave the compiled modules to
    the import system, or put :class:`_SourceFirst` in front of it. Returns :func:`status`."""
    state = status()
    if state != "compiled" and not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())
    return state
