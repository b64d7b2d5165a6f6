"""The C-speed shortcuts in the rule path give the answers of the plain forms they replace."""

from __future__ import annotations

import random

from extractor.tables.atoms import Atom
from extractor.tables.cells import _well_formed


def _well_formed_by_cell(items: list[Atom]) -> bool:
    """Every item a well-formed cell other than a blank, one cell at a time."""
    return all(a.kind != "blank" and a.valid_single for a in items)


def test_well_formed_shortcut_is_the_cell_by_cell_answer() -> None:
    rng = random.Random(7)
    numbers = ["0", "00", "01", "7", "10", "123", "1,234", "1.5", "2万元"]
    markers = ["-", "无", "/", "——"]
    outcomes = set()
    for _ in range(20000):
        items = []
        for _ in range(rng.randrange(0, 8)):
            kind = rng.choice(("num", "num", "num", "num", "blank", "marker"))
            text = rng.choice({"blank": [""], "num": numbers, "marker": markers}[kind])
            items.append(Atom(kind, text, 0, len(text)))
        want = _well_formed_by_cell(items)
        outcomes.add(want)
        assert _well_formed(items) == want, items
    assert outcomes == {True, False}


def test_thousands_separator_search_is_the_look_behind_form() -> None:
    """The comma-first pattern removes exactly the commas the look-behind form did."""
    import re

    from extractor.read.normalise import _THOUSANDS, normalise_text

    look_behind = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
    rng = random.Random(8)
    changed = 0
    for _ in range(20000):
        s = "".join(rng.choice("0123456789,，a \n") for _ in range(rng.randrange(0, 24)))
        want = look_behind.sub("", s)
        changed += want != s
        assert _THOUSANDS.sub("", s) == want, s
    assert changed > 500  # the comma rule applies often
    assert normalise_text("共1,234,567件，2,34 与 1,2345") == "共1234567件，2,34 与 1,2345"


def test_str_split_whitespace_is_the_regex_whitespace() -> None:
    """The squeezes that drop whitespace with str.split (grounding, S4) remove what ``\\s+`` did,
    over every character of the Basic Multilingual Plane that either calls whitespace."""
    import re

    from extractor.check.verify import _grounding_text

    every = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
    spaces = [ch for ch in every if ch.isspace() or re.fullmatch(r"\s", ch)]
    assert len(spaces) > 20
    rng = random.Random(4)
    for _ in range(5000):
        s = "".join(rng.choice([*spaces, "1", ",", "规", "a"]) for _ in range(rng.randrange(0, 20)))
        assert "".join(s.split()) == re.sub(r"\s+", "", s)
        assert _grounding_text(s) == re.sub(r"\s+", "", s).replace(",", "")
