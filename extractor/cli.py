"""Command line: ``extractor extract | show | verify | regress | estimate | export``.

The only place where :class:`~extractor.errors.ExtractorError` becomes a message and an exit
code. Exit codes: 0 done; 1 a check failed (verify mismatch, golden diff, shown record is an
error); 2 bad usage or unreadable input to the command itself; 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from extractor._version import __version__
from extractor.errors import ExtractorError
from extractor.llm.options import LLMOptions
from extractor.models import STATUSES, Finding, Record
from extractor.pipeline import extract_path

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Verified tables from 政府信息公开工作年度报告 (government information-disclosure annual reports).",
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out.print(f"extractor {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """extractor: verified tables from government information-disclosure annual reports."""


def _llm_hook(options: LLMOptions) -> Any:
    """The LLM router when a model is configured; None keeps the offline rule path."""
    from extractor.llm.options import build_hook

    hook = build_hook(options)
    if hook is None and options.wanted:
        err.print("[yellow]LLM path off:[/yellow] no base URL and no API key in the environment")
    return hook


def _summary(counts: Counter[str], skipped: int, title: str) -> Table:
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


def _check_extract_usage(paths: list[str], output: Path, resume: bool, overwrite: bool) -> None:
    """Usage errors of ``extract``, each one clear line and exit 2 (before anything is written)."""
    for p in paths:
        if p.lower() in _FLAG_VALUES and not Path(p).exists():
            raise _fail(f"{p!r} is not an input: --overwrite, --resume and --quiet take no value")
    if resume and overwrite:
        raise _fail("--resume and --overwrite cannot be used together")
    if output.is_dir():
        raise _fail(f"{output} is a folder; -o takes the JSONL file to write")
    if output.exists() and output.stat().st_size > 0 and not (resume or overwrite):
        raise _fail(f"{output} exists; use --resume to continue it or --overwrite to replace it")


def _open_output(output: Path, resume: bool) -> tuple[Any, set[str], dict[str, int]]:
    from extractor.run.jsonl import RecordWriter

    try:
        writer = RecordWriter(output, append=resume)
        if not resume:
            return writer, set(), {}
        state = writer.resume()
    except ExtractorError as exc:
        raise _fail(str(exc)) from exc
    if state.dropped:
        lines = ", ".join(map(str, state.dropped[:10])) + (" …" if len(state.dropped) > 10 else "")
        err.print(
            f"resume: kept {state.kept} record(s); moved {len(state.dropped)} unparsable line(s) "
            f"(line {lines}) to {state.dropped_to}",
            markup=False,
            highlight=False,
        )
    return writer, state.paths, state.shas


def _preflight(hook: Any, files: int) -> None:
    """A wrong endpoint fails the run before it starts (only for runs of more than one file)."""
    client = getattr(hook, "client", None)
    if client is None or files < 2:
        return
    try:
        client.preflight()
    except ExtractorError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def extract(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (recursive) or globs.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="JSONL file to write.")] = Path(
        "results.jsonl"
    ),
    resume: Annotated[
        bool, typer.Option("--resume", help="Append, skipping inputs already in the output.")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (rule path).")] = 1,
    engine: Annotated[str, typer.Option(help="local | ray (Ray Data, local or a cluster).")] = "local",
    ray_address: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Ray cluster address (default: start a local Ray)."),
    ] = None,
    model: Annotated[Optional[str], typer.Option(help="LLM model name (enables the LLM path).")] = None,  # noqa: UP045
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")] = None,  # noqa: UP045
    api_key_env: Annotated[
        Optional[str], typer.Option(help="Environment variable holding the API key.")  # noqa: UP045
    ] = None,
    llm: Annotated[Optional[str], typer.Option(help="auto | always | off")] = None,  # noqa: UP045
    config: Annotated[Optional[Path], typer.Option(help="TOML config for the LLM path.")] = None,  # noqa: UP045
    cache_dir: Annotated[Optional[str], typer.Option(help="LLM answer cache folder.")] = None,  # noqa: UP045
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Parallel LLM requests.")] = 4,
    file_timeout: Annotated[
        float, typer.Option(min=1, help="Wall-clock seconds one file may take on the rule path.")
    ] = 120.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Extract every report under PATHS into a JSONL file, one record per report."""
    from extractor.check.record import error_record
    from extractor.errors import InputError
    from extractor.run.bulk import run
    from extractor.run.runner import expand_inputs
    from extractor.run.stop import StopOnSignal

    if engine not in ("local", "ray"):
        raise _fail(f"--engine must be local or ray, not {engine!r}")
    if llm not in (None, "auto", "always", "off"):
        raise _fail(f"--llm must be auto, always or off, not {llm!r}")
    _check_extract_usage(paths, output, resume, overwrite)
    inputs = expand_inputs(paths)
    options = LLMOptions(model, base_url, api_key_env, llm, config, cache_dir, False if no_cache else None)
    try:
        hook = _llm_hook(options)
    except ExtractorError as exc:
        raise _fail(str(exc)) from exc
    _preflight(hook, len(inputs.files))
    writer, done_paths, done_shas = _open_output(output, resume)
    files = [f for f in inputs.files if str(f) not in done_paths]
    if resume:
        done = len(inputs.files) - len(files)
        err.print(f"resume: {done} of {len(inputs.files)} inputs already in {output}", markup=False)
    reasons: Counter[str] = Counter()
    progress = _progress(quiet)
    client = getattr(hook, "client", None)
    if client is not None:
        client.set_concurrency(concurrency)
    with StopOnSignal(client.cancel_all if client is not None else None) as stop, progress:
        task = progress.add_task("extracting", total=None if any(f.suffix.lower() == ".zip" for f in files)
                                 else len(files) + len(inputs.missing))  # fmt: skip

        def tick(rec: Record) -> None:
            if rec.status in ("needs_review", "source_inconsistent"):
                reasons.update({f.check for f in rec.findings if f.severity == "error"})
            progress.advance(task)
            if rec.status == "error":
                progress.console.print(f"error {rec.path}: {rec.error}", highlight=False, markup=False)

        try:
            for m in inputs.missing:
                if m not in done_paths:
                    tick(_write(writer, error_record(m, InputError(m, "no such file, folder or glob match"))))
            outcome = run(files, writer, jobs=jobs, hook=hook, concurrency=concurrency, on_record=tick,
                          done_paths=done_paths, done_shas=done_shas, engine=engine, ray_address=ray_address,
                          file_timeout=file_timeout, hook_factory=_hook_factory(options))  # fmt: skip
        except ExtractorError as exc:
            raise _fail(str(exc)) from exc
        finally:
            writer.close()
            if not inputs.files:
                raise _fail("no input files found")
            if client is not None:
                hook.close()
        _report(writer, inputs.skipped, output, reasons, outcome, client)
    if outcome.stopped:
        raise typer.Exit(stop.exit_code)
    if client is not None and client.broken:
        raise typer.Exit(3)


