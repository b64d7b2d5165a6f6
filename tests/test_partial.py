"""Tables standing alone, and （六）其他处理 printed as one row in a 2021-template report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.models import Record
from extractor.run.recheck import recheck_record

from . import render as R
from .test_render_matrix import extract

LAYOUTS = ("tab", "lines", "html", "pdf", "docx")


def _errors(rec: Record) -> list[str]:
    return [f.check for f in rec.findings if f.severity == "error"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("title", [True, False])
def test_table_four_alone_is_read(layout: str, template: str, title: bool) -> None:
    """A flipbook page holding only table 四: its 15 numbers are read; the rest is missing."""
    fig = R.figures(template, 2)
    bl = R.only_tables(R.styled(R.blocks(fig), "blank"), {"review_litigation"}, title=title)
    rec = extract(bl, layout)
    assert rec.tables == {"review_litigation": fig.tables["review_litigation"]}
    assert rec.template is None  # table 四 is the same in both templates
    assert rec.status == "needs_review"
    assert sorted(_errors(rec)) == ["missing_table", "missing_table"]
    assert [f.severity for f in rec.findings if f.check == "template"] == ["warning"]


@pytest.mark.parametrize("layout", ("tab", "markdown", "html", "docx"))
def test_table_four_alone_breaking_its_totals_says_so(layout: str) -> None:
    fig = R.figures("2021", 3)
    fig.tables["review_litigation"]["litigation_direct"]["total"] += 4
    bl = R.only_tables(R.blocks(fig), {"review_litigation"}, title=False)
    rec = extract(bl, layout)
    assert rec.tables["review_litigation"] == fig.tables["review_litigation"]
    assert "H4" in _errors(rec) and rec.status == "needs_review"  # tables are missing too


@pytest.mark.parametrize("layout", LAYOUTS)
def test_table_three_and_four_without_title_or_table_two(layout: str) -> None:
    """The template is told from table 三's own rows (the 2021 sub-rows of （六）)."""
    fig = R.figures("2021", 4)
    bl = R.only_tables(R.blocks(fig), {"applications", "review_litigation"}, title=False)
    rec = extract(bl, layout)
    assert rec.template == "2021"
    assert rec.tables == {k: fig.tables[k] for k in ("applications", "review_litigation")}
    assert _errors(rec) == ["missing_table"] and rec.status == "needs_review"


def _single(fig: R.Figures) -> dict[str, object]:
    apps = dict(fig.tables["applications"])
    keys = ("other_no_correction", "other_unpaid_fee", "other_other")
    out: dict[str, object] = {}
    for k, v in apps.items():
        if k == "total_processed":
            out["other"] = {c: sum(apps[s][c] for s in keys) for c in v}
        out[k] = dict.fromkeys(v) if k in keys else v
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("style", ["plain", "blank", "thousands"])
def test_single_row_other_in_a_2021_report(layout: str, style: str) -> None:
    fig = R.figures("2021", 2)
    rec = extract(R.single_row_other(R.styled(R.blocks(fig), style), fig), layout)
    assert rec.template == "2021"
    assert rec.tables["applications"] == _single(fig)
    assert list(rec.tables["applications"])[20:25] == [
        "other_no_correction",
        "other_unpaid_fee",
        "other_other",
        "other",
        "total_processed",
    ]
    assert rec.status == "verified", _errors(rec)
    assert [f.severity for f in rec.findings if f.check == "single_row_other"] == ["warning"]


def test_single_row_other_is_checked_by_h2_and_rechecked(tmp_path: Path) -> None:
    fig = R.figures("2021", 2)
    bl = R.single_row_other(R.blocks(fig), fig)
    good = extract(bl, "tab")
    assert recheck_record(good)[0] == "verified"  # `extractor verify` agrees
    apps = next(b for b in bl if b.table == "applications")
    row = next(r for r in apps.rows if "其他处理" in "".join(r))
    row[3] = str(int(row[3]) + 2)  # the group row no longer adds up: H2 and H3 fail
    rec = extract(bl, "tab")
    assert rec.status == "source_inconsistent"
    assert {"H2", "H3"} <= set(_errors(rec))
    json.loads(rec.to_json())
