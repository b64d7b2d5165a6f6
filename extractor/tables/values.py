"""A cell's printed text → its value: whole numbers and decimals as printed, markers (``/``,
``—``, ``无`` …) kept as text, a blank as None; money in 万元 turned into 元 where asked."""

from __future__ import annotations

import re
from typing import Final

from extractor.models import CellValue

MARKERS: Final = frozenset({"/", "-", "--", "—", "——", "–", "无", "\\", "/ ", "-/-"})

_VALUE: Final = re.compile(r"([+\-]?)(\d+)(\.\d+)?(万元|元|万|件|个|项|次|条|宗)?")


def to_value(text: str, *, money_yuan: bool = False) -> CellValue:
    """A cell text → its value: int/float as printed, a marker string, or None for blank."""
    t = text.strip()
    if not t:
        return None
    if t in MARKERS:
        return t
    if t.isascii() and t.isdigit():
        return int(t)
    m = _VALUE.fullmatch(t)
    if m is None:
        return None
    sign, digits, frac, unit = m.groups()
    number: int | float = float(f"{digits}{frac}") if frac else int(digits)
    if money_yuan and unit in ("万元", "万"):
        number = round(float(number) * 10000, 6)
        if number == int(number):
            number = int(number)
    return -number if sign == "-" else number


def as_int(text: str) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text)
    v = to_value(text)
    if v is None:
        return 0 if not text.strip() else None
    if isinstance(v, str):
        return 0
    return int(v) if isinstance(v, int) or float(v).is_integer() else None
