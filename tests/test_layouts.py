"""One report, many layouts: every rendering must give the same tables as the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.pipeline import extract_bytes, extract_path

from .helpers import relayout, seed, to_html

BASE = seed("000")  # all-zero 2021 seed
RICH = seed("001")  # non-zero cells


def _with_numbers(text: str) -> str:
    """Seed 000 with non-zero, identity-consistent numbers in table 三 and 四."""
    lines = []
    for line in text.splitlines():
        cells = line.split("\t")
        label = "".join(cells[:3])
        if "本年新收" in label:
            line = line.replace("\t0\t0\t0\t0\t0\t0\t0", "\t12\t3\t0\t0\t1\t0\t16")
        elif "予以公开" in label and "部分" not in label:
            line = line.replace("\t0\t0\t0\t0\t0\t0\t0", "\t10\t3\t0\t0\t1\t0\t14")
        elif "(七)总计" in label.replace(" ", ""):
            line = line.replace("\t0\t0\t0\t0\t0\t0\t0", "\t10\t3\t0\t0\t1\t0\t14")
        elif "结转下年度" in label:
            line = line.replace("\t0\t0\t0\t0\t0\t0\t0", "\t2\t0\t0\t0\t0\t0\t2")
        elif line.startswith("0\t0\t0\t0\t0\t0"):
            line = "\t".join(["2", "1", "0", "1", "4", "0", "0", "0", "0", "0", "3", "0", "0", "0", "3"])
        lines.append(line)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def numbered() -> str:
    return _with_numbers(BASE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def expected(numbered: str) -> dict[str, object]:
    rec = extract_bytes(numbered.encode(), "numbered.txt", suffix=".txt")
    assert rec.status == "verified", [f.message for f in rec.findings if f.severity == "error"]
    assert rec.tables["applications"]["new_received"]["total"] == 16
    assert rec.tables["review_litigation"]["litigation_after_review"]["total"] == 3
    return rec.tables


@pytest.mark.parametrize("layout", ["pipe", "lines", "spaces"])
def test_text_layouts(layout: str, numbered: str, expected: dict[str, object]) -> None:
    rec = extract_bytes(relayout(numbered, layout).encode(), f"x.{layout}.txt", suffix=".txt")
    assert rec.tables == expected
    assert rec.status == "verified"


def test_glued_cells_are_split_by_identities(numbered: str, expected: dict[str, object]) -> None:
    rec = extract_bytes(relayout(numbered, "glued").encode(), "glued.txt", suffix=".txt")
    assert rec.tables["applications"] == expected["applications"]  # type: ignore[index]
    assert rec.tables["review_litigation"] == expected["review_litigation"]  # type: ignore[index]
    assert any(f.check == "split" for f in rec.findings)


def test_html_layout(numbered: str, expected: dict[str, object]) -> None:
    rec = extract_bytes(to_html(numbered).encode(), "x.html", suffix=".html")
    assert rec.tables == expected
    assert rec.status == "verified"


def test_html_escaped_in_json_and_js(numbered: str, expected: dict[str, object]) -> None:
    html = to_html(numbered)
    rec = extract_bytes(json.dumps({"data": {"content": html}}).encode(), "x.json", suffix=".json")
    assert rec.tables == expected
    js = "var x = 1;\nlet content = " + json.dumps(html) + ";\n"
    rec = extract_bytes(js.encode(), "x.js", suffix=".js")
    assert rec.tables == expected


def test_gbk_fullwidth_and_traditional(numbered: str, expected: dict[str, object]) -> None:
    fw = numbered.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    fw = fw.replace("申请", "申請").replace("处理", "處理").replace("总计", "總計")
    rec = extract_bytes(fw.encode("gb18030"), "gbk.txt", suffix=".txt")
    assert rec.tables == expected
    assert "decoded as GB18030" in rec.meta.get("notes", [])


def test_nbsp_and_ideographic_spaces(expected: dict[str, object], numbered: str) -> None:
    text = numbered.replace("\t0\t", "\t\u30000\u3000\t").replace("\t1\t", "\t\u00a01\u00a0\t")
    rec = extract_bytes(("\ufeff" + text).encode("utf-8"), "bom.txt", suffix=".txt")
    assert rec.tables == expected


def test_rich_seed_as_html_roundtrip() -> None:
    text = RICH.read_text(encoding="utf-8")
    want = extract_path(RICH).tables
    rec = extract_bytes(to_html(text).encode(), "rich.html", suffix=".html")
    assert rec.tables == want


def test_blank_total_column_is_not_invented(tmp_path: Path) -> None:
    """Only applicant cells printed, 总计 blank: the total stays unread (never derived)."""
    text = BASE.read_text(encoding="utf-8").replace(
        "一、本年新收政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0",
        "一、本年新收政府信息公开申请数量\t\t5\t0\t0\t0\t0\t0\t",
    )
    html = to_html(text)
    rec = extract_bytes(html.encode(), "blank.html", suffix=".html")
    row = rec.tables["applications"]["new_received"]
    assert row["total"] is None
    # The grid row has blank cells at both ends (an empty label column before, two empty cells
    # after): which end is layout cannot be told from the row, so nothing may shift.
    assert row["natural_person"] in (5, None)
    assert all(v in (0, None) for c, v in row.items() if c != "natural_person")
    assert rec.status == "needs_review"
    assert any(f.row == "new_received" and f.severity == "error" for f in rec.findings)


def test_extra_local_row_does_not_leak_into_the_row_above() -> None:
    text = RICH.read_text(encoding="utf-8").replace(
        "行政规范性文件\t0\t0\t0", "行政规范性文件\t0\t0\t0\n其他主动公开文件\t12\t0\t30"
    )
    rec = extract_bytes(text.encode(), "extra.txt", suffix=".txt")
    assert rec.tables["active_disclosure"]["normative_documents"] == {
        "issued": 0,
        "repealed": 0,
        "in_force": 0,
    }
    assert rec.status == "verified"


def test_parenthesised_sub_item_numbers(numbered: str, expected: dict[str, object]) -> None:
    text = numbered
    for i in range(1, 9):
        text = text.replace(f"\t{i}.", f"\t（{i}）")
    rec = extract_bytes(text.encode(), "paren.txt", suffix=".txt")
    assert rec.tables == expected


def test_table_two_without_article_lines(numbered: str, expected: dict[str, object]) -> None:
    text = "\n".join(ln for ln in numbered.splitlines() if not ln.startswith("第二十条"))
    rec = extract_bytes(text.encode(), "no20.txt", suffix=".txt")
    assert rec.tables == expected
