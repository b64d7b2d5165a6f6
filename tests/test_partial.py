"""Tables standing alone, and （六）其他处理 printed as one row in a 2021-template report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.models import Record
from extractor.pipeline import Prepared, complete, prepare_bytes
from extractor.run.recheck import recheck_record
from extractor.service.review import ReviewError, ReviewRequest, Source, apply_review, known_cells
from extractor.spec import APPLICATION_ROWS, application_variant

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


def _variant_case(case: str) -> list[R.Block]:
    fig = R.figures("2021" if case in ("2021", "single") else "2019", 2)
    bl = R.blocks(fig)
    if case == "single":
        bl = R.single_row_other(bl, fig)
    if case == "mixed":  # 2019 headers, table 三 printing the 2021 sub-rows of （六）
        t3 = next(b for b in R.blocks(R.figures("2021", 2)) if b.table == "applications")
        bl = [t3 if b.table == "applications" else b for b in bl]
    return bl


@pytest.mark.parametrize(
    ("case", "variant"), [("2019", "2019"), ("2021", "2021"), ("single", "2019"), ("mixed", "2021")]
)
@pytest.mark.parametrize("layout", ("tab", "html"))
def test_variant_decided_once_and_read_back_from_the_rows(case: str, variant: str, layout: str) -> None:
    """Table 三's reader decides its rows; a saved record says the same through its rows, so
    `extractor verify` and a review check what the pipeline checked."""
    prepared = prepare_bytes(R.render(_variant_case(case), layout), "fig.txt", suffix=R.SUFFIX[layout])
    assert isinstance(prepared, Prepared)
    read = prepared.reads["applications"]
    assert read.variant == variant == application_variant(read.values)
    rec = complete(prepared)
    assert application_variant(rec.tables["applications"]) == variant
    status, findings = recheck_record(rec)
    assert status == rec.status
    assert sorted(f.check for f in findings if f.check != "recheck") == sorted(f.check for f in rec.findings)
    cells = known_cells(rec.template or "", variant)["applications"]
    assert set(cells) == {r.key for r in APPLICATION_ROWS[variant]}


def test_a_single_row_other_can_be_reviewed() -> None:
    """Its printed group row is a cell of the record (the 2021 sub-rows, not printed, are not)."""
    rec = complete(prepare_bytes(R.render(_variant_case("single"), "tab"), "fig.txt", suffix=".txt"))
    assert rec.status == "verified", _errors(rec)
    total = rec.tables["applications"]["other"]["total"]
    cell = {"table": "applications", "row": "other", "column": "total", "value": total}
    req = ReviewRequest.model_validate({"reviewer": "r", "reason": "checked", "cells": [cell]})
    new = apply_review(json.loads(rec.to_json()), req, Source(None), at="2026-12-03T00:00:00+00:00")
    assert new["status"] == "reviewed"
    sub = {**cell, "row": "other_other"}
    bad = ReviewRequest.model_validate({"reviewer": "r", "reason": "x", "cells": [sub]})
    with pytest.raises(ReviewError, match="no cell applications/other_other/total"):
        apply_review(json.loads(rec.to_json()), bad, Source(None))
