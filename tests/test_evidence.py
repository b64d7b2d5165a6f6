"""Cell evidence: every value read says where the source prints it, and the verifier checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.check.verify import Anchors, VerifyInput, verify
from extractor.cli import app
from extractor.models import Record
from extractor.pipeline import extract_bytes, source_text

from .helpers import relayout, seed, to_html
from .test_layouts import _with_numbers

RICH = seed("001")


def _numbered() -> str:
    return _with_numbers(seed("000").read_text(encoding="utf-8"))


def _renderings() -> dict[str, tuple[bytes, str]]:
    plain = _numbered()
    fw = plain.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    html = to_html(plain)
    return {
        "tabs": (plain.encode(), "x.txt"),
        "pipe": (relayout(plain, "pipe").encode(), "x.pipe.txt"),
        "lines": (relayout(plain, "lines").encode(), "x.lines.txt"),
        "spaces": (relayout(plain, "spaces").encode(), "x.spaces.txt"),
        "glued": (relayout(plain, "glued").encode(), "x.glued.txt"),
        "html": (html.encode(), "x.html"),
        "json": (json.dumps({"data": {"content": html}}).encode(), "x.json"),
        "fullwidth-gbk": (fw.encode("gb18030"), "x.gbk.txt"),
        "rich-html": (to_html(RICH.read_text(encoding="utf-8")).encode(), "rich.html"),
    }


def _extract(data: bytes, name: str) -> Record:
    return extract_bytes(data, name, suffix=Path(name).suffix.lower())


@pytest.mark.parametrize("layout", list(_renderings()))
def test_every_cell_carries_evidence_that_holds_its_number(layout: str) -> None:
    data, name = _renderings()[layout]
    rec = _extract(data, name)
    text = source_text(data, name)
    assert not [f.message for f in rec.findings if f.check == "evidence"]
    cells = 0
    for table, rows in rec.tables.items():
        for row, cols in rows.items():
            for col, v in cols.items():
                if v is None or col == "amount_text":
                    continue
                s, e = rec.evidence[table][row][col]
                method = rec.evidence_method.get(table, {}).get(row, {}).get(col)
                printed = text[s:e].strip()
                if method == "blank":
                    assert printed == "" and v == 0
                else:  # checked here independently of the verifier
                    assert printed.rstrip("元件个项") == str(v), (table, row, col, printed, v)
                cells += 1
    assert cells >= 180
    if layout == "glued":
        assert any(m == "cut" for t in rec.evidence_method.values() for r in t.values() for m in r.values())
    else:
        assert rec.status == "verified", [f.message for f in rec.findings if f.severity == "error"]


def _inputs(rec: Record, text: str) -> VerifyInput:
    anchors = {k: Anchors(a["region"], a["labels"]) for k, a in rec.meta["anchors"].items()}
    return VerifyInput(
        template=rec.template,
        tables=rec.tables,
        text=text,
        evidence=rec.evidence,
        evidence_method=rec.evidence_method,
        anchors=anchors,
    )


def _evidence_errors(rec: Record, text: str) -> list[tuple[str | None, str | None, str | None]]:
    return [(f.table, f.row, f.column) for f in verify(_inputs(rec, text)) if f.check == "evidence"]


@pytest.fixture(scope="module")
def rich() -> tuple[Record, str]:
    data = _numbered().replace("\t0\t0\t0\n", "\t4\t1\t7\n", 1).encode()  # a row of table 二
    rec = _extract(data, "numbered.txt")
    assert rec.status == "verified", [f.message for f in rec.findings if f.severity == "error"]
    return rec, source_text(data, "numbered.txt")


def test_true_record_passes(rich: tuple[Record, str]) -> None:
    rec, text = rich
    assert _evidence_errors(rec, text) == []


def _swap(rec: Record, a: tuple[str, str, str], b: tuple[str, str, str]) -> Record:
    tampered = rec.model_copy(deep=True)
    t = tampered.tables
    va, vb = t[a[0]][a[1]][a[2]], t[b[0]][b[1]][b[2]]
    assert va != vb, "the test needs two different numbers"
    t[a[0]][a[1]][a[2]], t[b[0]][b[1]][b[2]] = vb, va
    return tampered


def _distinct_pair(rec: Record, table: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    cells = [
        (table, r, c)
        for r, cols in rec.tables[table].items()
        for c, v in cols.items()
        if isinstance(v, int) and c != "amount_text"
    ]
    for x in cells:
        for y in cells:
            if rec.tables[table][x[1]][x[2]] != rec.tables[table][y[1]][y[2]]:
                return x, y
    raise AssertionError("no two different numbers")


@pytest.mark.parametrize("table", ["active_disclosure", "applications", "review_litigation"])
def test_swapped_values_are_caught_cell_by_cell(rich: tuple[Record, str], table: str) -> None:
    rec, text = rich
    a, b = _distinct_pair(rec, table)
    errors = _evidence_errors(_swap(rec, a, b), text)
    assert a in errors and b in errors


def test_moved_or_reused_span_is_caught(rich: tuple[Record, str]) -> None:
    rec, text = rich
    t = rec.model_copy(deep=True)
    ev = t.evidence["applications"]
    # both cells now point at the same printed number
    ev["new_received"]["natural_person"] = list(ev["carried_over"]["natural_person"])
    t.tables["applications"]["new_received"]["natural_person"] = t.tables["applications"]["carried_over"][
        "natural_person"
    ]
    errors = _evidence_errors(t, text)
    assert ("applications", "new_received", "natural_person") in errors


def test_columns_out_of_order_are_caught(rich: tuple[Record, str]) -> None:
    rec, text = rich
    t = rec.model_copy(deep=True)
    row = t.evidence["review_litigation"]["review"]
    vals = t.tables["review_litigation"]["review"]
    row["upheld"], row["corrected"] = row["corrected"], row["upheld"]
    vals["upheld"], vals["corrected"] = vals["corrected"], vals["upheld"]
    errors = _evidence_errors(t, text)
    assert any(e[0] == "review_litigation" for e in errors)


def test_a_cut_must_make_up_the_printed_token() -> None:
    data, name = _renderings()["glued"]
    rec, text = _extract(data, name), source_text(data, name)
    cut = next(
        (t, r, c)
        for t, rows in rec.evidence_method.items()
        for r, cols in rows.items()
        for c, m in cols.items()
        if m == "cut"
    )
    assert _evidence_errors(rec, text) == []
    t = rec.model_copy(deep=True)
    s = t.evidence[cut[0]][cut[1]][cut[2]][0]
    t.evidence[cut[0]][cut[1]][cut[2]] = [s, s]  # a cut that no longer covers its digits
    assert cut in _evidence_errors(t, text)


def test_cli_verify_reports_a_swap_that_keeps_every_sum(tmp_path: Path) -> None:
    """Table 二 has no identity: swapping two of its cells keeps every check but evidence."""
    runner = CliRunner()
    out = tmp_path / "r.jsonl"
    assert runner.invoke(app, ["extract", str(RICH), "-o", str(out), "-q"]).exit_code == 0
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 0, res.output
    rec = Record.model_validate_json(out.read_text(encoding="utf-8").splitlines()[0])
    a, b = _distinct_pair(rec, "active_disclosure")
    out.write_text(_swap(rec, a, b).to_json() + "\n", encoding="utf-8")
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 1, res.output
    assert "saved verified, re-checked needs_review" in res.output
    assert f"evidence active_disclosure {a[1]} {a[2]}" in res.output
