"""The verifier: pure, offline, and strict about numbers."""

from __future__ import annotations

import subprocess
import sys

from extractor.pipeline import extract_bytes

from .helpers import seed

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
    assert extract_bytes(undated.encode(), "old2.txt", suffix=".txt").status == "unsupported_template"


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
