"""Torn PDF-to-markdown tables: some rows of table 三 print their numbers in a pipe row of their
own, their labels as loose text lines elsewhere (figures of our own, tests/render.py)."""

from __future__ import annotations

import copy
import re

import pytest

from extractor.check.evidence import anchors_from
from extractor.check.verify import VerifyInput, verify
from extractor.models import Record
from extractor.pipeline import extract_bytes, source_text
from extractor.tables import torn as T

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


def _torn_record() -> tuple[Record, str]:
    fig = R.figures("2021", 2)
    data = torn_markdown(fig, TORN, "plain", 2)
    rec = extract_bytes(data, "torn.md", suffix=".md")
    assert_exact(rec, fig)
    return rec, source_text(data, "torn.md")


def _evidence_errors(rec: Record, text: str) -> list[str]:
    inp = VerifyInput(
        template=rec.template,
        tables=rec.tables,
        text=text,
        evidence=rec.evidence,
        evidence_method=rec.evidence_method,
        anchors=anchors_from(rec.meta["anchors"]),
    )
    return [f.message for f in verify(inp) if f.check == "evidence"]


def test_paired_rows_point_at_their_number_only_rows() -> None:
    """Every cell of a paired row stands in the number-only pipe row it was paired with, which
    is the row's segment in meta.anchors; the verifier accepts exactly that."""
    rec, text = _torn_record()
    segments = rec.meta["anchors"]["applications"]["segments"]
    assert list(segments) == list(TORN)
    for key in TORN:
        s, e = segments[key]
        line = text[s:e]
        assert "\n" not in line and line.lstrip().startswith("|")
        for col, (cs, ce) in rec.evidence["applications"][key].items():
            assert s <= cs <= ce <= e
            method = rec.evidence_method["applications"][key][col]
            assert method in ("paired", "blank")
            if method == "paired":
                assert text[cs:ce] == str(rec.tables["applications"][key][col])
    assert _evidence_errors(rec, text) == []


def test_tampered_pairings_are_caught() -> None:
    rec, text = _torn_record()
    a, b = TORN[0], TORN[1]
    # the two number-only rows given to each other's rows: out of the template's order
    swapped = copy.deepcopy(rec)
    seg = swapped.meta["anchors"]["applications"]["segments"]
    ev = swapped.evidence["applications"]
    seg[a], seg[b] = seg[b], seg[a]
    ev[a], ev[b] = ev[b], ev[a]
    t = swapped.tables["applications"]
    t[a], t[b] = t[b], t[a]
    assert any("out of the template's row order" in m for m in _evidence_errors(swapped, text))
    # a paired row's segment claimed on a labelled row of the table
    labelled = copy.deepcopy(rec)
    granted = labelled.meta["anchors"]["applications"]["labels"]["granted"]
    line_end = text.find("\n", granted[1])
    labelled.meta["anchors"]["applications"]["segments"][a] = [granted[0], line_end]
    assert any("is not one pipe row of cells alone" in m for m in _evidence_errors(labelled, text))
    # without its segment, a paired row's cells stand outside its label's row
    bare = copy.deepcopy(rec)
    del bare.meta["anchors"]["applications"]["segments"][a]
    assert any(f"applications.{a}." in m and "lies outside" in m for m in _evidence_errors(bare, text))


def _loose_by_parsing(text: str) -> bool:
    """has_loose_rows as it was: parse every pipe row, then look for a label-less one."""
    return any(not r.label and re.search(r"\d", "".join(c for _, c in r.values)) for r in T._pipe_rows(text))


def test_the_loose_row_prefilter_agrees_with_parsing_every_row() -> None:
    from extractor.read.load import load_bytes
    from extractor.tables.locate import locate

    from .helpers import CORPUS, SEEDS, relayout, to_html

    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    texts += [load_bytes(p.read_bytes(), p.name, suffix=p.suffix).text for p in sorted(CORPUS.glob("*.md"))]
    texts += [to_html(t) for t in texts[: len(SEEDS)]] + [relayout(t, "pipe") for t in texts[: len(SEEDS)]]
    for template in ("2019", "2021"):
        fig = R.figures(template, 2)
        texts += [
            torn_markdown(fig, TORN[:3], style, shift).decode()
            for style in ("plain", "blank")
            for shift in (-1, 2)
        ]
        texts += [R.render(R.styled(R.blocks(fig), "blank"), lay).decode() for lay in ("pipe", "markdown")]
    loose = 0
    for text in texts:
        text = load_bytes(text.encode(), "x.html", suffix=".html").text if "<table" in text else text
        pieces = [text, *(r.text(text) for r in locate(text).regions.values())]
        for piece in pieces:
            assert T.has_loose_rows(piece) == _loose_by_parsing(piece)
            loose += T.has_loose_rows(piece)
    assert loose >= 10
