"""Replay recorded model answers (golden/llm/*.json) through the scripted server: the LLM path's
regression with no model and no network. Each file holds the answers a real model gave, in the
order it gave them per table, and the outcome the pipeline reached with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.llm.config import LLMConfig
from extractor.llm.route import LLMRouter
from extractor.pipeline import extract_path
from tests.helpers import ROOT
from tests.llm_server import ScriptedServer

CASES = sorted((ROOT / "golden" / "llm").glob("*.json"))


def test_there_are_recorded_cases() -> None:
    assert len(CASES) >= 2


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_replay_recorded_answers(case: Path, llm_server: ScriptedServer, tmp_path: Path) -> None:
    g: dict[str, Any] = json.loads(case.read_text(encoding="utf-8"))
    for table, answers in g["answers"].items():
        # a string is a raw answer; a dict is a recorded HTTP failure such as {"status": 400}
        llm_server.push(table, *(a if isinstance(a, dict) else {"content": a} for a in answers))
        llm_server.default[table] = '{"unexpected": "an extra request"}'
    cfg = LLMConfig(
        model="replay",
        base_url=llm_server.base_url,
        mode=g["config"]["mode"],
        max_reasks=g["config"]["max_reasks"],
        max_tokens=g["config"]["max_tokens"],
        use_cache=False,
        timeout_s=10,
        structured_mode="json_schema",
    )
    router = LLMRouter(cfg)
    try:
        rec = extract_path(ROOT / g["source"], hook=router)
    finally:
        router.close()
    for table, answers in g["answers"].items():
        assert len(llm_server.calls(table)) == len(answers), f"{table}: every recorded answer, no more"
    exp = g["expect"]
    assert rec.status == exp["status"]
    assert rec.table_methods == exp["table_methods"]
    got = sorted({(f.table, f.check) for f in rec.findings if f.check.startswith("llm")})
    assert [list(x) for x in got] == exp["llm_findings"]
    assert json.loads(json.dumps(rec.tables)) == exp["tables"]
