"""The console entry points, with fast paths for ``extractor extract`` and ``extractor --help``
that skip typer.

Typer builds the click command of every subcommand before it parses anything: about a quarter
of a one-file run's start-up. A command line of ``extract`` made only of its documented options
(each once, values in the plain forms ``--opt VALUE``, ``--opt=VALUE``, ``-o VALUE``) is parsed
here and run by :func:`extractor.cli_extract.run_extract`, the same function the typer command
calls. Anything else — another command, ``--help``, an unknown or repeated option, a value that
typer would reject or that looks like an option, ``--``, bundled short flags — goes to typer
unchanged, so its messages and exit codes stay exactly the same (tests/test_cli_fast.py compares
the two paths, and this table with the click command's parameters).

``extractor --help`` alone is printed from :data:`COMMANDS` with click's layout rules (the
terminal's width, the short help cut at a sentence or with "..."); tests/test_cli_fast.py checks
that it is typer's help byte for byte at every width and lists every command and option typer has.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path
from typing import Any

#: option → (ExtractArgs.of keyword, kind). Kinds: flag, str, path, int1 (an int ≥ 1), float1 (≥ 1).
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

#: The top-level help as typer has it: the app's help, its options, each command's first paragraph
#: (the command's docstring in :mod:`extractor.cli`, whitespace collapsed).
APP_HELP = "Verified tables from 政府信息公开工作年度报告 (government information-disclosure annual reports)."
TOP_OPTIONS = (("--version", "Print the version."), ("--help", "Show this message and exit."))
COMMANDS = (
    ("extract", "Extract every report under PATHS into a JSONL file, one record per report."),
    (
        "show",
        "Show one report's tables and findings (failing cells marked): extracted from a report file, "
        "or read back from a results JSONL (``--record``) — e.g. to review a needs_review run.",
    ),
    ("verify", "Re-check saved records with the current verifier; exit 1 if any status would change."),
    ("regress", "Compare every golden case field by field; print a diff; exit 1 on any change."),
    ("estimate", "Say, before spending anything, how many reports and tables would go to the model."),
    ("export", "Export results to CSV, Parquet, SQLite or DuckDB (long and wide forms)."),
    ("serve", "Serve the HTTP API and the review page (/review; OpenAPI docs at /docs)."),
    ("review", "Write the review page for a results JSONL: one self-contained HTML file, no network."),
)

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
    """The :meth:`ExtractArgs.of` arguments of a plain ``extract`` command line; None: leave it to typer."""
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


def _short_help(text: str, limit: int) -> str:
    """click's short help: the words up to ``limit`` characters, cut after a sentence or with "..."."""
    words = text.split()
    total, i = 0, 0
    for i, word in enumerate(words):
        total += len(word) + (i > 0)
        if total > limit:
            break
        if word[-1] == ".":
            return " ".join(words[: i + 1])
        if total == limit and i != len(words) - 1:
            break
    else:
        return " ".join(words)
    total += 3
    while i > 0:
        total -= len(words[i]) + (i > 0)
        if total <= limit:
            break
        i -= 1
    return " ".join(words[:i]) + "..."


def _fill(text: str, width: int, first: str = "", rest: str = "") -> str:
    """click's wrapping: textwrap's, a word longer than a line cut where the line ends."""
    import textwrap

    class _Wrapper(textwrap.TextWrapper):
        def _handle_long_word(self, chunks: list[str], line: list[str], length: int, width: int) -> None:
            room = max(width - length, 1)
            line.append(chunks[-1][:room])
            chunks[-1] = chunks[-1][room:]

    wrapper = _Wrapper(width, initial_indent=first, subsequent_indent=rest, replace_whitespace=False)
    return wrapper.fill(text.expandtabs())


def _definitions(rows: list[tuple[str, str]], width: int) -> list[str]:
    """click's definition list (options, commands), indented by 2."""
    first_col = min(max(len(name) for name, _ in rows), 30) + 2
    out = []
    for name, text in rows:
        if not text:
            out.append(f"  {name}")
            continue
        lead = f"  {name}" + (" " * (first_col - len(name)) if len(name) <= first_col - 2 else "")
        lines = _fill(text, max(width - first_col - 2, 10)).splitlines() or [""]
        if len(name) > first_col - 2:
            out.append(lead)
            lead = " " * (first_col + 2)
        out.append(lead + lines[0])
        out.extend(" " * (first_col + 2) + line for line in lines[1:])
    return out


def top_help(prog: str, width: int) -> str:
    """``extractor --help`` as typer prints it for a help ``width`` (click's: the terminal's
    columns, within 50–78)."""
    usage = f"Usage: {prog} "
    args = "[OPTIONS] COMMAND [ARGS]..."
    if width >= len(usage) + 20:
        lines = [_fill(args, width, usage, " " * len(usage))]
    else:
        lines = [usage, _fill(args, width, " " * 11, " " * 11)]
    lines += ["", _fill(APP_HELP, width, "  ", "  "), "", "Options:"]
    lines += _definitions(list(TOP_OPTIONS), width)
    limit = width - 6 - max(len(name) for name, _ in COMMANDS)
    lines += ["", "Commands:", *_definitions([(n, _short_help(t, limit)) for n, t in COMMANDS], width)]
    return "\n".join(lines)


def _help_width() -> int:
    import shutil

    return max(min(shutil.get_terminal_size().columns, 80) - 2, 50)


def _run(argv: list[str], prog_name: str | None) -> None:
    if argv == ["--help"] and "_EXTRACTOR_COMPLETE" not in os.environ:
        main_module = sys.modules.get("__main__")
        prog = prog_name or os.path.basename(sys.argv[0])
        if prog_name is not None or getattr(main_module, "__package__", None) in (None, ""):
            sys.stdout.write(top_help(prog, _help_width()) + "\n")
            sys.stdout.flush()
            sys.exit(0)
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
        code = run_extract(ExtractArgs.of(fields.pop("paths"), **fields))
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
