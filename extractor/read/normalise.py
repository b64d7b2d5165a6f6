"""Stage 2 — normalisation of report text.

Two levels:

* :func:`normalise_text` rewrites the text itself (full-width digits and signs, exotic spaces,
  thousands separators, traditional characters, zero-width junk). Digits are never moved or
  merged: cell boundaries survive.
* :func:`squeeze_for_match` builds the string that labels are matched against: no whitespace,
  one form for brackets, commas, colons and quotes — with a map back to positions in the text,
  so a label broken over lines (``（五）不`` / ``予处理``) still matches.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from typing import Final

#: Written by the HTML/DOCX loaders into grid cells a rowspan/colspan covers: not a cell, not blank.
SPAN: Final = "\ue000"

_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)}
_SPACES = dict.fromkeys(
    ["\u00a0", "\u3000", "\u2002", "\u2003", "\u2009", "\u200a", "\u202f", "\u205f", "\u2007"], " "
)
_DROP = dict.fromkeys(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"], "")
_SIGNS = {"＋": "+", "－": "-", "﹣": "-", "−": "-", "．": ".", "／": "/", "｜": "|", "％": "%"}

# Traditional → simplified, for characters that occur in the table labels and headings (mirrors
# of the national portal publish traditional pages). Not a general converter.
_TRAD = (
    "開开 許许 處处 罰罚 強强 規规 範范 請请 數数 結结 轉转 總总 計计 複复 議议 訟讼 訴诉 "
    "維维 糾纠 審审 資资 國国 機机 關关 務务 類类 權权 過过 現现 製制 補补 確确 繳缴 費费 "
    "為为 發发 廢废 項项 決决 並并 與与 業业 構构 會会 織织 團团 報报 據据 執执 詢询 護护 "
    "險险 穩稳 內内 實实 區区 縣县 鄉乡 鎮镇 況况 門门 網网 單单 萬万 採采 購购 條条 覆复 "
    "讓让 勾勾 稽稽 為为 數数 組组 織织 屬属 靜静 庫库 視视 這这 們们 種种 從从 應应 當当 "
    "舉举 訪访 訴诉 獲获 與与 歸归 檔档 辦办 證证 負负 責责 產产 統统 處处 傳传 進进 "
    "還还 無无 錄录 經经 濟济 體体 對对 將将 後后 時时 間间 點点 頁页 說说 問问 題题 "
    "歷历 張张 紀纪 館馆 價价 級级 隊队 劃划 戰战 幣币 額额 圓圆 壹壹"
)
_TRAD_MAP: Final[dict[str, str]] = {
    pair[0]: pair[1] for pair in _TRAD.split() if len(pair) == 2 and pair[0] != pair[1]
}

_TABLE: Final = str.maketrans({**_FULLWIDTH, **_SPACES, **_DROP, **_SIGNS, **_TRAD_MAP})
_TONES: Final = frozenset("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")
# One scan finds the characters to translate and whether a pinyin gloss may be present.
_NEEDS_TABLE: Final = re.compile("[" + "".join(re.escape(chr(k)) for k in _TABLE) + "".join(_TONES) + "]")
#: (the comma first: the engine scans for it, where a pattern opening with a look-behind is
#: tried at every position: 64 -> 1.5 us a text report)
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?:\D|$))")
_CRLF = re.compile(r"\r\n?")
#: Inline pinyin glosses on mirrored pages: ``規(guī)章`` → ``規章``.
_GLOSS = re.compile(r"(?<=[\u3400-\u9fff])[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,7}[)）]")


def normalise_text(text: str) -> str:
    """Return ``text`` with the spec's character-level noise removed (lengths may change)."""
    text = _CRLF.sub("\n", text)
    found = set(_NEEDS_TABLE.findall(text))
    if found & _TONES:
        text = _GLOSS.sub("", text)
        found -= _TONES
    if len(found) > 12:
        text = text.translate(_TABLE)
    else:  # a few distinct characters: str.replace is far faster than a dict-driven translate
        for ch in found:
            rep = _TABLE[ord(ch)]
            text = text.replace(ch, rep if isinstance(rep, str) else "")
    # "1,234" → "1234" only where the comma groups exactly three digits.
    return _THOUSANDS.sub("", text)


