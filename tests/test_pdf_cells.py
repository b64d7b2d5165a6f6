"""The table finder's cells and tables (``extractor.read.pdf_layout._cells``/``_tables``) against
pdfplumber's ``intersections_to_cells``/``cells_to_tables`` on ruling drawn at random.

Grids with missing and doubled segments, merged cells, several tables side by side or touching at
a corner, edges snapped onto each other: the cells and the tables (cells in the same order) must be
pdfplumber's own, since the records depend on them.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from extractor.read.pdf_layout import _cells, _tables


def _edge(x0: float, top: float, x1: float, bottom: float) -> dict[str, Any]:
    return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "width": x1 - x0} | {
        "height": bottom - top,
        "orientation": "h" if top == bottom else "v",
        "object_type": "line",
    }


def _ruling(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    edges: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 3)):  # tables, maybe touching or overlapping
        ox, oy = rng.choice([0, 0, 150, 300]), rng.choice([0, 200, 400])
        xs = sorted({ox + rng.choice(range(0, 400, 20)) for _ in range(rng.randint(2, 7))})
        ys = sorted({oy + rng.choice(range(0, 300, 15)) for _ in range(rng.randint(2, 8))})
        for y in ys:
            for a, b in itertools.pairwise(xs):
                if rng.random() < 0.85:  # a missing piece merges two cells
                    edges.append(_edge(a, y, b, y))
                if rng.random() < 0.1:  # doubled, or a hair off (snapped together)
                    edges.append(_edge(a, y + rng.choice([0, 0.5]), b, y + rng.choice([0, 0.5])))
        for x in xs:
            for a, b in itertools.pairwise(ys):
                if rng.random() < 0.85:
                    edges.append(_edge(x, a, x, b))
    rng.shuffle(edges)
    return edges


@pytest.mark.parametrize("seed", range(60))
def test_cells_and_tables_are_pdfplumbers(seed: int) -> None:
    edges = merge_edges(
        _ruling(seed), snap_x_tolerance=3, snap_y_tolerance=3, join_x_tolerance=3, join_y_tolerance=3
    )
    points = edges_to_intersections(edges, 3, 3)
    cells = _cells(points)
    assert cells == intersections_to_cells(points)
    assert _tables(cells) == cells_to_tables(cells)
    shuffled = list(cells)
    random.Random(seed).shuffle(shuffled)
    assert _tables(shuffled) == cells_to_tables(shuffled)


def test_the_ruling_has_the_hard_cases() -> None:
    """The generator makes merged cells and pages of several tables (else the test proves little)."""
    counts = []
    for seed in range(60):
        edges = merge_edges(
            _ruling(seed), snap_x_tolerance=3, snap_y_tolerance=3, join_x_tolerance=3, join_y_tolerance=3
        )
        counts.append(len(cells_to_tables(intersections_to_cells(edges_to_intersections(edges, 3, 3)))))
    assert max(counts) >= 2 and min(counts) <= 1
