"""The grid helpers of the rule path (extractor/tables/grid.py) on figures of our own."""

from __future__ import annotations

import re

import pytest

from extractor.read.load import load_bytes
from extractor.tables.grid import review_rows
from extractor.tables.locate import locate

from . import render as R

_DATA_LINE = re.compile(r"\d|(?:^|[\t|])[ \t]*(?:/|-|—|无)[ \t]*(?:[\t|]|$)")


def _rows_line_by_line(region: str) -> tuple[int, int]:
    """review_rows as it was: every line searched on its own."""
    lines = region.split("\n")
    data = [i for i, ln in enumerate(lines) if _DATA_LINE.search(ln)]
    if not data:
        return 0, len(region)
    start, end = data[0], data[-1] + 1
    while start > 0 and not lines[start - 1].strip():
        start -= 1
    while end < len(lines) and not lines[end].strip():
        end += 1
    lo = sum(len(ln) + 1 for ln in lines[:start])
    return lo, lo + sum(len(ln) + 1 for ln in lines[start:end])


@pytest.mark.parametrize("layout", ["tab", "pipe", "markdown", "lines", "html"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_review_rows_equal_the_line_by_line_search(layout: str, template: str) -> None:
    fig = R.figures(template, 2)
    extra = ["", "\n", "abc", "5", "\n\n5\n\n", "x\n\n1\t2\n\n", "1\n", "行政复议\t\t\n\n\t/\t-\n\n五、"]
    for style in R.STYLES:
        data = R.render(R.styled(R.blocks(fig), style), layout)
        text = load_bytes(data, f"x{R.SUFFIX[layout]}", suffix=R.SUFFIX[layout]).text
        for region in [*(r.text(text) for r in locate(text).regions.values()), *extra]:
            assert review_rows(region) == _rows_line_by_line(region)
