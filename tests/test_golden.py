"""The golden regression (also ``extractor regress``): every case, field by field."""

from __future__ import annotations

import pytest

from extractor.run.golden import load_cases, run_case

from .helpers import ROOT

CASES = load_cases(ROOT / "golden", ROOT)


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case) -> None:  # type: ignore[no-untyped-def]
    _, diffs = run_case(case, ROOT)
    assert not diffs, "\n".join(diffs)


def test_golden_covers_every_sample() -> None:
    sources = {c.data["source"] for c in CASES}
    samples = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "samples").rglob("*")
        if p.is_file() and p.name != "SOURCES.tsv"
    }
    assert samples <= sources, samples - sources


def test_no_verified_golden_case_has_unread_or_ungrounded_cells() -> None:
    for c in CASES:
        exp = c.data["expected"]
        if exp["status"] == "verified":
            cells = [v for t in exp["tables"].values() for r in t.values() for v in r.values()]
            assert None not in cells, c.name
            assert not [f for f in exp["findings"] if f.startswith("error")], c.name


def test_every_verified_golden_case_carries_evidence_for_every_cell() -> None:
    verified = 0
    for c in CASES:
        exp = c.data["expected"]
        if exp["status"] != "verified":
            continue
        verified += 1
        for table, rows in exp["tables"].items():
            for row, cols in rows.items():
                for col in cols:
                    if col != "amount_text":
                        span = exp["evidence"][table][row][col]
                        assert len(span) == 2 and 0 <= span[0] <= span[1], (c.name, table, row, col)
    assert verified >= 5
