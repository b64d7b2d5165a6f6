"""The thin orchestrator: load → normalise → locate → rules → verify → record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.check.evidence import anchors_from
from extractor.check.record import build_record, error_record, scanned_record, unsupported_record
from extractor.check.verify import VerifyInput, verify
from extractor.errors import InputError, InputTooLargeError
from extractor.models import Finding, LLMUsage, Record, TableValues
from extractor.read.load import Document, load_bytes, load_path, sha256_bytes, sha256_file, text_limit
from extractor.tables.applications import read_applications
from extractor.tables.hidden import unread_cuts_where_blanks_hide
from extractor.tables.locate import Located, locate, prose_evidence, strip_page_furniture
from extractor.tables.rules import TableRead, read_active, read_review


@dataclass
class HookResult:
    """What a table hook (the LLM path) hands back to the orchestrator."""

    reads: dict[str, TableRead]
    table_methods: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    usage: LLMUsage | None = None


#: Called after the rule path with (text, located, rule reads, rule findings by table);
#: may replace reads of tables the rules could not verify. The LLM path plugs in here.
TableHook = Callable[[str, Located, dict[str, TableRead], dict[str, list[Finding]]], HookResult]


def extract_path(
    path: str | Path, *, display_path: str | None = None, hook: TableHook | None = None
) -> Record:
    """Extract one file. Never raises for bad input: returns an ``error`` record instead."""
    return complete(prepare_path(path, display_path=display_path), hook)


def extract_bytes(
    data: bytes, display_path: str, *, suffix: str = "", hook: TableHook | None = None
) -> Record:
    """Extract a report held in memory (e.g. a zip member)."""
    return complete(prepare_bytes(data, display_path, suffix=suffix), hook)


def prepare_path(path: str | Path, *, display_path: str | None = None) -> Record | Prepared:
    """The rule path's part of :func:`extract_path` (no hook): a finished record, or the report
    read and verified, waiting for :func:`complete`."""
    shown = display_path or str(path)
    try:
        doc = load_path(path, display_path=shown)
    except InputError as exc:
        return error_record(shown, exc, sha256_file(Path(path)))
    return _guarded(doc)


def prepare_bytes(data: bytes, display_path: str, *, suffix: str = "") -> Record | Prepared:
    """:func:`prepare_path` for a report held in memory."""
    try:
        doc = load_bytes(data, display_path, suffix=suffix)
    except InputError as exc:
        return error_record(display_path, exc, sha256_bytes(data))
    return _guarded(doc)


def _guarded(doc: Document) -> Record | Prepared:
    if (n := len(doc.text)) > (limit := text_limit()):
        why = f"its text is {n:,} characters, over the {limit:,}-character limit of one report"
        return error_record(doc.path, InputTooLargeError(doc.path, why), doc.sha256)
    try:
        return prepare_document(doc)
    except RecursionError as exc:  # pathological nesting in a hostile file
        return error_record(doc.path, exc, doc.sha256)


def complete(prepared: Record | Prepared, hook: TableHook | None = None) -> Record:
    """The record of a prepared report, after the hook (the LLM path) where there is one."""
    if isinstance(prepared, Record):
        return prepared
    try:
        return complete_document(prepared, hook)
    except RecursionError as exc:
        return error_record(prepared.doc.path, exc, prepared.doc.sha256)


def source_text(data: bytes, name: str) -> str:
    """The text the readers work on for a file's bytes (loaded, normalised, page furniture
    stripped): the record's ``evidence`` offsets point into it."""
    return strip_page_furniture(load_bytes(data, name, suffix=Path(name).suffix.lower()).text)


def read_tables(text: str, located: Located) -> dict[str, TableRead]:
    """Run the rule path over the located regions (evidence offsets into ``text``)."""
    reads: dict[str, TableRead] = {}
    regions = located.regions
    if located.template is not None and "active_disclosure" in regions:
        reads["active_disclosure"] = read_active(
            regions["active_disclosure"].text(text),
            located.template,
            located.region_squeeze("active_disclosure"),
        )
    if "applications" in regions:
        reads["applications"] = read_applications(
            regions["applications"].text(text), located.template, located.region_squeeze("applications")
        )
    if "review_litigation" in regions:
        reads["review_litigation"] = read_review(regions["review_litigation"].text(text))
    for k, r in reads.items():
        r.offset = regions[k].start
    unread_cuts_where_blanks_hide(reads)
    return reads


def anchors_of(reads: dict[str, TableRead]) -> dict[str, dict[str, Any]]:
    """Each table's region and row-label spans in the source text (kept in ``meta``)."""
    return {
        k: {"region": [r.offset, r.offset + len(r.source)], "labels": r.label_spans()}
        | ({"columns": list(r.columns)} if r.columns else {})
        | ({"segments": r.segment_spans()} if r.segments else {})
        for k, r in reads.items()
    }


