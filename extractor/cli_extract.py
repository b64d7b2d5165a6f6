"""``extractor extract`` without typer: the options as one typed value, then its named steps —
usage checks, options → LLM config, input expansion, the run, the summary.

:mod:`extractor.cli` (typer) and :mod:`extractor.cli_fast` (the start-up fast path) both build an
:class:`ExtractArgs` and call :func:`run_extract`; nothing here imports typer, click or (unless
something is printed through them) rich, so a one-file rule-path run loads only what it uses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from extractor.cli_support import err, fail, hook_factory, llm_hook, summary
from extractor.errors import ExtractorError
from extractor.llm.options import LLMOptions
from extractor.read.load import shown_path

if TYPE_CHECKING:
    from extractor.run.bulk import Outcome
    from extractor.run.inputs import InputFiles, Inputs
    from extractor.run.jsonl import RecordWriter, ResumeState
    from extractor.run.runner import Done


@dataclass(frozen=True)
class ExtractArgs:
    """The command line of ``extract``; the defaults are the CLI's (a test holds them equal). Its
    LLM flags are one :class:`LLMOptions` (``--no-cache`` is ``use_cache=False``)."""

    paths: list[str]
    output: Path = Path("results.jsonl")
    resume: bool = False
    overwrite: bool = False
    jobs: int = 1
    engine: str = "local"
    ray_address: str | None = None
    concurrency: int = 4
    file_timeout: float = 120.0
    quiet: bool = False
    llm: LLMOptions = field(default_factory=LLMOptions)

    @classmethod
    def of(cls, paths: list[str], /, *, no_cache: bool = False, **options: Any) -> ExtractArgs:
        """From the options as the command line names them (the LLM flags among them, see
        :data:`LLM_FLAGS`; the environment's ``EXTRACTOR_LLM_*`` read now)."""
        flags = {k: options.pop(k) for k in LLM_FLAGS if k in options}
        llm = LLMOptions.from_cli(**flags, use_cache=False if no_cache else None)
        return cls(paths, **options, llm=llm)


#: The ``extract`` options that are LLM flags (:class:`LLMOptions` fields; and ``--no-cache``).
LLM_FLAGS: Final = ("model", "base_url", "api_key_env", "llm", "config", "cache_dir")


_FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})


def check_usage(args: ExtractArgs) -> None:
    """Usage errors of ``extract``, each one clear line and exit 2 (before anything is written)."""
    if args.engine not in ("local", "ray"):
        raise fail(f"--engine must be local or ray, not {args.engine!r}")
    if args.llm.llm not in (None, "auto", "always", "off"):
        raise fail(f"--llm must be auto, always or off, not {args.llm.llm!r}")
    for p in args.paths:
        if p.lower() in _FLAG_VALUES and not Path(p).exists():
            raise fail(f"{p!r} is not an input: --overwrite, --resume and --quiet take no value")
    if args.resume and args.overwrite:
        raise fail("--resume and --overwrite cannot be used together")
    output = args.output
    if output.is_dir():
        raise fail(f"{output} is a folder; -o takes the JSONL file to write")
    if output.exists() and output.stat().st_size > 0 and not (args.resume or args.overwrite):
        raise fail(f"{output} exists; use --resume to continue it or --overwrite to replace it")


def open_output(output: Path, resume: bool) -> tuple[RecordWriter, ResumeState]:
    from extractor.run.jsonl import RecordWriter, ResumeState

    try:
        writer = RecordWriter(output, append=resume)
        if not resume:
            return writer, ResumeState()
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
    return writer, state


def preflight(hook: Any, files: int) -> None:
    """A wrong endpoint fails the run before it starts (only for runs of more than one file)."""
    client = getattr(hook, "client", None)
    if client is None or files < 2:
        return
    try:
        client.preflight()
    except ExtractorError as exc:
        raise fail(str(exc)) from exc


class _NoProgress:
    """``--quiet``: what the run uses of a rich Progress, without importing rich.progress."""

    console = err

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def add_task(self, _description: str, total: int | None = None) -> int:
        return 0

    def advance(self, _task: int) -> None:
        return None


def progress_bar(quiet: bool) -> Any:
    if quiet:
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err.real,
        transient=False,
    )


