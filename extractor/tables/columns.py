"""The column order of tables 三 and 四, established from the header text the source prints.

The national format fixes the order (自然人 … 总计; 结果维持 … 总计), and almost every report
keeps it. When a report's header prints every column label but in another order, the cells
are read in the printed order; the order never comes from a model's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from extractor.read.normalise import fold_for_match
from extractor.spec import APPLICANT_COLUMN_LABELS, REVIEW_COLUMN_LABELS

#: Header text that contains a column label without being that column.
_MASKS: Final[dict[str, tuple[str, ...]]] = {
    "applications": ("法人或其他组织", "其他组织"),
    "review_litigation": (),
}
#: Group headings: a line holding one is a multi-level header linearised (rowspan cells and
#: their sub-columns in reading order), whose order says nothing about the columns.
_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "applications": ("申请人情况", "法人或其他组织"),
    "review_litigation": ("行政复议", "行政诉讼", "未经复议", "复议后起诉"),
}
_LABELS: Final[dict[str, Mapping[str, str]]] = {
    "applications": APPLICANT_COLUMN_LABELS,
    "review_litigation": REVIEW_COLUMN_LABELS,
}


#: The labels as the national format prints them (simplified, half-width).
_RAW: Final = {t: tuple(labels.values()) for t, labels in _LABELS.items()}


def _line_positions(table: str, line: str) -> dict[str, int]:
    sq = fold_for_match(line)
    for m in _MASKS[table]:
        f = fold_for_match(m)
        sq = sq.replace(f, "#" * len(f))
    pos: dict[str, int] = {}
    for col, label in _LABELS[table].items():
        i = sq.find(fold_for_match(label))
        if i >= 0:
            pos[col] = i
    return pos


def printed_order(table: str, header: str) -> tuple[str, ...] | None:
    """The columns in the order the header prints them, when that is not the template's.

    Only labels printed on one line say anything about their order (a multi-level header
    prints 自然人 and 总计 on other lines than the organisations, in rowspan cells): the labels
    of such a line keep their template slots among themselves, taken in the printed order."""
    template = list(_LABELS[table])
    order = list(template)
    placed: set[str] = set()
    raw = _RAW[table]
    for line in header.split("\n"):
        if sum(label in line for label in raw) < 2:
            continue  # (cheap pre-check on the printed line; folding is the slow part)
        folded = fold_for_match(line)
        if any(fold_for_match(g) in folded for g in _GROUPS[table]):
            continue
        pos = {c: i for c, i in _line_positions(table, line).items() if c not in placed}
        if len(pos) < 2:
            continue
        slots = sorted(template.index(c) for c in pos)
        for slot, col in zip(slots, sorted(pos, key=lambda c: pos[c]), strict=True):
            order[slot] = col
        placed |= set(pos)
    return None if order == template else tuple(order)
