"""Torn PDF-to-markdown tables: some rows of table 三 print their numbers in a pipe row of their
own, their labels as loose text lines elsewhere (figures of our own, tests/render.py)."""

from __future__ import annotations

import pytest

from extractor.pipeline import extract_bytes

from . import render as R
from .test_render_matrix import assert_exact, wrong_cells

TORN = ("partially_granted", "denied_prohibited", "unable_not_held", "other_unpaid_fee")


def torn_markdown(fig: R.Figures, keys: tuple[str, ...], style: str = "plain", shift: int = 2) -> bytes:
    """Markdown whose rows ``keys`` lost their labels: the numbers stay a pipe row of their own,
    the label goes to a loose line ``shift`` rows further down (as PDF-to-markdown tools do)."""
    bl = R.styled(R.blocks(fig), style)
    apps = next(b for b in bl if b.table == "applications")
    labels = {r.key: r.label for r in R.APPLICATION_ROWS[fig.template]}
    lines = R.render(bl, "markdown").decode().split("\n")
    loose: list[tuple[int, str]] = []
    for key in keys:
        label = labels[key].replace(",", "、").replace('"', "")
        i = next(i for i, ln in enumerate(lines) if ln.startswith("|") and label[:6] in ln)
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")][-7:]
        lines[i] = "| " + " | ".join(cells) + " |"
        loose.append((min(i + shift, len(lines) - 1), label))
    for at, label in sorted(loose, reverse=True):
        lines.insert(at, label)
    assert apps.rows
    return "\n".join(lines).encode()


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("style", ["plain", "blank", "thousands"])
@pytest.mark.parametrize("shift", [-1, 2])
def test_torn_rows_are_paired_in_template_order(template: str, style: str, shift: int) -> None:
    fig = R.figures(template, 2)
    keys = TORN if template == "2021" else TORN[:3]
    rec = extract_bytes(torn_markdown(fig, keys, style, shift), "torn.md", suffix=".md")
    assert_exact(rec, fig)
    layout = [f for f in rec.findings if f.check == "layout" and f.severity == "warning"]
    assert len(layout) == 1 and layout[0].actual == list(keys)


def test_torn_rows_that_break_an_identity_are_not_paired() -> None:
    """Swap two number-only rows: order pairing would put them in the wrong rows; H2/H3 still
    hold but H1…? No: the pairing must not be trusted where the identities fail."""
    fig = R.figures("2021", 5)
    fig.tables["applications"]["denied_prohibited"]["natural_person"] += 3  # H2 and H3 now fail
    rec = extract_bytes(torn_markdown(fig, TORN), "torn.md", suffix=".md")
    assert wrong_cells(rec, fig.tables) == []
    assert rec.status == "needs_review"
    assert not [f for f in rec.findings if f.check == "layout" and f.severity == "warning"]
