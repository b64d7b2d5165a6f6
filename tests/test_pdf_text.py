"""``extractor.read.pdf_text`` against pdfplumber's own word/line grouping on scattered characters.

The rendered PDFs (tests/test_reader_parity.py) give clean lines; here characters are scattered
on purpose: tops a little apart (chained clusters, lines merging through a middle top), steps
back, gaps just over and under 3 pt, spaces, ligatures, chars cut by a band's edges.
"""

from __future__ import annotations

import random

import pytest
from pdfplumber.utils.clustering import cluster_objects
from pdfplumber.utils.geometry import crop_to_bbox
from pdfplumber.utils.text import WordExtractor, chars_to_textmap, get_line_cluster_key

from extractor.read import pdf_text
from extractor.read.pdf_text import Char

_LETTERS = "政府信息公开年度报告ab12 ﬁﬂ  .,"


def _scatter(seed: int, n: int) -> list[Char]:
    rng = random.Random(seed)
    chars: list[Char] = []
    x, top = 10.0, 10.0
    for _ in range(n):
        if rng.random() < 0.15:  # a new line, sometimes barely below the last one
            top += rng.choice([1.5, 2.9, 3.0, 3.1, 6.0, 12.0])
            x = 10.0 + rng.random() * 20
        size = rng.choice([8.0, 10.5, 12.0])
        x += rng.choice([0.0, 0.5, 2.9, 3.0, 3.2, 8.0, -4.0])
        jitter = rng.choice([0.0, 0.0, 0.25, -0.5, 2.5])
        chars.append((rng.choice(_LETTERS), x, x + size, top + jitter, top + jitter + size))
        x += size
    return chars


def _dicts(chars: list[Char]) -> list[dict[str, object]]:
    return [
        {"text": t, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "upright": True}
        | {"width": x1 - x0, "height": bottom - top, "size": bottom - top, "object_type": "char"}
        for t, x0, x1, top, bottom in chars
    ]


def _plumber_cell(chars: list[dict[str, object]]) -> str:
    words = WordExtractor().extract_words(chars)
    lines = cluster_objects(words, get_line_cluster_key("ttb"), 3)
    return "\n".join(" ".join(str(w["text"]) for w in line) for line in lines)


@pytest.mark.parametrize("seed", range(40))
def test_cell_text_is_pdfplumbers(seed: int) -> None:
    chars = _scatter(seed, 60)
    assert pdf_text.cell_text(chars) == _plumber_cell(_dicts(chars))


@pytest.mark.parametrize("seed", range(40))
def test_band_text_is_pdfplumbers(seed: int) -> None:
    chars = _scatter(seed, 80)
    rng = random.Random(seed)
    lo = 10 + rng.random() * 20
    bbox = (0.0, lo, 400.0 + rng.random() * 400, lo + 5 + rng.random() * 40)  # cuts some chars
    cropped = crop_to_bbox(_dicts(chars), bbox)
    want = ""
    if cropped:
        kw = {"layout_bbox": bbox, "layout_width": bbox[2] - bbox[0], "layout_height": bbox[3] - bbox[1]}
        want = str(chars_to_textmap(cropped, **kw).as_string)
    assert pdf_text.band_text(chars, bbox) == want


def test_scatter_has_the_hard_cases() -> None:
    """The generator really makes multi-line clusters, ligatures and spaces (else the tests above
    would prove little)."""
    texts = [pdf_text.cell_text(_scatter(s, 60)) for s in range(40)]
    assert any("fi" in t or "fl" in t for t in texts)
    assert sum(t.count("\n") for t in texts) > 40
    assert sum(t.count(" ") for t in texts) > 40


@pytest.mark.parametrize("seed", range(30))
def test_one_line_cell_text_is_pdfplumbers(seed: int) -> None:
    """Cells whose tops all lie within 3 pt (the one-line shortcut), up to exactly 3 apart, with
    spaces, steps back and gaps; and just over 3 apart (the general way)."""
    rng = random.Random(seed)
    spread = rng.choice([0.0, 0.25, 2.5, 3.0, 3.0000001, 5.5])
    chars: list[Char] = []
    x = 10.0
    for _ in range(rng.randint(1, 12)):
        x += rng.choice([0.0, 0.5, 3.0, 3.2, 8.0, -4.0])
        top = 20.0 + rng.choice([0.0, spread, spread / 2])
        chars.append((rng.choice(_LETTERS), x, x + 10.5, top, top + 10.5))
        x += 10.5
    assert pdf_text.cell_text(chars) == _plumber_cell(_dicts(chars))
