"""Cell evidence: every value read says where the source prints it, and the verifier checks it."""

from __future__ import annotations

import copy
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
    tampered = copy.deepcopy(rec)
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
    t = copy.deepcopy(rec)
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
    t = copy.deepcopy(rec)
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
    t = copy.deepcopy(rec)
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
    rec = Record.from_json(out.read_text(encoding="utf-8").splitlines()[0])
    a, b = _distinct_pair(rec, "active_disclosure")
    out.write_text(_swap(rec, a, b).to_json() + "\n", encoding="utf-8")
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 1, res.output
    assert "saved verified, re-checked needs_review" in res.output
    assert f"evidence active_disclosure {a[1]} {a[2]}" in res.output


def _permuted_columns(text: str) -> str:
    """Seed text whose header prints 科研机构 before 商业企业 and 结果纠正 before 结果维持, with
    the data printed in that order too."""
    out = []
    for line in text.splitlines():
        cells = line.split("\t")
        nums = [i for i, c in enumerate(cells) if c.strip().isdigit()]
        if "商业企业\t科研机构" in line:
            line = line.replace("商业企业\t科研机构", "科研机构\t商业企业")
        elif line.count("结果维持") == 2 and "复议后起诉" not in line:
            line = line.replace("结果维持\t结果纠正", "结果纠正\t结果维持")
        elif len(nums) == 7 and nums == list(range(nums[0], nums[0] + 7)):
            cells[nums[1]], cells[nums[2]] = cells[nums[2]], cells[nums[1]]
            line = "\t".join(cells)
        elif len(nums) == 15:
            for g in range(3):
                a, b = nums[g * 5], nums[g * 5 + 1]
                cells[a], cells[b] = cells[b], cells[a]
            line = "\t".join(cells)
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("layout", ["tabs", "pipe", "html"])
def test_column_order_comes_from_the_header(layout: str) -> None:
    plain = _numbered()
    want = _extract(plain.encode(), "x.txt").tables
    text = _permuted_columns(plain)
    assert text != plain
    data = (
        to_html(text) if layout == "html" else text if layout == "tabs" else relayout(text, "pipe")
    ).encode()
    name = "p.html" if layout == "html" else "p.txt"
    rec = _extract(data, name)
    assert rec.tables == want
    assert rec.status == "verified", [f.message for f in rec.findings if f.severity == "error"]
    orders = {t: a.get("columns") for t, a in rec.meta["anchors"].items()}
    assert orders["applications"][:3] == ["natural_person", "research", "commercial"]
    assert orders["review_litigation"][:2] == ["corrected", "upheld"]
    # a saved record claiming the template's order (or another) for these cells fails the check
    t = copy.deepcopy(rec)
    t.meta["anchors"]["applications"].pop("columns")
    assert any(e[0] == "applications" for e in _evidence_errors(t, source_text(data, name)))