@dataclass
class _Run:
    """One ``extract`` run: its inputs, output, hook and the counts the summary prints."""

    args: ExtractArgs
    inputs: Inputs
    hook: Any
    writer: RecordWriter
    done: ResumeState
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def client(self) -> Any:
        return getattr(self.hook, "client", None)

    def files(self) -> tuple[InputFiles, int]:
        """The inputs (walked lazily: the run skips the done ones before reading them) and how
        many of them an earlier run already did."""
        files = self.inputs.files
        done = files.count_in(self.done.paths) if self.args.resume else 0
        if self.args.resume:
            err.print(f"resume: {done} of {len(files)} inputs already in {self.args.output}", markup=False)
        return files, done

    def execute(self, files: InputFiles, done: int, options: LLMOptions) -> tuple[Outcome, int]:
        """The run itself, under the signal handler; returns the outcome and the stop's exit code."""
        from extractor.check.record import error_record
        from extractor.errors import InputError
        from extractor.run.bulk import run
        from extractor.run.runner import Done
        from extractor.run.stop import StopOnSignal

        a, client, progress = self.args, self.client, progress_bar(self.args.quiet)
        if client is not None:
            client.set_concurrency(a.concurrency)
        with StopOnSignal(client.cancel_all if client is not None else None) as stop, progress:
            total = None if files.has_zip else len(files) - done + len(self.inputs.missing)
            task = progress.add_task("extracting", total=total)

            def tick(rec: Done) -> None:
                if rec.status in ("needs_review", "source_inconsistent"):
                    self.reasons.update(rec.error_checks)
                progress.advance(task)
                if rec.status == "error":
                    progress.console.print(f"error {rec.path}: {rec.error}", highlight=False, markup=False)

            try:
                for m in map(shown_path, self.inputs.missing):
                    if m not in self.done.paths:
                        rec = error_record(m, InputError(m, "no such file, folder or glob match"))
                        self.writer.write(rec)
                        tick(Done.of(rec))
                outcome = run(files, self.writer, jobs=a.jobs, hook=self.hook, concurrency=a.concurrency,
                              on_done=tick, done_paths=self.done.paths, done_shas=self.done.first_at,
                              engine=a.engine, ray_address=a.ray_address, file_timeout=a.file_timeout,
                              hook_factory=hook_factory(options))  # fmt: skip
            except ExtractorError as exc:
                raise fail(str(exc)) from exc
            finally:
                self.writer.close()
                if not self.inputs.files:
                    raise fail("no input files found")
                if client is not None:
                    self.hook.close()
            self.report(outcome)
        return outcome, stop.exit_code

    def report(self, outcome: Outcome) -> None:
        """The summary on stderr: the status table, the failed checks, a broken endpoint, a stop."""
        w, output, client = self.writer, self.args.output, self.client
        err.print(summary(w.statuses, self.inputs.skipped, f"{w.count} records → {output}"))
        if self.reasons:
            top = ", ".join(f"{check} ({n})" for check, n in self.reasons.most_common(6))
            err.print(f"reports not verified, by check that failed: {top}", highlight=False, markup=False)
        if client is not None and client.broken:
            err.print(f"LLM endpoint unavailable: {client.broken}; the tables after that kept their rule "
                      "reading (finding llm.transport)", markup=False, highlight=False)  # fmt: skip
        if outcome.stopped:
            err.print(
                f"interrupted: {w.count} records written to {output}; {outcome.undone} input(s) in "
                "progress left undone, and any not yet started; run again with --resume to finish",
                markup=False,
                highlight=False,
            )


def run_extract(args: ExtractArgs) -> int:
    """The whole command: the exit code (0, or 3 when the endpoint broke, or a stop's 130/143);
    usage and input errors raise SystemExit(2) with their message already printed."""
    from extractor.run.inputs import expand_inputs

    check_usage(args)
    inputs = expand_inputs(args.paths)
    options = args.llm
    try:
        hook = llm_hook(options)
    except ExtractorError as exc:
        raise fail(str(exc)) from exc
    preflight(hook, len(inputs.files))
    writer, done = open_output(args.output, args.resume)
    job = _Run(args, inputs, hook, writer, done)
    outcome, stop_code = job.execute(*job.files(), options)
    if outcome.stopped:
        return stop_code
    if job.client is not None and job.client.broken:
        return 3
    return 0
