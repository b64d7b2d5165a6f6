"""Page furniture inside tables (page numbers, 第N页 共M页, running titles, （续表）, repeated
header rows) in every layout, on figures of our own."""

from __future__ import annotations

import re

import pytest
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]

from extractor.models import Record
from extractor.read.formats import pdf_to_text
from extractor.tables import furniture as F
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


def _old_content(line: str) -> str:
    return re.sub(r"[\s|\ue000]+", "", line)


def _ref_wrapped(lines: list[str], i: int) -> range | None:
    """The one to five lines above ``lines[i]`` that print the title with it (each short)."""
    for n in range(1, 6):
        part = lines[max(i - n, 0) : i + 1]
        contents = [_old_content(x) for x in part]
        if (
            i - n < 0
            or not all(contents)
            or any(len(c) > 24 or "|" in x for c, x in zip(contents, part[:-1], strict=False))
        ):
            return None
        joined = "".join(contents)
        if len(joined) <= 80 and F._TITLE.fullmatch(joined):
            return range(i - n, i)
    return None


def _reference(text: str) -> str:
    """The pass as it was before its cheap guards (same result)."""
    lines = text.split("\n")
    title_seen = False
    in_t3 = t3_rows = in_t4 = t4_data = False
    for i, line in enumerate(lines):
        c = _old_content(line)
        if not c:
            continue
        blank = False
        if len(c) <= 16 and F._PAGE.fullmatch(c.lower()):
            blank = True
        elif len(c) <= 80 and F._TITLE.fullmatch(c):
            blank, title_seen = title_seen, True  # the first is the report's title
        elif c.endswith("告") and (above := _ref_wrapped(lines, i)):
            if title_seen:
                for k in above:
                    lines[k] = " " * len(lines[k])
            blank, title_seen = title_seen, True
        elif not F._DIGIT.search(c):
            t3, t4 = F._words(c, F._T3_HEAD) >= 2 or "本列数据的勾稽关系" in c, F._words(c, F._T4_HEAD) >= 2
            blank = (t3 and t3_rows and not in_t4) or (t4 and t4_data)
            in_t3 = in_t3 or t3
            if t4:
                in_t4 = True
        elif in_t4:
            t4_data = True
        if in_t3 and "本年新收" in c:
            t3_rows = True
        if blank:
            lines[i] = " " * len(line)
    return "\n".join(lines)


def _texts() -> list[str]:
    from extractor.read.load import load_bytes

    from .helpers import CORPUS, SEEDS

    out = [p.read_text(encoding="utf-8") for p in SEEDS]
    out += [
        load_bytes(p.read_bytes(), p.name, suffix=p.suffix).text
        for p in sorted(CORPUS.iterdir())
        if p.suffix in (".txt", ".md", ".html", ".json")
    ]
    for template in ("2019", "2021"):
        fig = R.figures(template, 2)
        for layout in ("tab", "pipe", "markdown", "lines", "html"):
            for bl in (R.blocks(fig), R.furniture(R.styled(R.blocks(fig), "blank"), fig)):
                data = R.render(bl, layout)
                out.append(load_bytes(data, f"x{R.SUFFIX[layout]}", suffix=R.SUFFIX[layout]).text)
    return out


def test_prefiltered_pass_equals_the_line_by_line_pass() -> None:
    spaced = (
        "某县2021年政府信息公开工作年度报告\n| 申请人情况 | 自 然 人 | 商 业 企 业 |\n本 年 新 收\t1\n"
        "P a g e 3\n- 3 -\n某县 2021年政府信息公开工作年度报 告\n自 然 人\t科研机构\n行政复议\n"
        "结果维持\t结果纠正\n12\n- 4 -\n结果维持 | 其他结果\n共2页/第1页\n（续上表）"
    )
    texts = [*_texts(), spaced, spaced.replace("\n12\n", "\n"), "", "报告", "\n\n- 1 -"]
    changed = 0
    for text in texts:
        got = F.strip_furniture(text)
        assert got == _reference(text)
        changed += got != text
    assert changed >= 12  # the comparison covers texts that do hold furniture


