"""Build: the metadata is in pyproject.toml; this adds the rule path's hot modules compiled with
mypyc (see extractor/_native.py). Where they cannot be compiled (no C compiler, mypyc missing)
the package is built pure Python and works the same, more slowly; ``EXTRACTOR_PURE=1`` at build
time skips the compilation on purpose.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_native", ROOT / "extractor" / "_native.py")
assert _spec is not None and _spec.loader is not None
native = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(native)


def _extensions() -> list[Any]:
    if os.environ.get("EXTRACTOR_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        print(f"extractor: mypyc not available ({exc}); building pure Python", file=sys.stderr)
        return []
    paths = [str(native.source_path(m, Path("."))) for m in native.COMPILED]
    # Not the project's strict mypy settings (CI checks those): the build environment has none of
    # the runtime dependencies, whose types (pydantic, …) compiling does not need.
    config = Path(tempfile.mkdtemp()) / "mypyc.ini"
    config.write_text("[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n", encoding="utf-8")
    try:
        group = native.GROUP.removesuffix("__mypyc")
        extensions = mypycify(["--config-file", str(config), *paths], opt_level="3", group_name=group)
    except (Exception, SystemExit) as exc:  # a type error or a missing tool: pure Python
        print(f"extractor: mypyc failed ({exc!r}); building pure Python", file=sys.stderr)
        return []
    for ext in extensions:
        ext.optional = True  # a compiler error leaves the package pure Python, not broken
    return list(extensions)


class BuildExt(build_ext):
    """Build the extensions, then write the manifest of what was compiled beside them (only
    when every one of them built: a partial group would mix compiled and source modules)."""

    def run(self) -> None:
        self._failed: list[str] = []
        super().run()
        if not self.extensions:
            return
        target = self._manifest()
        if self._failed:
            target.unlink(missing_ok=True)
            print(f"extractor: {', '.join(self._failed)} did not compile; pure Python", file=sys.stderr)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"modules": native.digests(ROOT)}, indent=1), encoding="utf-8")

    def build_extension(self, ext: Any) -> None:
        before = Path(self.get_ext_fullpath(ext.name))
        super().build_extension(ext)
        if not before.exists():  # an optional extension that failed: build_ext only warned
            self._failed.append(ext.name)

    def get_outputs(self) -> list[str]:
        manifest = self._manifest()
        return [*super().get_outputs(), *([str(manifest)] if manifest.exists() else [])]

    def _manifest(self) -> Path:
        """Where the manifest goes: beside the package's built modules (in place or in build/)."""
        return Path(self.get_ext_fullpath("extractor._native_manifest")).parent / native.MANIFEST


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
