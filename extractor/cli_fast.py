"""The console entry points, with a fast path for ``extractor extract`` that skips typer.

Typer builds the click command of every subcommand before it parses anything: about a quarter
of a one-file run's start-up. A command line of ``extract`` made only of its documented options
(each once, values in the plain forms ``--opt VALUE``, ``--opt=VALUE``, ``-o VALUE``) is parsed
here and run by :func:`extractor.cli_extract.run_extract`, the same function the typer command
calls. Anything else — another command, ``--help``, an unknown or repeated option, a value that
typer would reject or that looks like an option, ``--``, bundled short flags — goes to typer
unchanged, so its messages and exit codes stay exactly the same (tests/test_cli_fast.py compares
the two paths, and this table with the click command's parameters).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path
from typing import Any

#: option → (ExtractArgs field, kind). Kinds: flag, str, path, int1 (an int ≥ 1), float1 (≥ 1).
EXTRACT_OPTIONS: dict[str, tuple[str, str]] = {
    "-o": ("output", "path"),
    "--output": ("output", "path"),
    "--resume": ("resume", "flag"),
    "--overwrite": ("overwrite", "flag"),
    "-j": ("jobs", "int1"),
    "--jobs": ("jobs", "int1"),
    "--engine": ("engine", "str"),
    "--ray-address": ("ray_address", "str"),
    "--model": ("model", "str"),
    "--base-url": ("base_url", "str"),
    "--api-key-env": ("api_key_env", "str"),
    "--llm": ("llm", "str"),
    "--config": ("config", "path"),
    "--cache-dir": ("cache_dir", "str"),
    "--no-cache": ("no_cache", "flag"),
    "--concurrency": ("concurrency", "int1"),
    "--file-timeout": ("file_timeout", "float1"),
    "-q": ("quiet", "flag"),
    "--quiet": ("quiet", "flag"),
}

_INT = re.compile(r"[0-9]{1,9}")
_FLOAT = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


def _value(kind: str, text: str) -> Any:
    """The converted value, or None when typer should judge it (it may print an error)."""
    if text[:1] == "-" or not text:
        return None
    if kind == "str":
        return text
    if kind == "path":
        return Path(text)
    if kind == "int1":
        return int(text) if _INT.fullmatch(text) and int(text) >= 1 else None
    return float(text) if _FLOAT.fullmatch(text) and float(text) >= 1 else None


def parse_extract(argv: list[str]) -> dict[str, Any] | None:
    """The ExtractArgs fields of a plain ``extract`` command line; None: leave it to typer."""
    if not argv or argv[0] != "extract" or "_EXTRACTOR_COMPLETE" in os.environ:
        return None
    fields: dict[str, Any] = {}
    paths: list[str] = []
    rest = argv[1:]
    while rest:
        token = rest.pop(0)
        if not token.startswith("-"):
            paths.append(token)
            continue
        name, eq, attached = token.partition("=")
        spec = EXTRACT_OPTIONS.get(name)
        if spec is None or spec[0] in fields or (eq and (spec[1] == "flag" or not name.startswith("--"))):
            return None
        field, kind = spec
        if kind == "flag":
            fields[field] = True
            continue
        if not eq:
            if not rest:
                return None
            attached = rest.pop(0)
        value = _value(kind, attached)
        if value is None:
            return None
        fields[field] = value
    if not paths:
        return None
    return {"paths": paths, **fields}


def _run(argv: list[str], prog_name: str | None) -> None:
    fields = parse_extract(argv)
    if fields is None:
        from extractor.cli import app

        if prog_name is None:
            app()
        else:
            app(prog_name=prog_name)
        return
    from extractor.cli_extract import ExtractArgs, run_extract

    try:
        code = run_extract(ExtractArgs(**fields))
    except KeyboardInterrupt:  # as typer does: exit 130, no traceback
        code = 130
    except EOFError:
        print(file=sys.stderr)
        print("Aborted!", file=sys.stderr)
        code = 1
    except OSError as exc:  # as typer does: a closed pipe is exit 1, quietly
        if exc.errno != errno.EPIPE:
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.dup2(devnull, sys.stderr.fileno())
        code = 1
    sys.exit(code)


def main() -> None:
    """The ``extractor`` console script."""
    _run(sys.argv[1:], None)


def module_main() -> None:
    """``python -m extractor``."""
    _run(sys.argv[1:], "extractor")
