"""Run-together digit cells: unique splits are kept, ambiguous ones are never guessed."""

from __future__ import annotations

from extractor.tables.applications import read_applications
from extractor.tables.atoms import atoms_of
from extractor.tables.cells import fit
from extractor.tables.splitting import NUMBER_TOKEN, parse_token, split_tokens


def _tokens(s: str):  # type: ignore[no-untyped-def]
    return [parse_token(t) for t in NUMBER_TOKEN.findall(s)]


def _h3(c: tuple[str, ...]) -> bool:
    v = [int(x) for x in c]
    return sum(v[:6]) == v[6]


def test_spec_example_unique() -> None:
    cands, total, complete = split_tokens(_tokens("21710000218"), 7, _h3)
    assert complete and cands == [("217", "1", "0", "0", "0", "0", "218")]
    assert total > 1


def test_printed_spaces_are_kept_as_boundaries() -> None:
    cands, _, _ = split_tokens(_tokens("23 0 00 0 023"), 7, _h3)
    assert cands == [("23", "0", "0", "0", "0", "0", "23")]


def test_no_leading_zeros_and_signs() -> None:
    cands, _, _ = split_tokens(_tokens("2648-18538"), 3)
    assert ("2648", "-185", "38") in cands and len(cands) == 7
    assert all(not c.lstrip("+-").startswith("0") or c.lstrip("+-") == "0" for cand in cands for c in cand)


def test_ambiguous_row_is_left_unread_with_candidates() -> None:
    # "110000011" → 11,0,0,0,0,0,11 or 1,10,0,0,0,0,11 — both sum.
    region = "本列数据的勾稽关系\n一、本年新收政府信息公开申请数量110000011\n"
    read = read_applications(region, "2021")
    row = read.values["new_received"]
    assert all(v is None for v in row.values())
    f = next(f for f in read.findings if f.row == "new_received")
    assert f.check == "split" and f.severity == "error"
    assert ["11", "0", "0", "0", "0", "0", "11"] in f.actual and [
        "1",
        "10",
        "0",
        "0",
        "0",
        "0",
        "11",
    ] in f.actual


def test_fit_refuses_unpositionable_blanks() -> None:
    f = fit(atoms_of("5\t\t2 7"), 5)
    assert not f.candidates and "cannot be told" in f.problem


def test_forced_split_needs_no_identity() -> None:
    f = fit(atoms_of("7000007"), 7)
    assert f.candidates == [("7", "0", "0", "0", "0", "0", "7")]
