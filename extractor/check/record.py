"""Stage 6 — record: assemble the JSONL record (status, findings, tables) for one report."""

from __future__ import annotations

from extractor._version import __version__
from extractor.check.verify import status_of
from extractor.errors import InputError
from extractor.models import Finding, Method, Record, TableValues
from extractor.tables.locate import Located


def build_record(
    *,
    path: str,
    sha256: str,
    located: Located,
    tables: dict[str, TableValues],
    table_methods: dict[str, str],
    findings: list[Finding],
    notes: list[str] | None = None,
) -> Record:
    meta = dict(located.meta)
    if notes:
        meta["notes"] = notes
    methods = set(table_methods.values())
    method: Method = (
        "rules+llm" if methods == {"rules", "llm"} else ("llm" if methods == {"llm"} else "rules")
    )
    return Record(
        path=path,
        sha256=sha256,
        agency=located.agency,
        year=located.year,
        template=located.template,
        status=status_of(findings),
        method=method,
        table_methods=table_methods,
        findings=findings,
        tables=tables,
        meta=meta,
        extractor_version=__version__,
    )


def unsupported_record(path: str, sha256: str, located: Located, reason: str) -> Record:
    return Record(
        path=path,
        sha256=sha256,
        agency=located.agency,
        year=located.year,
        template=None,
        status="unsupported_template",
        method="none",
        findings=[Finding(check="template", severity="error", message=reason)],
        meta=dict(located.meta),
        extractor_version=__version__,
    )


def scanned_record(path: str, sha256: str) -> Record:
    """A PDF with no text layer: readable by nobody without OCR, so it needs a person."""
    return Record(
        path=path,
        sha256=sha256,
        status="needs_review",
        method="none",
        findings=[
            Finding(
                check="scanned",
                severity="error",
                message=f"{path}: the PDF has no text layer (a scan); run OCR and extract the result",
            )
        ],
        extractor_version=__version__,
    )


def error_record(path: str, exc: Exception, sha256: str | None = None) -> Record:
    if isinstance(exc, InputError):
        message, kind = exc.problem, exc.kind
    else:
        message, kind = f"internal error: {type(exc).__name__}: {exc}", "internal"
    return Record(
        path=path,
        sha256=sha256,
        status="error",
        method="none",
        error=message,
        findings=[Finding(check=f"input.{kind}", severity="error", message=f"{path}: {message}")],
        extractor_version=__version__,
    )
