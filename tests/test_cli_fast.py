"""The start-up fast path of ``extractor extract`` (extractor.cli_fast): it parses exactly what
the typer command accepts, hands everything else to typer, and — run as a real process — prints
the same bytes, writes the same file and exits with the same code as the typer app."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import typer.main

from extractor import cli
from extractor.cli_extract import LLM_FLAGS, ExtractArgs
from extractor.cli_fast import APP_HELP, COMMANDS, EXTRACT_OPTIONS, TOP_OPTIONS, parse_extract, top_help
from extractor.llm.options import LLMOptions
from tests.helpers import SAMPLES

_KIND = {bool: "flag", int: "int1", float: "float1", Path: "path", str: "str"}


def _base(annotation: object) -> object:
    """``Annotated[Optional[X], …]`` → X."""
    inner = typing.get_args(annotation)[0]
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        inner = next(a for a in typing.get_args(inner) if a is not type(None))
    return inner


def test_the_option_table_is_the_typer_commands() -> None:
    command = typer.main.get_command(cli.app).commands["extract"]  # type: ignore[attr-defined]
    hints = typing.get_type_hints(cli.extract, include_extras=True)
    seen: dict[str, tuple[str, str]] = {}
    # the command line's defaults as ExtractArgs.of takes them: its own fields, the LLM flags'
    # (LLMOptions fields) and --no-cache
    defaults = {f.name: f.default for f in dataclasses.fields(ExtractArgs) if f.name != "llm"}
    llm_defaults = {f.name: f.default for f in dataclasses.fields(LLMOptions)}
    defaults |= {k: llm_defaults[k] for k in LLM_FLAGS}
    defaults["no_cache"] = inspect.signature(ExtractArgs.of).parameters["no_cache"].default
    for param in command.params:
        if param.name == "paths":
            assert param.required and param.nargs == -1
            continue
        kind = _KIND[_base(hints[param.name])]  # type: ignore[index]
        if kind in ("int1", "float1"):
            assert param.min == 1 and param.max is None  # type: ignore[attr-defined]
        assert not param.secondary_opts and not param.multiple and param.envvar is None
        for opt in param.opts:
            seen[opt] = (param.name, kind)
        assert defaults[param.name] == param.default, param.name
    assert seen == EXTRACT_OPTIONS
    assert set(defaults) == {p.name for p in command.params}


@pytest.mark.parametrize(
    ("argv", "fields"),
    [
        (["extract", "a.txt"], {"paths": ["a.txt"]}),
        (["extract", "a", "-o", "o.jsonl", "b", "-q", "--overwrite"],
         {"paths": ["a", "b"], "output": Path("o.jsonl"), "quiet": True, "overwrite": True}),
        (["extract", "--jobs=2", "a", "-j", "3"], None),  # repeated: typer decides
        (["extract", "--jobs=2", "--file-timeout", "1.5", "a"],
         {"paths": ["a"], "jobs": 2, "file_timeout": 1.5}),
        (["extract", "--model", "m", "--llm=off", "a"], {"paths": ["a"], "model": "m", "llm": "off"}),
    ],
)  # fmt: skip
def test_plain_command_lines_are_parsed(argv: list[str], fields: dict[str, object] | None) -> None:
    assert parse_extract(argv) == fields


@pytest.mark.parametrize(
    "argv",
    [
        [], ["--help"], ["--version"], ["show", "a"], ["extract"], ["extract", "--help"],
        ["extract", "a", "-h"],
        ["extract", "a", "--jobs", "0"], ["extract", "a", "--jobs", "x"], ["extract", "a", "-j"],
        ["extract", "a", "--file-timeout", "0.5"], ["extract", "a", "--file-timeout", "1e3"],
        ["extract", "a", "-o", "-x"], ["extract", "a", "--output="], ["extract", "a", "--quiet=1"],
        ["extract", "a", "-qj2"], ["extract", "a", "-j2"], ["extract", "a", "-o=x"], ["extract", "--", "a"],
        ["extract", "-", "a"], ["extract", "a", "--bogus"], ["extract", "a", "-q", "--quiet"],
    ],
)  # fmt: skip
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert parse_extract(argv) is None


_TYPER = "import sys; from extractor.cli import app; sys.argv[0] = 'extractor'; app(prog_name='extractor')"
_FAST = (
    "import atexit, sys; mark = sys.argv.pop(1);"
    "atexit.register(lambda: open(mark, 'w').write(str('typer' in sys.modules)));"
    "sys.argv[0] = 'extractor'; from extractor.cli_fast import module_main; module_main()"
)


def _run(code: list[str], args: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "COLUMNS", "FORCE_COLOR"))}
    p = subprocess.run([*code, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def _cases(tmp: Path) -> list[list[str]]:
    a, b = str(SAMPLES / "000_173952a8b441b105.txt"), str(SAMPLES / "001_8cda5f95bd011878.txt")
    (tmp / "empty").mkdir()
    return [
        ["extract", a, "-q", "-o", "one.jsonl"],
        ["extract", a, b, "missing.txt", "--output=two.jsonl"],  # with the progress bar, an error line
        ["extract", a, "-o", "one.jsonl"],  # exists: exit 2
        ["extract", b, "-o", "one.jsonl", "--resume", "-q"],
        ["extract", a, "-o", "one.jsonl", "--overwrite", "--resume"],
        ["extract", a, "-o", "empty"],
        ["extract", str(tmp / "empty"), "-o", "none.jsonl", "-q"],
        ["extract", a, "true", "-o", "t.jsonl"],
        ["extract", a, "--engine", "spark", "-o", "e.jsonl"],
        ["extract", a, "--llm", "maybe", "-o", "l.jsonl"],
        ["extract", a, "--jobs", "0", "-o", "j.jsonl"],  # typer's own error (both go through typer)
        ["extract", a, "--model", "m", "-o", "m.jsonl", "-q"],  # no endpoint, no key: the LLM path is off
    ]


def test_fast_path_and_typer_print_write_and_exit_the_same(tmp_path: Path) -> None:
    runs: dict[str, list[tuple[object, ...]]] = {}
    for name, code in (("typer", _TYPER), ("fast", _FAST)):
        cwd = tmp_path / name
        cwd.mkdir()
        runs[name] = []
        for i, args in enumerate(_cases(cwd)):
            mark = cwd / f"mark{i}"
            extra = [str(mark)] if name == "fast" else []
            rc, out, err = _run([sys.executable, "-c", code, *extra], args, cwd)
            files = {p.name: p.read_bytes() for p in sorted(cwd.glob("*.jsonl"))}
            used_typer = mark.read_text() if name == "fast" else None
            runs[name].append((args, rc, out.replace(str(cwd), "<tmp>"), err.replace(str(cwd), "<tmp>"),
                               {k: v.replace(str(cwd).encode(), b"<tmp>") for k, v in files.items()},
                               used_typer))  # fmt: skip
    for typer_run, fast_run in zip(runs["typer"], runs["fast"], strict=True):
        assert typer_run[1:5] == fast_run[1:5], typer_run[0]
    fast_taken = [r[0] for r in runs["fast"] if r[5] == "False"]
    assert len(fast_taken) == 11 and runs["fast"][10][5] == "True"  # only --jobs 0 needed typer
    assert [r[1] for r in runs["fast"]] == [0, 0, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0]


def test_the_console_script_takes_the_fast_path(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "extractor"
    assert script.exists(), "the package is installed (pip install -e .) with its console script"
    a = str(SAMPLES / "000_173952a8b441b105.txt")
    p = subprocess.run([str(script), "extract", a, "-q", "-o", str(tmp_path / "o.jsonl")],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "1 records → " in p.stderr
    assert (tmp_path / "o.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert "from extractor.cli_fast import main" in script.read_text(encoding="utf-8")


def _typer_help(prog: str, width: int) -> str:
    group = typer.main.get_command(cli.app)
    return group.get_help(group.context_class(group, info_name=prog, terminal_width=width))


def test_the_help_table_is_every_command_and_option_typer_has() -> None:
    group = typer.main.get_command(cli.app)
    assert group.help == APP_HELP
    top = [(opt, p.help) for p in group.get_params(group.context_class(group)) for opt in p.opts]
    assert top == list(TOP_OPTIONS)
    commands = group.commands  # type: ignore[attr-defined]
    assert [name for name, _ in COMMANDS] == list(commands) and not any(c.hidden for c in commands.values())
    for name, first_paragraph in COMMANDS:
        assert " ".join(commands[name].help.split("\n\n")[0].split()) == first_paragraph, name


@pytest.mark.parametrize("width", [*range(50, 79), 10, 120])
def test_the_fast_help_is_typers_at_every_width(width: int) -> None:
    assert top_help("extractor", width) == _typer_help("extractor", width)
    long_name = "a-program-name-long-enough-to-push-the-usage-down"  # click's other usage layout
    assert top_help(long_name, width) == _typer_help(long_name, width)


def test_help_from_the_fast_path_and_from_typer_are_the_same_bytes(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "extractor"
    for columns in ("30", "64", "200"):
        env = {**os.environ, "COLUMNS": columns}
        typer_run = subprocess.run([sys.executable, "-c", _TYPER, "--help"], capture_output=True, env=env)
        mark = tmp_path / f"mark{columns}"
        fast = subprocess.run(
            [sys.executable, "-c", _FAST, str(mark), "--help"], capture_output=True, env=env
        )
        assert (fast.returncode, fast.stdout, fast.stderr) == (0, typer_run.stdout, b"")
        assert typer_run.returncode == 0 and mark.read_text() == "False"  # typer was not imported
        console = subprocess.run([str(script), "--help"], capture_output=True, env=env)
        assert (console.returncode, console.stdout) == (0, typer_run.stdout)
