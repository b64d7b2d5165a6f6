"""The S4 prose search finds exactly what a plain ``re.search`` finds (it only finds it faster)."""

from __future__ import annotations

import random

from extractor.check.soft import _S4_PATTERNS, _first_match

_PIECES = (
    *"共全年累计新收到申请件个条0123456789，x",
    *("全年", "累计", "收到", "各类", "政府信息公开", "依申请公开", "申请", "行政复议", "案件"),
)


def _same(text: str) -> None:
    for rx, *_, core in _S4_PATTERNS:
        want, got = rx.search(text), _first_match(rx, core, text)
        assert (want is None) == (got is None), text
        if want is not None and got is not None:
            assert (want.span(), want.groups()) == (got.span(), got.groups()), text


def _sentence(rnd: random.Random) -> str:
    """A count sentence as offices print it, with pieces dropped, doubled or noise put between."""
    parts = [
        rnd.choice(("", "共", "全年", "累计", "全", "计", "x")),
        rnd.choice(("", "新")),
        "收到",
        rnd.choice(("", "各类")),
        rnd.choice(("", "政府信息公开", "依申请公开")),
        "申请",
        rnd.choice(("", "共")),
        str(rnd.randint(0, 300)),
        rnd.choice(("件", "个", "条", "")),
    ]
    out = [p for p in parts if rnd.random() > 0.1]
    if rnd.random() < 0.3:
        out.insert(rnd.randrange(len(out) + 1), rnd.choice(_PIECES))
    return "".join(out)


def test_first_match_equals_search_on_random_prose() -> None:
    rnd = random.Random(11)
    found = 0
    for _ in range(3000):
        text = "".join(_sentence(rnd) if rnd.random() < 0.5 else rnd.choice(_PIECES) for _ in range(6))
        found += _S4_PATTERNS[0][0].search(text) is not None
        _same(text)
    assert found > 1000  # the random prose does hold counts to find
    for _ in range(3000):
        _same("".join(rnd.choice(_PIECES) for _ in range(rnd.randint(0, 30))))


def test_first_match_equals_search_on_printed_forms() -> None:
    for text in (
        "全年共收到政府信息公开申请12件，",
        "累计新收到依申请公开申请3个",
        "全年新收到申请5条，新收到申请6件",
        "收到收到申请7件",
        "共收到各类申请共8件",
        "全年x收到申请9件",
        "新新收到申请1件",
        "行政复议案件共4件",
        "收到申请件",
        "",
    ):
        _same(text)
