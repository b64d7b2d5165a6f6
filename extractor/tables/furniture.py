"""Page furniture inside tables: page numbers, ``第N页 共M页``, running titles, ``（续表）`` and
header rows a PDF (or its markdown/DOCX conversion) repeats on every page.

Furniture lines are blanked with spaces of the same length, so every offset into the text (label
spans, cell evidence) stays valid. Only lines whose whole content is furniture are touched; a
line holding a value is never blanked. A bare number alone on a line is *not* treated as a page
number: in one-cell-per-line text it is a cell.
"""

from __future__ import annotations

import re
from typing import Final

_PAGE: Final = re.compile(
    r"[-—–－]{1,2}\d{1,3}[-—–－]{1,2}"  # - 4 -   —4—
    r"|第\d{1,3}页(?:[,，/]?共\d{1,3}页)?|共\d{1,3}页(?:[,，/]?第\d{1,3}页)?"  # 第2页 共5页
    r"|\d{1,3}/\d{1,3}|page\d{1,3}(?:of\d{1,3})?|[(（]?续(?:上)?表[)）]?"
)
_TITLE: Final = re.compile(
    r"[\u4e00-\u9fff()（）]{2,48}?(?:19|20)\d{2}年度?(?:的)?(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?报告"
    r"|(?:19|20)\d{2}年度?[\u4e00-\u9fff()（）]{2,48}?(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?报告"
)
_T3_HEAD: Final = (
    "自然人",
    "法人或其他组织",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "申请人情况",
)
_T4_HEAD: Final = ("结果维持", "结果纠正", "其他结果", "尚未审结", "未经复议直接起诉", "复议后起诉")
_DIGIT: Final = re.compile(r"\d")
#: A character of every table 三/四 header word, of 本列数据的勾稽关系 and of 本年新收.
_HEAD_CHARS: Final = frozenset("自法商科社申结尚未复勾收")


def _content(line: str) -> str:
    """The line without its layout (whitespace, ``|``, span marks)."""
    c = "".join(line.split())  # (str.split's whitespace is the regex \s)
    if "|" in c:
        c = c.replace("|", "")
    return c.replace("\ue000", "") if "\ue000" in c else c


def _words(content: str, words: tuple[str, ...]) -> int:
    return sum(w in content for w in words)


#: The first character of anything ``_PAGE`` matches (a number first only in ``3/9``).
_PAGE_START: Final = frozenset("-—–－第共pP(（续")


#: Layout inside a line: every whitespace character but the line break (str.isspace's set,
#: as one character class: fast), ``|`` and span marks.
_GAP: Final = "[\t\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000|\ue000]*"
#: A character every form of ``_PAGE`` holds: only lines holding one may be a page mark.
_PAGE_CHAR: Final = re.compile("[-—–－第共pP续/]")
_AFTER_GAO: Final = re.compile(_GAP + r"(?:\n|$)")


def _page_line() -> re.Pattern[str]:
    """A whole line that is a page mark: ``_PAGE.fullmatch`` of its content lower-cased, with
    layout allowed after every character (as :func:`_content` removes it). The length bound
    of :func:`_page_mark` holds for every form (the longest is 12 characters)."""
    g = _GAP + "+"  # possessive: no form starts with layout, so giving some back never helps
    d = rf"\d{g}(?:\d{g}){{0,2}}"  # \d{1,3}
    dash = rf"[-—–－]{g}(?:[-—–－]{g})?"  # [-—–－]{1,2}
    forms = (
        f"{dash}{d}{dash}",
        f"第{g}{d}页{g}(?:(?:[,，/]{g})?共{g}{d}页{g})?",
        f"共{g}{d}页{g}(?:(?:[,，/]{g})?第{g}{d}页{g})?",
        f"{d}/{g}{d}",
        f"[pP]{g}[aA]{g}[gG]{g}[eE]{g}{d}(?:[oO]{g}[fF]{g}{d})?",
        f"(?:[(（]{g})?续{g}(?:上{g})?表{g}(?:[)）]{g})?",
    )
    return re.compile(f"{g}(?:{'|'.join(forms)})(?=\\n|\\Z)")


#: A page-mark line; searched as the line break before it (a literal first character is found
#: by the regex engine's fast scan, where a pattern opening with ``^`` is tried at every position).
_PAGE_LINE: Final = _page_line()
_PAGE_AFTER_BREAK: Final = re.compile(f"\\n({_PAGE_LINE.pattern})")


def strip_furniture(text: str) -> str:
    """``text`` with its furniture lines blanked (same length)."""
    if _headers_may_repeat(text):
        return _line_pass(text)
    # Only page marks and later copies of the title can be furniture: look at those lines only.
    blanked = [m.span(1) for m in _PAGE_AFTER_BREAK.finditer(text)]
    if (first := _PAGE_LINE.match(text)) is not None:  # the first line has no break before it
        blanked.append(first.span())
    title_seen = False
    at = text.find("告")
    while at >= 0:  # a line whose content ends with 报告 (a title, maybe)
        if _AFTER_GAO.match(text, at + 1):
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            c = _content(text[start : len(text) if end < 0 else end])
            stop = len(text) if end < 0 else end
            if len(c) <= 80 and c.endswith("报告") and _TITLE.fullmatch(c):
                if title_seen:
                    blanked.append((start, stop))
                title_seen = True  # the first is the report's title
            elif c and (above := _wrapped_title_at(text, start)):
                if title_seen:
                    blanked.extend([*above, (start, stop)])
                title_seen = True
        at = text.find("告", at + 1)
    if not blanked:
        return text
    blanked.sort()
    out, cur = [], 0
    for start, end in blanked:
        out += [text[cur:start], " " * (end - start)]
        cur = end
    out.append(text[cur:])
    return "".join(out)