_MATCH_FOLD: Final = str.maketrans(
    {
        "（": "(",
        "）": ")",
        "【": "(",
        "】": ")",
        "〔": "(",
        "〕": ")",
        "［": "(",
        "］": ")",
        "，": ",",
        "、": ",",
        "：": ":",
        "；": ";",
        "“": '"',
        "”": '"',
        "‘": '"',
        "’": '"',
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "'": '"',
        "＂": '"',
        "。": ".",
    }
)


@functools.lru_cache(maxsize=4096)
def fold_for_match(s: str) -> str:
    """Fold a label or pattern the same way :func:`squeeze_for_match` folds text."""
    return _fold("".join(s.split()))


class SqMap:
    """Maps indices of a squeezed string back to offsets in the original text.

    Stored per run of non-space characters (not per character), so building it is cheap.
    """

    __slots__ = ("_sq", "_tx")

    def __init__(self, sq_starts: list[int], tx_starts: list[int]) -> None:
        self._sq = sq_starts
        self._tx = tx_starts

    def __getitem__(self, i: int) -> int:
        k = bisect.bisect_right(self._sq, i) - 1
        return self._tx[k] + (i - self._sq[k])

    def index_at(self, offset: int) -> int:
        """The first squeezed index whose text offset is >= ``offset``."""
        k = bisect.bisect_right(self._tx, offset) - 1
        if k < 0:
            return 0
        run_end = self._sq[k + 1] if k + 1 < len(self._sq) else None
        i = self._sq[k] + (offset - self._tx[k])
        return i if run_end is None or i < run_end else run_end


class SubMap:
    """A :class:`SqMap` restricted to a region: indices and offsets relative to the region."""

    __slots__ = ("_base", "_i0", "_parent")

    def __init__(self, parent: SqMap, i0: int, base: int) -> None:
        self._parent, self._i0, self._base = parent, i0, base

    def __getitem__(self, i: int) -> int:
        return self._parent[self._i0 + i] - self._base

    def index_at(self, offset: int) -> int:
        return self._parent.index_at(self._base + offset) - self._i0


def squeeze_for_match(text: str, start: int = 0, end: int | None = None) -> tuple[str, SqMap]:
    """Squeeze ``text[start:end]`` for label matching.

    Returns the squeezed string and a :class:`SqMap` from its indices to offsets in ``text``.
    Whitespace is removed, punctuation folded (see ``_MATCH_FOLD``).
    """
    end = len(text) if end is None else end
    runs = list(_NONSPACE.finditer(text, start, end))
    tx_starts = [m.start() for m in runs]
    parts = [m.group() for m in runs]
    sq_starts = [0, *itertools.accumulate(map(len, parts))]
    sq_starts.pop()
    return _fold("".join(parts)), SqMap(sq_starts, tx_starts)


def _fold(s: str) -> str:
    for a, b in _FOLD_PAIRS:
        if a in s:
            s = s.replace(a, b)
    return s


_NONSPACE: Final = re.compile(r"\S+")
_FOLD_PAIRS: Final = tuple((chr(k), v) for k, v in _MATCH_FOLD.items() if isinstance(v, str))


CJK = re.compile(r"[\u3400-\u9fff]")


def has_cjk(s: str) -> bool:
    return CJK.search(s) is not None


def edit_distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``cap + 1`` as soon as it must exceed ``cap``."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


def near_in(pattern: str, text: str) -> bool:
    """``pattern`` occurs in ``text`` within a small edit distance (one slip per six characters:
    a character lost, swapped or added). Both already folded."""
    d = max(1, len(pattern) // 6)
    if len(pattern) < 4:
        return False
    for start in range(max(1, len(text) - len(pattern) + d + 1)):
        for size in range(max(1, len(pattern) - d), len(pattern) + d + 1):
            if start + size <= len(text) and edit_distance(pattern, text[start : start + size], d) <= d:
                return True
    return False
