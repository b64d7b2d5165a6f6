"""Page furniture inside tables (page numbers, 第N页 共M页, running titles, （续表）, repeated
header rows) in every layout, on figures of our own."""

from __future__ import annotations

import pytest
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]

from extractor.models import Record
from extractor.read.formats import pdf_to_text
from extractor.tables.furniture import strip_furniture

from . import render as R
from .test_render_matrix import assert_exact, extract


@pytest.mark.parametrize("layout", ["tab", "pipe", "markdown", "lines", "html", "json", "pdf", "docx"])
@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("style", ["plain", "blank"])
def test_furniture_inside_tables_is_ignored(layout: str, template: str, style: str) -> None:
    fig = R.figures(template, 2)
    assert_exact(extract(R.furniture(R.styled(R.blocks(fig), style), fig), layout), fig)


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_pdf_tables_running_over_pages(template: str) -> None:
    """Real page breaks: each page has a footer and a running title, table 三's header repeats."""
    fig = R.figures(template, 3)
    data = R.render_pdf(
        R.styled(R.blocks(fig), "blank"), pagesize=(landscape(A4)[0], 300), footer="第{n}页 共9页"
    )
    text = pdf_to_text(data, "paged.pdf")
    first, last = text.index("本年新收"), text.index("结转下年度继续办理")
    assert "页 共9页" in text[first:last]  # table 三 runs over a page break
    rec = extract_pdf(data)
    assert_exact(rec, fig)


def extract_pdf(data: bytes) -> Record:
    from extractor.pipeline import extract_bytes

    return extract_bytes(data, "paged.pdf", suffix=".pdf")


def test_strip_furniture_keeps_offsets_and_values() -> None:
    text = (
        "某县2021年政府信息公开工作年度报告\n| 申请人情况 | 自然人 |\n"
        "一、本年新收政府信息公开申请数量\t3\t0\n- 2 -\n第 2 页 共 5 页\n"
        "某县2021年政府信息公开工作年度报告\n| （续表） |  |\n| 自然人 | 商业企业 |\n7\n3/9\n二、上年结转\t1"
    )
    out = strip_furniture(text)
    assert len(out) == len(text)
    lines = out.split("\n")
    assert lines[0].startswith("某县")  # the title itself stays
    assert lines[1] == "| 申请人情况 | 自然人 |"  # the header itself stays
    assert lines[2] == "一、本年新收政府信息公开申请数量\t3\t0"
    assert [ln.strip() for ln in lines[3:8]] == ["", "", "", "", ""]
    assert lines[8] == "7"  # a bare number may be a cell (one cell per line): kept
    assert lines[9].strip() == "" and lines[10] == "二、上年结转\t1"