@pytest.mark.parametrize("repeat_header", [False, True])
def test_a_running_title_wrapped_in_a_narrow_column_is_furniture(repeat_header: bool) -> None:
    """Layout text of a PDF whose running title stands in a narrow column: the title over
    three or five lines, its year a number the table would otherwise take. Both passes (the
    second runs where a header row may repeat) blank every line of it; the title at the top is
    the report's own; prose ending in 报告 is no title."""
    title = "测试县人民政府2022年政府信息公开工作年度报告"
    head = "申请人情况\t自然人\n本年新收\t1\n自然人\t商业企业\n" if repeat_header else ""
    three = "    测试县人民政府2022\n    年政府信息公开工作\n    年度报告\n"
    five = "    测试县人民\n    政府2022年政\n    府信息公开\n    工作年度报\n    告\n"
    text = (
        f"{title}\n{head}规章\t1\n{three}规范性文件\t2\n{five}行政许可\t3\n现将有关情况报告如下\n特此报告\n"
    )
    got = strip_furniture(text)
    assert len(got) == len(text)
    kept = [line.strip() for line in got.splitlines() if line.strip()]
    assert kept[0] == title and "2022" not in "".join(kept[1:])
    assert kept[-2:] == ["现将有关情况报告如下", "特此报告"]
    assert [x for x in kept if "\t" in x][-3:] == ["规章\t1", "规范性文件\t2", "行政许可\t3"]
    assert got == _reference(text)


def test_page_line_pattern_is_the_content_check() -> None:
    """The one-pass page-mark search over the raw text finds exactly the lines whose content
    (layout removed) :func:`_page_mark` accepts: random lines of page-mark pieces and layout."""
    import random

    from extractor.tables.furniture import _PAGE_LINE, _content, _page_mark

    rng = random.Random(11)
    pieces = ["-", "—", "–", "－", "第", "共", "页", "/", ",", "，", "p", "P", "a", "A", "g", "G", "e", "E"]
    pieces += ["o", "O", "f", "F", "续", "上", "表", "(", "（", ")", "）", "1", "23", "4567", "报", "x"]
    layout = [" ", "\t", "|", "\u3000", "\xa0", "\ue000", "\x0b", ""]
    forms = ["- 4 -", "—12—", "第2页 共5页", "共3页/第1页", "3/9", "Page 2 of 7", "（续表）", "续上表"]
    forms.append("| 第 1 页 |")
    seen = 0
    for _ in range(20000):
        if rng.random() < 0.3:
            line = "".join(ch + rng.choice(layout) for ch in rng.choice(forms))
        else:
            line = "".join(rng.choice(pieces) + rng.choice(layout) for _ in range(rng.randrange(1, 9)))
        expected = bool(_content(line)) and _page_mark(_content(line))
        seen += expected
        assert (_PAGE_LINE.fullmatch(line) is not None) == expected, repr(line)
        gone = " " * len(line) if expected else line
        for text, want in (
            (f"前文\n{line}\n后文", f"前文\n{gone}\n后文"),
            (f"{line}\n{line}\n后文", f"{gone}\n{gone}\n后文"),
            (f"前文\n{line}", f"前文\n{gone}"),
        ):
            assert strip_furniture(text) == want, repr(text)
    assert seen > 3000  # both outcomes are tried often


def _headers_may_repeat_in(joined: str) -> bool:
    """The header test on the content itself (layout removed), as it was first written."""
    first = joined.find("本年新收")
    if first >= 0 and any(joined.find(w, first) >= 0 for w in (*F._T3_HEAD, "本列数据的勾稽关系")):
        return True
    k = min((i for w in F._T4_HEAD if (i := joined.find(w)) >= 0), default=-1)
    m = re.compile(r"\d").search(joined, k) if k >= 0 else None
    return m is not None and any(joined.find(w, m.end()) >= 0 for w in F._T4_HEAD)


def test_header_repeat_search_in_raw_text_is_the_content_search() -> None:
    """The header-repeat test searched in the raw text (layout allowed inside the words) gives
    the answer of the search in the content, on random texts of header words, numbers and layout."""
    import random

    rng = random.Random(12)
    words = [*F._T3_HEAD, *F._T4_HEAD, "本年新收", "本列数据的勾稽关系", "本年", "新收", "1", "23", "结果"]
    layout = [" ", "\n", "\t", "|", "\u3000", "\ue000", " \n ", ""]
    outcomes = set()
    for _ in range(5000):
        text = ""
        for _ in range(rng.randrange(1, 8)):
            w = rng.choice(words)
            if rng.random() < 0.3:  # layout inside the word
                k = rng.randrange(len(w) + 1)
                w = w[:k] + rng.choice(layout) + w[k:]
            text += w + rng.choice(layout)
        expected = _headers_may_repeat_in(F._content(text))
        outcomes.add(expected)
        assert F._headers_may_repeat(text) == expected, repr(text)
    assert outcomes == {True, False}
