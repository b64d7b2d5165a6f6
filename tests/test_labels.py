"""Misprinted row labels, read by their place in the template (tests/render.py figures)."""

from __future__ import annotations

import pytest

from extractor.tables.labels import near_occurrence

from . import render as R
from .test_render_matrix import assert_exact, extract

LAYOUTS = ("tab", "pipe", "lines", "html", "docx")

# (template, label as the template prints it, the misprint, row key)
MISPRINTS = [
    ("2021", "其他法律行政法规禁止公开", "其他法律行政止公开", "denied_prohibited"),  # 法规禁 lost
    ("2021", "属于行政查询事项", "属于行政查询是项", "denied_inquiry_matters"),  # homophone
    ("2019", "保护第三方合法权益", "保护第三方法合权益", "denied_third_party"),  # swapped
    ("2019", "重复申请", "重复的申请", "rejected_repeated"),  # a character added
    ("2021", "属于国家秘密", "屬於國家祕密", "denied_state_secret"),  # traditional, 於 祕 unmapped
    ("2021", "行政处罚", "行政处法", "punishment"),  # table 二, homophone
    ("2019", "其他对外管理服务事项", "其它对外管理服务事", "other_services"),  # table 二
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("template", "label", "misprint", "row"), MISPRINTS)
def test_misprinted_label_between_found_rows_is_that_row(
    template: str, label: str, misprint: str, row: str, layout: str
) -> None:
    fig = R.figures(template, 2)
    rec = extract(R.relabel(R.styled(R.blocks(fig), "blank"), label, misprint), layout)
    assert_exact(rec, fig)
    found = [f for f in rec.findings if f.check == "label" and f.row == row]
    assert len(found) == 1 and found[0].severity == "warning"
    assert misprint.replace("屬於國", "属於国") in str(found[0].actual)  # 屬 國 the loader maps
    assert label in found[0].message


@pytest.mark.parametrize("layout", ["tab", "markdown", "lines", "json"])
def test_pinyin_glosses_are_dropped(layout: str) -> None:
    fig = R.figures("2021", 5)
    bl = R.relabel(R.blocks(fig), "规章", "規(guī)章")
    bl = R.relabel(bl, "行政处罚", "行政處(chǔ)罰(fá)")
    assert_exact(extract(bl, layout), fig)


@pytest.mark.parametrize("layout", ["tab", "pipe", "lines"])
def test_near_miss_is_never_matched_out_of_order(layout: str) -> None:
    """Row 2.其他法律行政法规禁止公开 deleted; the misprint stands in the prose after the table:
    outside the row's window, so the row stays missing and nothing is read for it."""
    fig = R.figures("2021", 2)
    bl = R.blocks(fig)
    apps = next(b for b in bl if b.table == "applications")
    i = next(i for i, r in enumerate(apps.rows) if "禁止公开" in "".join(r))
    del apps.rows[i], apps.data[i]
    prose = next(b for b in bl if b.text.startswith("公开内容"))
    prose.text += "其他法律行政止公开的申请0件。"
    rec = extract(bl, layout)
    assert set(rec.tables["applications"]["denied_prohibited"].values()) == {None}
    assert any(
        f.check == "label" and f.row == "denied_prohibited" and f.severity == "error" for f in rec.findings
    )
    assert rec.status == "needs_review"


def test_near_occurrence_bounds() -> None:
    text = "属于国家秘密000其他法律行政止公开000危及"
    hit = near_occurrence(text, "其他法律行政法规禁止公开", 6, len(text) - 2)
    assert hit is not None and text[hit[0] : hit[1]] == "其他法律行政止公开" and hit[2] == 3
    assert near_occurrence(text, "其他法律行政法规禁止公开", 0, 6) is None  # not in the window
    assert near_occurrence("规范性文件", "规章", 0, 5) is None  # short labels: exact only
