"""The CLI's consoles and the pieces of ``extractor extract`` around the run: usage checks, the
output file, the LLM hook and its pre-flight, the progress bar and the summary.

Only :mod:`extractor.cli` uses it; like the CLI it imports rich and the pipeline lazily, so
``extractor --help`` stays fast.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from extractor.errors import ExtractorError
from extractor.llm.options import LLMOptions

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from extractor.models import Record


class _LazyConsole:
    """A rich Console made on first use (importing rich is a third of the CLI's start-up)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


err = _LazyConsole(stderr=True, soft_wrap=True)
out = _LazyConsole(soft_wrap=True)


def escape(text: str) -> str:
    """User text made safe inside rich markup (file names, messages: ``[export]`` stays as is)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def llm_hook(options: LLMOptions) -> Any:
    """The LLM router when a model is configured; None keeps the offline rule path."""
    from extractor.llm.options import build_hook

    hook = build_hook(options)
    if hook is None and options.wanted:
        err.print("[yellow]LLM path off:[/yellow] no base URL and no API key in the environment")
    return hook


def summary(counts: Counter[str], skipped: int, title: str) -> Table:
    from rich.table import Table

    from extractor.models import STATUSES

    t = Table(title=title, title_justify="left")
    t.add_column("status")
    t.add_column("reports", justify="right")
    for s in STATUSES:
        t.add_row(s, str(counts.get(s, 0)))
    t.add_row("total", str(sum(counts.values())), style="bold")
    if skipped:
        t.add_row("skipped (not a report file)", str(skipped), style="dim")
    return t


_FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})


def check_extract_usage(paths: list[str], output: Path, resume: bool, overwrite: bool) -> None:
    """Usage errors of ``extract``, each one clear line and exit 2 (before anything is written)."""
    for p in paths:
        if p.lower() in _FLAG_VALUES and not Path(p).exists():
            raise fail(f"{p!r} is not an input: --overwrite, --resume and --quiet take no value")
    if resume and overwrite:
        raise fail("--resume and --overwrite cannot be used together")
    if output.is_dir():
        raise fail(f"{output} is a folder; -o takes the JSONL file to write")
    if output.exists() and output.stat().st_size > 0 and not (resume or overwrite):
        raise fail(f"{output} exists; use --resume to continue it or --overwrite to replace it")


def open_output(output: Path, resume: bool) -> tuple[Any, set[str], dict[str, int]]:
    from extractor.run.jsonl import RecordWriter

    try:
        writer = RecordWriter(output, append=resume)
        if not resume:
            return writer, set(), {}
        state = writer.resume()
    except ExtractorError as exc:
        raise fail(str(exc)) from exc
    if state.dropped:
        lines = ", ".join(map(str, state.dropped[:10])) + (" …" if len(state.dropped) > 10 else "")
        err.print(
            f"resume: kept {state.kept} record(s); moved {len(state.dropped)} unparsable line(s) "
            f"(line {lines}) to {state.dropped_to}",
            markup=False,
            highlight=False,
        )
    return writer, state.paths, state.shas


def preflight(hook: Any, files: int) -> None:
    """A wrong endpoint fails the run before it starts (only for runs of more than one file)."""
    client = getattr(hook, "client", None)
    if client is None or files < 2:
        return
    try:
        client.preflight()
    except ExtractorError as exc:
        raise fail(str(exc)) from exc


def write_record(writer: Any, rec: Record) -> Record:
    writer.write(rec)
    return rec


def hook_factory(options: LLMOptions) -> LLMOptions | None:
    """For the Ray engine: the options rebuild the hook inside each worker (a hook holds sockets)."""
    return options if options.wanted else None


def progress_bar(quiet: bool) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err.real,
        disable=quiet,
        transient=False,
    )


def report(writer: Any, skipped: list[Path], output: Path, reasons: Counter[str], outcome: Any,
            client: Any) -> None:  # fmt: skip
    err.print(summary(writer.statuses, len(skipped), f"{writer.count} records → {output}"))
    if reasons:
        top = ", ".join(f"{check} ({n})" for check, n in reasons.most_common(6))
        err.print(f"reports not verified, by check that failed: {top}", highlight=False, markup=False)
    if client is not None and client.broken:
        err.print(f"LLM endpoint unavailable: {client.broken}; the tables after that kept their rule "
                  "reading (finding llm.transport)", markup=False, highlight=False)  # fmt: skip
    if outcome.stopped:
        err.print(
            f"interrupted: {writer.count} records written to {output}; {outcome.undone} input(s) in "
            "progress left undone, and any not yet started; run again with --resume to finish",
            markup=False,
            highlight=False,
        )
