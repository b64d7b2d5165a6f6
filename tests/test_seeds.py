"""The five seed reports: exact tables, and the right status."""

from __future__ import annotations

import pytest

from extractor.pipeline import extract_path
from extractor.spec import APPLICANT_COLUMNS, REVIEW_COLUMNS, REVIEW_GROUPS

from .helpers import seed


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003"])
def test_clean_seeds_are_verified(prefix: str) -> None:
    rec = extract_path(seed(prefix))
    assert rec.status == "verified", [f.message for f in rec.findings if f.severity == "error"]
    assert rec.template == "2021"
    assert set(rec.tables) == {"active_disclosure", "applications", "review_litigation"}
    assert len(rec.tables["applications"]) == 25


def test_seed_001_values() -> None:
    rec = extract_path(seed("001"))
    act = rec.tables["active_disclosure"]
    assert rec.agency == "中牟县卫健委" and rec.year == 2021
    assert act["licensing"] == {"decisions": 957}
    assert act["punishment"] == {"decisions": 54}
    assert act["regulations"] == {"issued": 0, "repealed": 0, "in_force": 0}
    assert act["fees"] == {"amount_wan_yuan": 0}


def test_seed_002_values() -> None:
    rec = extract_path(seed("002"))
    assert rec.agency == "山亭区卫健局"
    assert rec.tables["active_disclosure"]["punishment"] == {"decisions": 176}
    assert all(v == 0 for row in rec.tables["applications"].values() for v in row.values())


def test_seed_004_broken_table_four_is_not_verified() -> None:
    rec = extract_path(seed("004"))
    assert rec.template == "2019"
    assert rec.status == "needs_review"
    rev = rec.tables["review_litigation"]
    assert all(rev[g][c] is None for g in REVIEW_GROUPS for c in REVIEW_COLUMNS)
    msgs = [f.message for f in rec.findings if f.table == "review_litigation" and f.check == "unreadable"]
    assert msgs and "header labels" in msgs[0]
    act = rec.tables["active_disclosure"]
    assert act["licensing"] == {"prev_items": 4, "change": 0, "decisions": 197}
    assert act["procurement"] == {"projects": 5, "amount": 1751292.6, "amount_text": "1751292.6元"}
    assert act["fees"] == {"prev_items": 0, "change": 0}
    apps = rec.tables["applications"]
    assert "other" in apps and "other_other" not in apps
    assert all(apps[r][c] == 0 for r in apps for c in APPLICANT_COLUMNS)
