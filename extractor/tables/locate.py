"""Stage 3 — locate: report metadata, the template, and the text region of each table.

Regions are anchored on strings the national format prints inside the tables (第二十条,
本列数据的勾稽关系, 结转下年度继续办理, …), not on section numbers, which reports renumber.
The template is told from header strings, never from the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from extractor.read.normalise import SqMap, SubMap, fold_for_match, squeeze_for_match
from extractor.spec import TEMPLATE_MARKERS
from extractor.tables.furniture import strip_furniture


@dataclass
class Region:
    start: int
    end: int

    def text(self, doc: str) -> str:
        return doc[self.start : self.end]


@dataclass
class Located:
    agency: str | None
    year: int | None
    template: str | None
    template_evidence: dict[str, list[str]]
    regions: dict[str, Region]
    prose: str
    meta: dict[str, object] = field(default_factory=dict)
    pre_2019: bool = False
    squeezed: tuple[str, SqMap] | None = None

    def prose_squeezed(self) -> str:
        """The squeezed text outside the table regions (cut from the document's squeeze)."""
        if self.squeezed is None:
            return "".join(self.prose.split())
        sq, pos = self.squeezed
        return _outside(sq, [(pos.index_at(r.start), pos.index_at(r.end)) for r in self.regions.values()], "")

    def region_squeeze(self, key: str) -> tuple[str, SubMap] | None:
        """The squeezed text of a region, cut from the document's (no second pass)."""
        if self.squeezed is None or key not in self.regions:
            return None
        sq, pos = self.squeezed
        r = self.regions[key]
        i0, i1 = pos.index_at(r.start), pos.index_at(r.end)
        return sq[i0:i1], SubMap(pos, i0, r.start)


_JUNK_PREFIX: Final = re.compile(r"^(?:正文|标题|首页|当前位置|原标题|文章标题)+")
_TITLE_A: Final = re.compile(
    r"(?P<agency>[\u4e00-\u9fff()]{2,48}?)(?P<year>(?:19|20)\d{2})年度?"
    r"(?:的)?(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?报告"
)
_TITLE_B: Final = re.compile(
    r"(?P<year>(?:19|20)\d{2})年度?(?P<agency>[\u4e00-\u9fff()]{2,48}?)"
    r"(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?报告"
)
_PERIOD: Final = re.compile(r"(?:统计|数据)[^.]{0,24}?(?P<year>(?:19|20)\d{2})年(?:\d{1,2})月(?:\d{1,2})日")
_CRAWLER_HEAD: Final = re.compile(r"^标题:(?P<title>[^\n]+)", re.M)


def _clean_agency(s: str) -> str | None:
    s = _JUNK_PREFIX.sub("", s)
    if s.count("(") != s.count(")"):
        s = s.strip("()")
    s = re.sub(r"^[一二三四五六七八九十]+,", "", s)
    return s if len(s) >= 2 else None


_LINE_LEAD: Final = re.compile(r"^[#*>=|\-—_·.、:：\s]+")
_BAOGAO: Final = re.compile(r"报\s*告")


def _title_then_body(line: str) -> bool:
    """The line's first 报告 (within its first 100 characters) ends a word: a title with the
    body run on after it, not 报告 inside a sentence (…年度报告的编制…)."""
    m = _BAOGAO.search(line, 0, 100)
    return m is not None and (m.end() == len(line) or line[m.end()].isspace())


#: What may follow a title on its line: a site name after a separator (a scraped page's title).
_LINE_TAIL: Final = re.compile(r"(?:[_\-—|｜].{0,40})?")


def _title_on_its_line(text: str) -> tuple[str, int] | None:
    """Agency and year from a line (or two consecutive lines, a title wrapped in a PDF) that
    holds the title and nothing else: a sentence that merely mentions 做好…年度报告 is no title."""
    raw = [line for line in text[:3000].split("\n") if line.strip()][:60]
    line = _LINE_LEAD.sub("", fold_for_match(raw[0])) if raw else ""
    for i in range(len(raw)):  # (each line folded when reached: the title is usually first)
        nxt = _LINE_LEAD.sub("", fold_for_match(raw[i + 1])) if i + 1 < len(raw) else None
        found = _whole_title(line, _title_then_body(raw[i]))
        if found is None and nxt is not None and _whole_title(nxt, True) is None:
            found = _whole_title(line + nxt, _title_then_body(raw[i + 1]))  # wrapped
        if found is not None:
            return found
        line = nxt or ""
    return None


def _whole_title(cand: str, body_follows: bool) -> tuple[str, int] | None:
    """The title that ``cand`` (a folded line) consists of, or starts with when the body follows it."""
    if not cand or (len(cand) > 100 and not body_follows):
        return None
    cand = _LINE_LEAD.sub("", _JUNK_PREFIX.sub("", cand))  # 标题: …, 正文 …
    for rx in (_TITLE_A, _TITLE_B):
        m = rx.match(cand)
        if m is not None and (_LINE_TAIL.fullmatch(cand, m.end()) or body_follows):
            agency = _clean_agency(m.group("agency"))
            if agency is not None and agency not in _NOT_AN_AGENCY:
                return agency, int(m.group("year"))
    return None


#: What the year-first form reads as the agency in a bare ``2021年政府信息公开工作年度报告``.
_NOT_AN_AGENCY: Final = frozenset({"政府", "政务"})


def find_title(text: str, squeezed: str | None = None) -> tuple[str | None, int | None]:
    """Agency and year from the title (``XX2021年政府信息公开工作年度报告`` or year-first).

    The agency is taken only from a title standing on its own line; when none does, the year
    may still come from a title-like phrase, but the agency is left null rather than guessed."""
    on_line = _title_on_its_line(text)
    if on_line is not None:
        return on_line
    return None, _year_of_a_title_phrase(text, squeezed)


def _year_of_a_title_phrase(text: str, squeezed: str | None) -> int | None:
    """The year of the earliest title-like phrase near the start (its agency is not trusted)."""
    m0 = _CRAWLER_HEAD.search(text[:2000])
    heads = [fold_for_match(m0.group("title"))] if m0 else []
    heads.append(squeezed[:600] if squeezed is not None else squeeze_for_match(text[:3000])[0][:600])
    for sq in heads:
        found = [
            m
            for rx in (_TITLE_A, _TITLE_B)
            for m in rx.finditer(sq)
            if _clean_agency(m.group("agency")) is not None
        ]
        if found:
            return int(min(found, key=lambda m: m.start()).group("year"))
    return None


def find_year(text: str, title_year: int | None, squeezed: str | None = None) -> int | None:
    if title_year is not None:
        return title_year
    sq = squeezed if squeezed is not None else squeeze_for_match(text[:8000])[0]
    m = _PERIOD.search(sq[:6000])
    return int(m.group("year")) if m else None


def detect_template(table_text: str) -> tuple[str | None, dict[str, list[str]]]:
    sq = fold_for_match(table_text)
    evidence = {t: [m for m in marks if fold_for_match(m) in sq] for t, marks in TEMPLATE_MARKERS.items()}
    n21, n19 = len(evidence["2021"]), len(evidence["2019"])
    if n21 == 0 and n19 == 0:
        return None, evidence
    return ("2021" if n21 >= n19 else "2019"), evidence


class _Finder:
    """Search folded patterns in the squeezed document and map hits back to text offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sq, self.pos = squeeze_for_match(text)

    def find(self, pattern: str, start: int = 0) -> int:
        """Text offset of the first hit at or after text offset ``start``; -1 if none."""
        i = self.sq.find(fold_for_match(pattern), self._sq_index(start))
        return self.pos[i] if i >= 0 else -1

    def find_any(self, patterns: tuple[str, ...], start: int = 0) -> int:
        hits = [h for h in (self.find(p, start) for p in patterns) if h >= 0]
        return min(hits) if hits else -1

    def _sq_index(self, offset: int) -> int:
        return self.pos.index_at(offset)


T2_ANCHORS: Final = ("第二十条第(一)项", "第二十条第(五)项", "第二十条", "信息内容本年")
T3_ANCHORS: Final = ("本列数据的勾稽关系", "本年新收政府信息公开申请数量", "申请人情况")
T4_ANCHORS: Final = ("行政复议", "结果维持")
END_ANCHORS: Final = ("存在的主要问题", "主要问题", "改进情况", "其他需要报告", "五,政府信息公开工作")


def strip_page_furniture(text: str) -> str:
    """Blank page furniture (page numbers, running titles, repeated headers; same length, so
    offsets stay valid): see :mod:`extractor.tables.furniture`."""
    return strip_furniture(text)


def locate(text: str) -> Located:
    f = _Finder(text)
    agency, title_year = find_title(text, f.sq)
    year = find_year(text, title_year, f.sq)
    regions: dict[str, Region] = {}

    t2 = f.find_any(T2_ANCHORS[:3])
    if t2 < 0:  # some reports drop the 第二十条 block lines: fall back to the header row
        t2 = f.find_any(("信息内容本年制发件数", "信息内容本年新制作数量", "信息内容"))
    t3 = f.find("本列数据的勾稽关系", max(t2, 0))
    if t3 < 0:
        first_row = f.find("本年新收政府信息公开申请数量", max(t2, 0))
        if first_row >= 0:
            head = text.rfind("申请情况", max(0, first_row - 400), first_row)
            t3 = head if head >= 0 else first_row
    t3_rows_end = f.find("结转下年度继续办理", t3) if t3 >= 0 else -1
    if t3_rows_end < 0 and t3 >= 0:
        t3_rows_end = f.find("(七)总计", t3)
    t4 = -1
    if t3_rows_end >= 0:
        t4 = f.find_any(T4_ANCHORS, t3_rows_end)
        if t4 >= 0:
            # back up to the heading that introduces table 四, if it is close
            head = text.rfind("\n", max(t3_rows_end, t4 - 60), t4)
            t4 = head + 1 if head >= 0 else t4
    else:
        t4 = _standalone_review(text, f, max(t2, t3, 0))
    if t2 >= 0:
        end2 = t3 if t3 > t2 else f.find_any(("收到和处理政府信息公开申请情况",), t2)
        heading = f.find_any(("三,收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请情况"), t2)
        if t2 < heading < end2:  # stop before table 三's heading, not at its first header cell
            end2 = heading
        regions["active_disclosure"] = Region(t2, end2 if end2 > t2 else min(len(text), t2 + 4000))
    if t3 >= 0:
        end3 = t4 if t4 > t3 else f.find_any(END_ANCHORS, t3)
        regions["applications"] = Region(t3, end3 if end3 > t3 else min(len(text), t3 + 12000))
    if t4 >= 0:
        end4 = f.find_any(END_ANCHORS, t4 + 1)
        end4 = end4 if end4 > t4 else len(text)
        regions["review_litigation"] = Region(t4, min(end4, t4 + 6000))

    table_text = "".join(r.text(text) for r in regions.values())
    template, evidence = detect_template(table_text)
    prose = _prose(text, regions)
    old_format = bool(_OLD_FORMAT.search(f.sq)) and not regions
    pre_2019 = template is None and ((year is not None and year < 2019) or old_format)
    meta = describe_agency(agency, text, f.sq)
    located = Located(agency, year, template, evidence, regions, prose, meta, pre_2019)
    located.squeezed = (f.sq, f.pos)
    return located


def _standalone_review(text: str, f: _Finder, start: int) -> int:
    """Table 四 without a table 三 before it (an excerpt, a flipbook page): anchored on its own
    header cell 结果维持 (prose says 行政复议, never 结果维持), backed up to the 行政复议 cell."""
    k = f.find("结果维持", start)
    if k < 0:
        return -1
    head = f.find("行政复议", max(start, k - 300))
    head = head if 0 <= head < k else k
    line = text.rfind("\n", 0, head)
    return line + 1


def _prose(text: str, regions: dict[str, Region]) -> str:
    if not regions:
        return text
    return _outside(text, [(r.start, r.end) for r in regions.values()], "\n")


def _outside(s: str, spans: list[tuple[int, int]], sep: str) -> str:
    """``s`` with the (possibly overlapping) spans cut out, the pieces joined by ``sep``."""
    out, cur = [], 0
    for start, end in sorted(spans):
        if start > cur:
            out.append(s[cur:start])
        cur = max(cur, end)
    out.append(s[cur:])
    return sep.join(out)


# Statistics of the 2008–2018 formats (2014-era tables and local variants).
_OLD_FORMAT: Final = re.compile(
    r"主动公开政府信息(?:数|条数)|依申请公开(?:政府)?信息情况统计|政府信息公开申请(?:数|总数)|"
    r"申请公开政府信息的收费|因政府信息公开申请行政复议(?:数|件数)|公开政府信息(?:数|条数)"
)
_NO_APPLICATIONS: Final = re.compile(
    r"[^.。;；]{0,30}(?:未收到|没有收到|无)[^.。;；]{0,12}(?:政府信息公开|依申请公开)?申请[^.。;；]{0,20}"
)
_NO_REVIEW: Final = re.compile(
    r"[^.。;；]{0,30}(?:未|没有|无)[^.。;；]{0,10}(?:行政复议|行政诉讼)[^.。;；]{0,30}"
)


def prose_evidence(prose: str, table: str) -> str | None:
    """A sentence of the prose that says a missing table would be empty (never used as data)."""
    sq = fold_for_match(prose)
    rx = _NO_APPLICATIONS if table == "applications" else _NO_REVIEW if table == "review_litigation" else None
    if rx is None:
        return None
    m = rx.search(sq)
    return m.group(0) if m else None


_LEVELS: Final = (
    ("国务院部门", re.compile(r"^(?:国家|中国|国务院|海关总署|.*?部$)")),
    ("乡镇街道", re.compile(r"(?:乡|镇|街道|街道办事处)(?:人民政府)?$|街道")),
    ("县", re.compile(r"县|旗|区(?!域)")),
    ("市", re.compile(r"市|州|盟")),
    ("省", re.compile(r"省|自治区")),
)
_GOVERNMENT: Final = re.compile(
    r"(?:人民政府|人民政府办公室|人民政府办公厅|管委会|管理委员会|实验区|行政公署)$"
)
_AGGREGATE: Final = re.compile(r"全(?:省|市|区|县|旗|州|镇|乡)(?:[^。\n]{0,12})(?:共|收到|主动公开|汇总)")


def describe_agency(agency: str | None, text: str, squeezed: str | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"level": None, "kind": None, "aggregate": False}
    if agency:
        for level, rx in _LEVELS:
            if rx.search(agency):
                meta["level"] = level
                break
        meta["kind"] = "government" if _GOVERNMENT.search(agency) else "department"
    sq = squeezed if squeezed is not None else squeeze_for_match(text[:20000])[0]
    meta["aggregate"] = bool(_AGGREGATE.search(sq[:20000]))
    return meta