@dataclass
class Placement:
    """Where the reads' cells stand in the source text, as the record keeps it."""

    evidence: dict[str, dict[str, dict[str, list[int]]]]
    methods: dict[str, dict[str, dict[str, str]]]
    anchors: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, reads: dict[str, TableRead]) -> Placement:
        return cls(
            {k: r.evidence() for k, r in reads.items()},
            {k: r.methods for k, r in reads.items() if r.methods},
            anchors_of(reads),
        )

    def apply(self, record: Record) -> None:
        record.evidence, record.evidence_method = self.evidence, self.methods
        record.meta["anchors"] = self.anchors


def verify_reads(
    text: str, located: Located, reads: dict[str, TableRead], placed: Placement | None = None
) -> list[Finding]:
    """The one verification of a report's reads (values, labels, grounding, evidence)."""
    placed = placed or Placement.of(reads)
    apps = reads.get("applications")
    prose = located.prose_squeezed()
    return verify(
        VerifyInput(
            template=located.template,
            tables={k: r.values for k, r in reads.items()},
            labels={k: {row: (h.match, h.printed) for row, h in r.labels.items()} for k, r in reads.items()},
            sources={k: r.source for k, r in reads.items()},
            prose=prose,
            meta=located.meta,
            application_variant=apps.variant if apps else None,
            prose_claims={
                t: said
                for t in ("applications", "review_litigation")
                if t not in reads and (said := prose_evidence(prose, t))
            },
            text=text,
            evidence=placed.evidence,
            evidence_method=placed.methods,
            anchors=anchors_from(placed.anchors),
        )
    )


@dataclass
class Prepared:
    """A report the rule path has read and verified, waiting for the hook (the LLM path)."""

    doc: Document
    text: str
    located: Located
    reads: dict[str, TableRead]
    findings: list[Finding]
    placed: Placement
    checked: list[Finding]


def extract_document(doc: Document, *, hook: TableHook | None = None) -> Record:
    return complete(prepare_document(doc), hook)


def prepare_document(doc: Document) -> Record | Prepared:
    """Locate, read and verify (the rule path): a finished record when there is nothing to
    read, else the reads and their findings."""
    if doc.scanned:
        return scanned_record(doc.path, doc.sha256)
    text = strip_page_furniture(doc.text)
    located = locate(text)
    if located.template is None and located.pre_2019:
        reason = (
            f"report year {located.year} predates the 2019 national format"
            if located.year is not None
            else "statistics of a pre-2019 format (2014-era or local tables), no table of the 2019/2021 "
            "national format"
        )
        return unsupported_record(doc.path, doc.sha256, located, reason)
    reads = read_tables(text, located)
    findings = [] if located.template is not None else [_no_template(reads)]
    placed = Placement.of(reads)
    return Prepared(doc, text, located, reads, findings, placed, verify_reads(text, located, reads, placed))


def complete_document(p: Prepared, hook: TableHook | None) -> Record:
    """The hook (where there is one and a template), then the record."""
    reads, placed, checked, findings = p.reads, p.placed, p.checked, list(p.findings)
    table_methods = dict.fromkeys(reads, "rules")
    usage: LLMUsage | None = None
    if hook is not None and p.located.template is not None:
        by_table = {k: r.findings + _table_findings(checked, k) for k, r in reads.items()}
        result = hook(p.text, p.located, reads, by_table)
        if any(result.reads.get(k) is not r for k, r in reads.items()) or result.reads.keys() != reads.keys():
            placed = Placement.of(result.reads)  # a table was replaced: check anew
            checked = verify_reads(p.text, p.located, result.reads, placed)
        reads, table_methods, usage = result.reads, result.table_methods, result.usage
        findings.extend(result.findings)
    for r in reads.values():
        findings.extend(r.findings)
    findings.extend(checked)
    tables: dict[str, TableValues] = {k: r.values for k, r in reads.items()}
    record = build_record(
        path=p.doc.path,
        sha256=p.doc.sha256,
        located=p.located,
        tables=tables,
        table_methods=table_methods,
        findings=findings,
        notes=p.doc.notes,
    )
    placed.apply(record)
    if usage is not None:
        record.meta["llm_usage"] = usage.to_meta()
    return record


def _no_template(reads: dict[str, TableRead]) -> Finding:
    if not reads:
        return Finding(
            check="template",
            severity="error",
            message="template not recognised: no header of the 2019 or 2021 format found",
        )
    shown = ", ".join(reads)
    return Finding(
        check="template",
        severity="warning",
        message=f"template cannot be told: only {shown} found, which print no 2019/2021 header "
        "(table 四 is the same in both templates); the table(s) found are read on their own",
    )


def _table_findings(findings: list[Finding], table: str) -> list[Finding]:
    return [f for f in findings if f.table == table]