def _write(writer: Any, rec: Record) -> Record:
    writer.write(rec)
    return rec


def _hook_factory(options: LLMOptions) -> LLMOptions | None:
    """For the Ray engine: the options rebuild the hook inside each worker (a hook holds sockets)."""
    return options if options.wanted else None


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )


def _report(writer: Any, skipped: list[Path], output: Path, reasons: Counter[str], outcome: Any,
            client: Any) -> None:  # fmt: skip
    err.print(_summary(writer.statuses, len(skipped), f"{writer.count} records → {output}"))
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


@app.command()
def show(
    file: Annotated[Path, typer.Argument(help="A report file, or a results JSONL with --record.")],
    record_path: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--record", help="In a results JSONL: the record whose path contains this."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Show one report's tables and findings (failing cells marked): extracted from a report
    file, or read back from a results JSONL (``--record``) — e.g. to review a needs_review run."""
    from extractor.out.render import render
    from extractor.run.jsonl import iter_records

    if not file.exists():
        raise _fail(f"{file}: no such file")
    if record_path is None and file.suffix.lower() == ".jsonl":
        record_path = ""  # a results file: its only record, or say which to pick
    if record_path is not None:
        try:
            matches = [o for _, o in iter_records(file) if record_path in str(o.get("path", ""))]
        except ExtractorError as exc:
            raise _fail(str(exc)) from exc
        if len(matches) != 1 and not record_path:
            raise _fail(f"{file} is a results file with {len(matches)} records: pick one with --record NAME")
        if len(matches) != 1:
            raise _fail(f"{file}: {len(matches)} records match --record {record_path!r}; need exactly one")
        record = Record.model_validate(matches[0])
    else:
        record = extract_path(file)
    if as_json:
        out.print_json(record.to_json())
    else:
        render(record, out)
    if record.status == "error":
        raise typer.Exit(1)


@app.command()
def verify(
    results: Annotated[Path, typer.Argument(help="A results JSONL written by 'extractor extract'.")],
) -> None:
    """Re-check saved records with the current verifier; exit 1 if any status would change."""
    from extractor.check.verify import YearTables, cross_checks
    from extractor.run.jsonl import iter_records
    from extractor.run.recheck import recheck_record

    counts: Counter[str] = Counter()
    changed = 0
    years: list[YearTables] = []
    try:
        for line_no, obj in iter_records(results):
            try:
                rec = Record.model_validate(obj)
            except ValueError as exc:
                raise _fail(
                    f"{results}: line {line_no} is not an extractor record ({exc.__class__.__name__})"
                ) from exc
            new_status, new_findings = recheck_record(rec)
            counts[new_status] += 1
            if rec.agency and rec.year and rec.tables:
                years.append(YearTables(rec.path, rec.agency, rec.year, rec.tables))
            if new_status != rec.status:
                changed += 1
                out.print(
                    f"[red]changed[/red] {escape(rec.path)}: saved {rec.status}, re-checked {new_status}",
                    highlight=False,
                    soft_wrap=True,
                )
                for f in _new_errors(rec.findings, new_findings):
                    out.print(
                        f"    {f.check} {f.table or ''} {f.row or ''} {f.column or ''}: {f.message}",
                        highlight=False,
                        markup=False,
                    )
    except ExtractorError as exc:
        raise _fail(str(exc)) from exc
    out.print(_summary(counts, 0, f"re-checked {results}"))
    for path, found in sorted(cross_checks(years).items()):
        for f in found:
            out.print(
                f"[yellow]{escape(f.check)}[/yellow] {escape(path)}: {escape(f.message)}", highlight=False
            )
    if changed:
        out.print(f"[red]{changed} record(s) would change status[/red]")
        raise typer.Exit(1)
    out.print("all records re-check to their saved status")


def _new_errors(old: list[Finding], new: list[Finding]) -> list[Finding]:
    seen = {(f.check, f.table, f.row, f.column) for f in old}
    return [f for f in new if f.severity == "error" and (f.check, f.table, f.row, f.column) not in seen]


@app.command()
def regress(
    golden: Annotated[Path, typer.Option(help="Golden folder.")] = Path("golden"),
    root: Annotated[Path, typer.Option(help="Folder that case sources are relative to.")] = Path("."),
    update: Annotated[
        bool, typer.Option("--update", help="Regenerate the golden files from the current output.")
    ] = False,
    case: Annotated[Optional[list[str]], typer.Option(help="Only these case names.")] = None,  # noqa: UP045
) -> None:
    """Compare every golden case field by field; print a diff; exit 1 on any change."""
    from extractor.run.golden import load_cases, run_case, write_case

    try:
        cases = load_cases(golden, root.resolve())
    except ExtractorError as exc:
        raise _fail(str(exc)) from exc
    if case:
        unknown = sorted(set(case) - {c.name for c in cases})
        if unknown:
            raise _fail(f"no golden case named {', '.join(unknown)} in {golden}")
        cases = [c for c in cases if c.name in set(case)]
    failed = 0
    for c in cases:
        actual, diffs = run_case(c, root.resolve())
        if update and diffs:
            write_case(c, actual)
            out.print(f"[yellow]updated[/yellow] {escape(c.name)} ({len(diffs)} field(s))", highlight=False)
        elif diffs:
            failed += 1
            out.print(f"[red]FAIL[/red] {escape(c.name)}", highlight=False)
            for d in diffs:
                out.print(f"    {d}", highlight=False, markup=False, soft_wrap=True)
        else:
            out.print(f"[green]ok[/green]   {escape(c.name)}", highlight=False)
    out.print(f"{len(cases) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@app.command()
def estimate(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or globs.")],
    model: Annotated[Optional[str], typer.Option(help="Model name.")] = None,  # noqa: UP045
    llm: Annotated[str, typer.Option(help="auto | always")] = "auto",
) -> None:
    """Say, before spending anything, how many reports and tables would go to the model."""
    from extractor.llm.config import LLMConfig
    from extractor.llm.estimate import estimate as do_estimate
    from extractor.run.runner import expand_inputs

    inputs = expand_inputs(paths)
    if not inputs.files:
        raise _fail("no input files found")
    cfg = LLMConfig(model=model or "any", mode=llm)  # type: ignore[arg-type]
    out.print_json(json.dumps(do_estimate(inputs.files, cfg), ensure_ascii=False))


@app.command()
def export(
    results: Annotated[Path, typer.Argument(help="A results JSONL.")],
    to: Annotated[str, typer.Option("--to", help="csv | parquet | sqlite | duckdb")] = "csv",
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file or folder.")] = Path("export"),
    form: Annotated[str, typer.Option(help="long | wide | both")] = "both",
) -> None:
    """Export results to CSV, Parquet, SQLite or DuckDB (long and wide forms)."""
    from extractor.out.export import export as do_export

    if to not in ("csv", "parquet", "sqlite", "duckdb"):
        raise _fail(f"--to must be csv, parquet, sqlite or duckdb, not {to!r}")
    if form not in ("long", "wide", "both"):
        raise _fail(f"--form must be long, wide or both, not {form!r}")
    try:
        written = do_export(results, to, output, form=form)  # type: ignore[arg-type]
    except ExtractorError as exc:
        raise _fail(str(exc)) from exc
    for p in written:
        out.print(str(p), highlight=False, markup=False)


def run() -> None:  # pragma: no cover - console entry for `python -m extractor`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
