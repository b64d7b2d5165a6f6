"""The agency comes from a title standing on its own line, never from a sentence that mentions one."""

from __future__ import annotations

import pytest

from extractor.api import extract_text
from extractor.tables.locate import find_title

from .helpers import seed

TITLE = "某某县市场监督管理局2021年政府信息公开工作年度报告"
SPAM = "各单位要认真做好2021年政府信息公开工作年度报告的编制和发布工作，按时报送。"


@pytest.mark.parametrize(
    ("text", "agency", "year"),
    [
        (f"{TITLE}\n\n一、总体情况\n", "某某县市场监督管理局", 2021),
        (f"# {TITLE}\n\n## 一、总体情况\n", "某某县市场监督管理局", 2021),  # markdown heading
        (f"  {TITLE}  \n正文", "某某县市场监督管理局", 2021),
        ("某某县市场监督管理局\n2021年政府信息公开工作年度报告\n一、总体情况", "某某县市场监督管理局", 2021),
        (f"{TITLE}_某某县人民政府网\n", "某某县市场监督管理局", 2021),  # a scraped page's title
        (
            f"{TITLE} 根据《中华人民共和国政府信息公开条例》要求，现公布本年度报告。",
            "某某县市场监督管理局",
            2021,
        ),
        (f"标题: {TITLE}\n发布时间: 2022-01-20\n", "某某县市场监督管理局", 2021),
        (f"{SPAM}\n{TITLE}\n一、总体情况", "某某县市场监督管理局", 2021),  # spam first, then the title
        (
            "前言\n框内\n\n某某县市场监督管理局\n\n2021 年政府信息公开工作年度报告\n",
            "某某县市场监督管理局",
            2021,
        ),
        ("2021年政府信息公开工作年度报告\n一、总体情况\n", None, 2021),  # no agency printed: none
        (f"{SPAM}\n一、总体情况\n", None, 2021),  # only the sentence: no agency is guessed
        (f"首页 通知 {SPAM}\n", None, 2021),
    ],
    ids=[
        *("plain", "markdown", "padded", "wrapped", "site-suffix", "body-runs-on", "crawler"),
        *("spam-then-title", "frame-text-then-wrapped", "no-agency", "spam-only", "spam-in-line"),
    ],
)
def test_agency_only_from_a_title_line(text: str, agency: str | None, year: int) -> None:
    assert find_title(text) == (agency, year)


def test_a_report_behind_spam_keeps_its_agency_and_a_titleless_one_gets_none() -> None:
    body = seed("001").read_text(encoding="utf-8")
    rest = "\n".join(line for line in body.split("\n") if "工作年度报告" not in line)  # its title gone
    rec = extract_text(f"{SPAM}\n{body}", "spam_first.txt")
    assert rec.agency == extract_text(body, "plain.txt").agency is not None
    untitled = extract_text(f"{SPAM}\n{rest}", "untitled.txt")
    assert untitled.agency is None and untitled.year is not None