def _wrapped_title(lines: list[str], i: int) -> list[int]:
    """The lines above ``lines[i]`` (up to five) that, with it, print the report's title wrapped
    in a narrow column (``测试县人民政府2022`` / ``年政府信息公开工作`` / ``年度报告``)."""
    joined, above = _content(lines[i]), list[int]()
    for k in range(i - 1, max(i - 1 - _TITLE_LINES, -1), -1):
        c = _content(lines[k])
        if not c or len(c) > 24 or "|" in lines[k]:
            return []
        joined, above = c + joined, [k, *above]
        if len(joined) <= 80 and _TITLE.fullmatch(joined):
            return above
    return []


_TITLE_LINES: Final = 5


def _wrapped_title_at(text: str, start: int) -> list[tuple[int, int]]:
    """:func:`_wrapped_title` for the line starting at ``start``: the (start, end) of the lines above."""
    lo = start
    for _ in range(_TITLE_LINES):
        if lo == 0:
            break
        lo = text.rfind("\n", 0, lo - 1) + 1
    lines = text[lo:start].split("\n")[:-1]
    if not lines:
        return []
    here = text[start : (e if (e := text.find("\n", start)) >= 0 else len(text))]
    got = _wrapped_title([*lines, here], len(lines))
    offsets, at = [], lo
    for line in lines:
        offsets.append((at, at + len(line)))
        at += len(line) + 1
    return [offsets[k] for k in got]


def _page_mark(c: str) -> bool:
    return (
        len(c) <= 16
        and (c[0] in _PAGE_START or (c[0].isdigit() and "/" in c))
        and _PAGE.fullmatch(c.lower()) is not None
    )


def _spread(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``words`` in the raw text, layout (as :func:`_content` removes it, line breaks
    too) allowed between its characters: a match starts where the word starts in the content."""
    return re.compile("|".join("[\\s|\ue000]*+".join(map(re.escape, w)) for w in words))


_NEW_RECEIVED: Final = _spread(("本年新收",))
_T3_WORDS: Final = _spread((*_T3_HEAD, "本列数据的勾稽关系"))
_T4_WORDS: Final = _spread(_T4_HEAD)


def _headers_may_repeat(text: str) -> bool:
    """Whether a table 三 or 四 header row can stand again after its data: in the whole text's
    content, a 三 header word after the first 本年新收, or a 四 header word after a number that
    follows the first 四 header word. When not, no header row is furniture. (Searched in the
    raw text with layout between the characters allowed: the same answer, as the content's
    characters keep their order.)"""
    first = _NEW_RECEIVED.search(text)
    if first is not None and _T3_WORDS.search(text, first.start()) is not None:
        return True
    k = _T4_WORDS.search(text)
    m = _DIGIT.search(text, k.start()) if k is not None else None
    return m is not None and _T4_WORDS.search(text, m.end()) is not None


#: A line of digits and layout alone (``\s`` is str.isspace's set, as ``_content`` removes).
_NUMERIC_LINE: Final = re.compile("[\\d\\s|\ue000]*")


def _line_pass(text: str) -> str:
    """Every line in order, with the header state (repeated header rows)."""
    lines = text.split("\n")
    title_seen = False
    in_t3 = t3_rows = in_t4 = t4_data = False
    changed = False
    digit, numeric = _DIGIT.search, _NUMERIC_LINE.fullmatch
    for i, line in enumerate(lines):
        if numeric(line):  # digits and layout only: no furniture, no header; data if it has a digit
            if in_t4 and digit(line):
                t4_data = True
            continue
        c = _content(line)
        if not c:
            continue
        blank = False
        # (cheap guards before each regex: it is only tried where it can match)
        if _page_mark(c):
            blank = True
        elif len(c) <= 80 and c.endswith("报告") and _TITLE.fullmatch(c):
            blank, title_seen = title_seen, True  # the first is the report's title
        elif c[-1] == "告" and (above := _wrapped_title(lines, i)):
            if title_seen:
                for k in above:
                    lines[k] = " " * len(lines[k])
                blank = changed = True
            title_seen = True
        elif not digit(c):
            if _HEAD_CHARS.isdisjoint(c):  # no header word can be in it
                continue
            t3, t4 = _words(c, _T3_HEAD) >= 2 or "本列数据的勾稽关系" in c, _words(c, _T4_HEAD) >= 2
            blank = (t3 and t3_rows and not in_t4) or (t4 and t4_data)
            in_t3 = in_t3 or t3
            if t4:
                in_t4 = True
        elif in_t4:
            t4_data = True
        if in_t3 and not t3_rows and "本年新收" in c:
            t3_rows = True
        if blank:
            lines[i] = " " * len(line)
            changed = True
    return "\n".join(lines) if changed else text
