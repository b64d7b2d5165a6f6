"""The verifier: pure, offline, and strict about numbers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from extractor.pipeline import extract_bytes

from .helpers import relayout, seed, to_html

FORBIDDEN = {"openai", "instructor", "diskcache", "httpx", "requests", "tenacity"}


def test_importing_verify_loads_no_llm_or_cache_module() -> None:
    code = (
        "import sys, extractor.check.verify; "
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r}); print(bad)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def _break(text: str, label: str, new_row: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if label in line:
            lines[i] = line.split("\t")[0] + new_row
            return "\n".join(lines)
    raise AssertionError(label)


def test_report_with_wrong_arithmetic_is_source_inconsistent() -> None:
    text = seed("000").read_text(encoding="utf-8")
    # 5 received, but nothing processed or carried forward: H1 fails, numbers kept as printed.
    bad = _break(text, "一、本年新收", "\t\t5\t0\t0\t0\t0\t0\t5")
    rec = extract_bytes(bad.encode(), "bad.txt", suffix=".txt")
    assert rec.status == "source_inconsistent"
    assert rec.tables["applications"]["new_received"]["natural_person"] == 5
    h1 = [f for f in rec.findings if f.check == "H1"]
    assert {f.column for f in h1} == {"natural_person", "total"}
    assert h1[0].expected == 5 and h1[0].actual == 0


def test_row_sum_failure_is_h3() -> None:
    text = seed("000").read_text(encoding="utf-8")
    bad = _break(text, "二、上年结转", "\t\t1\t0\t0\t0\t0\t0\t2")
    rec = extract_bytes(bad.encode(), "bad.txt", suffix=".txt")
    assert rec.status == "source_inconsistent"
    assert any(f.check == "H3" and f.row == "carried_over" for f in rec.findings)


def test_prose_disagreement_is_a_warning_only() -> None:
    text = seed("000").read_text(encoding="utf-8") + "\n本年共收到政府信息公开申请3件。\n"
    rec = extract_bytes(text.encode(), "s4.txt", suffix=".txt")
    assert rec.status == "verified"
    s4 = [f for f in rec.findings if f.check == "S4"]
    assert s4 and s4[0].severity == "warning" and s4[0].expected == 3


def test_pre_2019_report_is_unsupported() -> None:
    text = (
        "某县人民政府2017年政府信息公开工作年度报告\n一、概述\n二、主动公开政府信息情况\n"
        "本年度主动公开政府信息数1234条。\n三、依申请公开政府信息情况统计\n收到申请12件。\n"
    )
    rec = extract_bytes(text.encode(), "old.txt", suffix=".txt")
    assert rec.status == "unsupported_template" and rec.year == 2017 and rec.tables == {}
    undated = text.replace("2017年", "")
    rec2 = extract_bytes(undated.encode(), "old2.txt", suffix=".txt")
    assert rec2.status == "unsupported_template" and rec2.year is None
    assert "None" not in rec2.findings[0].message and "pre-2019 format" in rec2.findings[0].message


def test_table_replaced_by_prose_is_not_filled_in() -> None:
    text = seed("000").read_text(encoding="utf-8")
    start = text.index("三、收到和处理政府信息公开申请情况")
    end = text.index("五、存在的主要问题")
    prose = (
        "三、收到和处理政府信息公开申请情况\n本年度未收到政府信息公开申请。\n"
        "四、行政复议\n未发生行政复议、行政诉讼情况。\n"
    )
    rec = extract_bytes((text[:start] + prose + text[end:]).encode(), "p.txt", suffix=".txt")
    assert rec.status == "needs_review"
    assert "applications" not in rec.tables
    said = [f for f in rec.findings if f.check == "prose" and f.table == "applications"]
    assert said and "未收到政府信息公开申请" in said[0].message


def test_cross_year_checks_s1_and_s6() -> None:
    from extractor.check.verify import YearTables, cross_checks

    a = extract_bytes(seed("001").read_text(encoding="utf-8").encode(), "2021.txt", suffix=".txt")
    apps = {k: dict(v) for k, v in a.tables["applications"].items()}
    apps["carried_over"] = {**apps["carried_over"], "natural_person": 3, "total": 3}
    later = {**a.tables, "applications": apps}
    found = cross_checks(
        [
            YearTables("2021.txt", "某局", 2021, a.tables),
            YearTables("2022.txt", "某局", 2022, later),
            YearTables("other.txt", "别的局", 2022, a.tables),
        ]
    )
    assert set(found) == {"2022.txt"}
    checks = {(f.check, f.table, f.column) for f in found["2022.txt"]}
    assert ("S1", "applications", "natural_person") in checks
    assert ("S6", "active_disclosure", None) in checks  # 行政许可 957, 行政处罚 54 copied
    assert all(f.severity == "warning" for f in found["2022.txt"])


def test_status_follows_what_each_check_means_not_its_name() -> None:
    from extractor.check.verify import status_of
    from extractor.models import Finding

    h1 = Finding(check="H1", severity="error", message="一+二 ≠ 七+四")
    h5 = Finding(check="H5", severity="error", message="a cell is negative")
    h4 = Finding(check="H4", severity="error", message="总计 ≠ sum")
    hint = Finding(check="header", severity="error", message="a check whose name starts with h")
    assert status_of([h1, h5]) == "needs_review"  # a misread value: the identities prove nothing
    assert status_of([h5]) == "needs_review"
    assert status_of([h1, h4]) == "source_inconsistent"
    assert status_of([h4, hint]) == "needs_review"
    assert status_of([Finding(check="S4", severity="warning", message="prose")]) == "verified"


_T4_ZEROS = "\t".join(["0"] * 15)
_T4_BROKEN = "\t".join(["10", "1", "0", "0", "0"] + ["0"] * 10)


@pytest.mark.parametrize("layout", ["tab", "pipe", "lines", "spaces", "html"])
def test_table_four_breaking_its_own_totals_is_source_inconsistent(layout: str) -> None:
    text = seed("000").read_text(encoding="utf-8")
    assert _T4_ZEROS in text
    bad = text.replace(_T4_ZEROS, _T4_BROKEN)
    if layout == "html":
        data, suffix = to_html(bad).encode(), ".html"
    else:
        data, suffix = (bad if layout == "tab" else relayout(bad, layout)).encode(), ".txt"
    rec = extract_bytes(data, f"t4.{suffix}", suffix=suffix)
    assert rec.status == "source_inconsistent", [f.message for f in rec.findings if f.severity == "error"]
    assert rec.tables["review_litigation"]["review"] == {
        "upheld": 10,
        "corrected": 1,
        "other": 0,
        "pending": 0,
        "total": 0,
    }
    assert [f.check for f in rec.findings if f.severity == "error"] == ["H4"]


def test_empty_header_cells_of_table_four_are_not_data_cells() -> None:
    """The tab header above table 四's data row has 14 empty cells; a run-together data row must
    not be fitted into them (it once came out as one 15-digit 总计 beside 14 zeros)."""
    text = seed("000").read_text(encoding="utf-8")
    rec = extract_bytes(text.replace(_T4_ZEROS, "101000000000000").encode(), "t4.txt", suffix=".txt")
    values = [v for g in rec.tables["review_litigation"].values() for v in g.values()]
    assert values == [None] * 15
    assert rec.status == "needs_review"
