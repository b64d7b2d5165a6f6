"""Command line: ``extractor extract | show | verify | regress | estimate | export | serve | review``.

The only place where :class:`~extractor.errors.ExtractorError` becomes a message and an exit
code. Exit codes: 0 done; 1 a check failed (verify mismatch, golden diff, shown record is an
error); 2 bad usage or unreadable input to the command itself; 3 the LLM endpoint became
unavailable during the run (circuit breaker); 130/143 stopped by SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from extractor._version import __version__
from extractor.cli_support import err, escape, fail, hook_factory, llm_hook, out, summary
from extractor.errors import ExtractorError
from extractor.llm.options import LLMOptions  # a plain dataclass: no pydantic, no openai

if TYPE_CHECKING:  # start-up: rich, the models and the pipeline are imported when a command runs
    from extractor.models import Finding

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # plain click help and errors: rich-formatted help alone costs ~60 ms of start-up
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Verified tables from 政府信息公开工作年度报告 (government information-disclosure annual reports).",
)


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
    from extractor.cli_extract import ExtractArgs, run_extract

    args = ExtractArgs.of(paths, output=output, resume=resume, overwrite=overwrite, jobs=jobs, engine=engine,
                          ray_address=ray_address, model=model, base_url=base_url, api_key_env=api_key_env,
                          llm=llm, config=config, cache_dir=cache_dir, no_cache=no_cache,
                          concurrency=concurrency, file_timeout=file_timeout, quiet=quiet)  # fmt: skip
    code = run_extract(args)
    if code:
        raise typer.Exit(code)


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
    from extractor.models import Record
    from extractor.out.render import render
    from extractor.pipeline import extract_path
    from extractor.run.jsonl import iter_records

    if not file.exists():
        raise fail(f"{file}: no such file")
    if record_path is None and file.suffix.lower() == ".jsonl":
        record_path = ""  # a results file: its only record, or say which to pick
    if record_path is not None:
        try:
            matches = [o for _, o in iter_records(file) if record_path in str(o.get("path", ""))]
        except ExtractorError as exc:
            raise fail(str(exc)) from exc
        if len(matches) != 1 and not record_path:
            raise fail(f"{file} is a results file with {len(matches)} records: pick one with --record NAME")
        if len(matches) != 1:
            raise fail(f"{file}: {len(matches)} records match --record {record_path!r}; need exactly one")
        record = Record.from_dict(matches[0])
    else:
        record = extract_path(file)
    if as_json:
        out.print_json(record.to_json())
    else:
        render(record, out.real)
    if record.status == "error":
        raise typer.Exit(1)


@app.command()
def verify(
    results: Annotated[Path, typer.Argument(help="A results JSONL written by 'extractor extract'.")],
) -> None:
    """Re-check saved records with the current verifier; exit 1 if any status would change."""
    from extractor.check.verify import YearTables, cross_checks
    from extractor.models import Record
    from extractor.run.jsonl import iter_records
    from extractor.run.recheck import recheck_record

    counts: Counter[str] = Counter()
    changed = 0
    years: list[YearTables] = []
    try:
        for line_no, obj in iter_records(results):
            try:
                rec = Record.from_dict(obj)
            except ValueError as exc:
                raise fail(
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
        raise fail(str(exc)) from exc
    out.print(summary(counts, 0, f"re-checked {results}"))
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
        raise fail(str(exc)) from exc
    if case:
        unknown = sorted(set(case) - {c.name for c in cases})
        if unknown:
            raise fail(f"no golden case named {', '.join(unknown)} in {golden}")
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
    from extractor.llm.estimate import estimate as do_estimate
    from extractor.run.inputs import expand_inputs

    inputs = expand_inputs(paths)
    if not inputs.files:
        raise fail("no input files found")
    try:  # the same settings as extract (file < environment < flags); no endpoint is needed here
        cfg = LLMOptions.from_cli(model=model, llm=llm).settings()
    except ExtractorError as exc:
        raise fail(str(exc)) from exc
    if cfg.model is None:
        cfg = cfg.model_copy(update={"model": "any"})
    out.print_json(json.dumps(do_estimate(list(inputs.files), cfg), ensure_ascii=False))


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
        raise fail(f"--to must be csv, parquet, sqlite or duckdb, not {to!r}")
    if form not in ("long", "wide", "both"):
        raise fail(f"--form must be long, wide or both, not {form!r}")
    try:
        written = do_export(results, to, output, form=form)  # type: ignore[arg-type]
    except ExtractorError as exc:
        raise fail(str(exc)) from exc
    for p in written:
        out.print(str(p), highlight=False, markup=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Folder of the SQLite database and uploads.")] = Path(
        "extractor-data"
    ),
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the bearer token (required off loopback).")
    ] = "EXTRACTOR_SERVICE_TOKEN",
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes per job.")] = 1,
    engine: Annotated[str, typer.Option(help="local | ray (Ray Data, local or a cluster).")] = "local",
    ray_address: Annotated[Optional[str], typer.Option(help="Ray cluster address.")] = None,  # noqa: UP045
    max_upload_mb: Annotated[int, typer.Option(min=1, help="Largest request body, MB.")] = 200,
    max_files: Annotated[int, typer.Option(min=1, help="Most files in one job upload.")] = 10_000,
    max_jobs: Annotated[int, typer.Option(min=1, help="Most jobs queued or running at once.")] = 4,
    model: Annotated[Optional[str], typer.Option(help="LLM model name (enables the LLM path).")] = None,  # noqa: UP045
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")] = None,  # noqa: UP045
    llm: Annotated[Optional[str], typer.Option(help="auto | always | off")] = None,  # noqa: UP045
    config: Annotated[Optional[Path], typer.Option(help="TOML config for the LLM path.")] = None,  # noqa: UP045
    cache_dir: Annotated[Optional[str], typer.Option(help="LLM answer cache folder.")] = None,  # noqa: UP045
) -> None:
    """Serve the HTTP API and the review page (/review; OpenAPI docs at /docs)."""
    import os

    from extractor.service.app import Settings
    from extractor.service.jobs import Limits, RunOptions
    from extractor.service.server import serve as do_serve

    if engine not in ("local", "ray"):
        raise fail(f"--engine must be local or ray, not {engine!r}")
    try:
        options = LLMOptions.from_cli(
            model=model, base_url=base_url, llm=llm, config=config, cache_dir=cache_dir
        )
        hook = llm_hook(options)
        limits = Limits(max_upload_mb << 20, max_files, max_jobs)
        how = RunOptions(jobs=jobs, hook=hook, engine=engine, ray_address=ray_address,
                         llm_options=hook_factory(options))  # fmt: skip
        settings = Settings(data_dir, os.environ.get(token_env) or None, limits, how)
        err.print(
            f"serving on http://{host}:{port} (review page /review, API docs /docs), data in {data_dir}"
        )
        code = do_serve(settings, host, port)
    except ExtractorError as exc:
        raise fail(f"{exc} ({token_env})" if "token" in str(exc) else str(exc)) from exc
    raise typer.Exit(code)


@app.command()
def review(
    results: Annotated[Path, typer.Argument(help="A results JSONL.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path("review.html"),
) -> None:
    """Write the review page for a results JSONL: one self-contained HTML file, no network."""
    from extractor.service.offline import write_review_page

    try:
        n = write_review_page(results, output)
    except ExtractorError as exc:
        raise fail(str(exc)) from exc
    out.print(f"{n} records → {output}", highlight=False, markup=False)


def run() -> None:  # pragma: no cover - console entry for `python -m extractor`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
