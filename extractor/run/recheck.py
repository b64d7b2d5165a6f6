"""Re-check a saved record with the current verifier (``extractor verify``).

Findings the verifier produces are recomputed; findings of the reading stages (unreadable,
split, blank, label, template, llm…) are kept as saved. Grounding and the positional check of
the saved ``evidence`` need the source text, so the source is re-read (the same text the
readers saw, ``pipeline.source_text``) and re-located when its path still exists and its
SHA-256 matches; otherwise both are skipped and said so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from extractor.check.evidence import anchors_from
from extractor.check.verify import VerifyInput, status_of, verify
from extractor.errors import InputError
from extractor.models import Finding, Record, Status, finding
from extractor.read.load import load_path
from extractor.tables.locate import locate, strip_page_furniture

VERIFIER_CHECKS: Final = frozenset(
    {"complete", "missing_table", "H1", "H2", "H3", "H4", "H5", "grounding", "evidence", "S3", "S4", "S5"}
)


def _source(rec: Record) -> tuple[dict[str, str], str, str | None]:
    """The record's source read again, when it is still there unchanged (same SHA-256): the
    text of each located table, the prose, and the whole text; empty when it is not."""
    p = Path(rec.path)
    if not p.is_file():
        return {}, "", None
    try:
        doc = load_path(p)
    except InputError:
        return {}, "", None
    if doc.sha256 != rec.sha256:
        return {}, "", None
    text = strip_page_furniture(doc.text)
    located = locate(text)
    sources = {k: r.text(text) for k, r in located.regions.items()}
    return sources, located.prose, text if sources else None


def recheck_record(rec: Record) -> tuple[Status, list[Finding]]:
    if rec.status in ("error", "unsupported_template"):
        return rec.status, rec.findings
    kept = [f for f in rec.findings if f.check not in VERIFIER_CHECKS]
    sources, prose, text = _source(rec)
    if not sources:
        kept.append(
            finding(
                "recheck",
                "info",
                f"{rec.path}: source not available (or changed); grounding, evidence not re-checked",
            )
        )
    fresh = verify(
        VerifyInput(
            template=rec.template,
            tables=rec.tables,
            sources={k: v for k, v in sources.items() if k in rec.tables},
            prose=prose,
            meta=rec.meta,
            text=text,
            evidence=rec.evidence,
            evidence_method=rec.evidence_method,
            anchors=anchors_from(rec.meta.get("anchors")),
        )
    )
    findings = kept + fresh
    status = status_of(findings)
    if rec.status == "reviewed" and status == "verified":  # settled by a person, still passing
        status = "reviewed"
    return status, findings
