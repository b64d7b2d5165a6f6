"""The LLM path over real HTTP against the scripted server on 127.0.0.1 (no monkeypatching)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from extractor.llm.config import LLMConfig
from extractor.llm.estimate import estimate
from extractor.llm.prompt import compact_table_text
from extractor.llm.route import LLMRouter, make_hook
from extractor.models import LLMUsage, Record
from extractor.pipeline import extract_document, extract_path
from extractor.read.load import load_path
from tests.helpers import CORPUS, SEEDS, seed
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth

RICH = CORPUS / "012.txt"  # 2021 template, all three tables clean with many non-zero cells
TABLES = ("active_disclosure", "applications", "review_litigation")


def config(server: ScriptedServer, tmp_path: Path, **kw: object) -> LLMConfig:
    base: dict[str, object] = {
        "model": "scripted",
        "base_url": server.base_url,
        "mode": "always",
        "cache_dir": str(tmp_path / "cache"),
        "use_cache": False,
        "timeout_s": 2,
        "max_total_s": 15,
        "max_attempts": 3,
        "structured_mode": "json_schema",
    }
    base.update(kw)
    return LLMConfig.model_validate(base)


def serve_truth(server: ScriptedServer, path: Path) -> dict[str, list[dict[str, Any]]]:
    _, located, reads = rule_truth(path)
    rows = {t: answer_rows(reads[t], located.template) for t in reads}
    for t, r in rows.items():
        server.default[t] = dump(r)
    return rows


def run(path: Path, cfg: LLMConfig) -> tuple[Record, LLMRouter]:
    router = LLMRouter(cfg)
    try:
        return extract_path(path, hook=router), router
    finally:
        router.close()


def test_correct_answers_are_accepted_and_only_table_text_is_sent(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    serve_truth(llm_server, RICH)
    rec, _ = run(RICH, config(llm_server, tmp_path))
    assert rec.table_methods == dict.fromkeys(TABLES, "llm")
    assert rec.status == "verified"
    plain = extract_path(RICH)
    assert rec.tables == plain.tables
    usage = rec.meta["llm_usage"]
    assert usage["calls"] == 3 and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    _, located, reads = rule_truth(RICH)
    prose = "指导推动全县行政机关按规定收取费用"
    assert prose in located.prose
    for req in llm_server.calls():
        assert prose not in json.dumps(req["messages"], ensure_ascii=False)
        assert compact_table_text(reads[req["_table"]].source) in req["messages"][-1]["content"]


def test_usage_is_typed_and_priced_only_when_a_price_is_set(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    serve_truth(llm_server, RICH)
    rec, _ = run(RICH, config(llm_server, tmp_path))
    usage = rec.meta["llm_usage"]
    assert "cost" not in usage and LLMUsage.from_dict(usage).to_meta() == usage
    assert list(usage) == ["model", "prompt", "calls", "cache_hits", "prompt_tokens", "completion_tokens",
                           "tables_sent", "attempts", "modes"]  # fmt: skip
    priced = config(llm_server, tmp_path, price_prompt_per_m=1.0, price_completion_per_m=3.0)
    usage = run(RICH, priced)[0].meta["llm_usage"]
    sent = sum(len(json.dumps(r["messages"], ensure_ascii=False)) // 2 for r in llm_server.calls()[3:])
    assert usage["prompt_tokens"] == sent > 0
    assert usage["cost"] == round(priced.cost(usage["prompt_tokens"], usage["completion_tokens"]) or 0, 8) > 0
    assert LLMUsage.from_dict(usage).to_meta() == usage


def test_auto_routes_only_tables_with_errors(llm_server: ScriptedServer, tmp_path: Path) -> None:
    path = CORPUS / "015.txt"  # table 三 has unread cells; 二 and 四 are clean
    serve_truth(llm_server, path)
    rec, _ = run(path, config(llm_server, tmp_path, mode="auto"))
    assert {r["_table"] for r in llm_server.calls()} == {"applications"}
    assert rec.meta["llm_usage"]["tables_sent"] == ["applications"]
    llm_server.reset()
    rec, _ = run(path, config(llm_server, tmp_path, mode="off"))
    assert llm_server.calls() == []
    assert rec.meta["llm_usage"]["calls"] == 0 and rec.meta["llm_usage"]["tables_sent"] == []
    assert rec.table_methods == dict.fromkeys(TABLES, "rules")


def test_disabled_config_is_a_no_op(
    llm_server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    hook = make_hook(LLMConfig(model="m", cache_dir=str(tmp_path / "c")))  # no base URL, no key
    rec = extract_path(CORPUS / "015.txt", hook=hook)
    assert llm_server.calls() == [] and rec.table_methods == dict.fromkeys(TABLES, "rules")
    assert not (tmp_path / "c").exists()


def test_reask_carries_cell_level_feedback_and_fixes(llm_server: ScriptedServer, tmp_path: Path) -> None:
    rows = serve_truth(llm_server, RICH)
    bad = copy.deepcopy(rows["applications"])
    bad[0]["values"][0] = 750  # 705 → 750: H1 and H3 fail for 自然人, 750 is not printed
    llm_server.push("applications", {"content": dump(bad)})
    rec, _ = run(RICH, config(llm_server, tmp_path))
    assert rec.table_methods["applications"] == "llm"
    calls = llm_server.calls("applications")
    assert len(calls) == 2
    feedback = calls[1]["messages"][-1]["content"]
    assert "H1 fails for 自然人" in feedback and "750" in feedback
    assert "本年新收政府信息公开申请数量" in feedback  # the rows to re-read are named
    assert calls[1]["messages"][-2] == {"role": "assistant", "content": dump(bad)}


def test_reasks_are_bounded_and_a_persistent_error_is_rejected(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    rows = serve_truth(llm_server, RICH)
    bad = copy.deepcopy(rows["review_litigation"])
    bad[0]["values"][4] = 62  # 总计 61 → 62
    llm_server.default["review_litigation"] = dump(bad)
    rec, _ = run(RICH, config(llm_server, tmp_path, max_reasks=2))
    assert len(llm_server.calls("review_litigation")) == 3
    assert rec.table_methods["review_litigation"] == "rules"
    assert rec.tables["review_litigation"]["review"]["total"] == 61
    rejected = [f for f in rec.findings if f.check == "llm.rejected"]
    assert rejected and rejected[0].table == "review_litigation"


def test_agreement_with_the_rule_path_keeps_a_source_inconsistent_table(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    path = CORPUS / "003.txt"  # table 三 violates H2 as printed
    serve_truth(llm_server, path)
    rec, _ = run(path, config(llm_server, tmp_path, mode="auto"))
    assert rec.table_methods["applications"] == "llm"
    checks = {f.check for f in rec.findings if f.table == "applications"}
    assert "llm.agreement" in checks and "H2" in checks


def test_zero_answer_for_a_non_zero_table_is_rejected(llm_server: ScriptedServer, tmp_path: Path) -> None:
    rows = serve_truth(llm_server, RICH)
    zeros = [{"label": r["label"], "values": [0] * len(r["values"])} for r in rows["review_litigation"]]
    llm_server.default["review_litigation"] = dump(zeros)
    rec, _ = run(RICH, config(llm_server, tmp_path, max_reasks=0))
    assert rec.table_methods["review_litigation"] == "rules"


def test_transport_retries_429_500_drop_and_hang(llm_server: ScriptedServer, tmp_path: Path) -> None:
    serve_truth(llm_server, RICH)
    llm_server.push("active_disclosure", {"status": 429, "headers": {"Retry-After": "1"}})
    llm_server.push("applications", {"status": 500}, {"drop": True})
    llm_server.push("review_litigation", {"hang": 2.5})
    t0 = time.monotonic()
    rec, _ = run(RICH, config(llm_server, tmp_path, timeout_s=1.0, max_attempts=4))
    elapsed = time.monotonic() - t0
    assert rec.table_methods == dict.fromkeys(TABLES, "llm")
    assert len(llm_server.calls("active_disclosure")) == 2
    assert len(llm_server.calls("applications")) == 3
    assert len(llm_server.calls("review_litigation")) == 2
    assert elapsed >= 1.0  # Retry-After honoured
    assert rec.meta["llm_usage"]["calls"] == 7


def test_transport_gives_up_within_bounds_and_keeps_the_rules(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    serve_truth(llm_server, RICH)
    llm_server.push("review_litigation", *[{"status": 503}] * 10)
    rec, _ = run(RICH, config(llm_server, tmp_path, max_attempts=3))
    assert len(llm_server.calls("review_litigation")) == 3
    assert rec.table_methods["review_litigation"] == "rules"
    assert any(f.check == "llm.transport" for f in rec.findings)
    assert rec.status == "verified"  # rule reads were clean


def test_mode_fallback_like_llama_cpp(llm_server: ScriptedServer, tmp_path: Path) -> None:
    serve_truth(llm_server, RICH)
    llm_server.refuse |= {"json_schema", "tools"}
    rec, _ = run(RICH, config(llm_server, tmp_path, structured_mode="auto"))
    assert rec.table_methods == dict.fromkeys(TABLES, "llm")
    modes = [r["_mode"] for r in llm_server.calls()]
    assert modes[:3] == ["json_schema", "tools", "json"] and set(modes[3:]) == {"json"}
    json_req = llm_server.calls()[2]
    assert json_req["response_format"]["schema"]["properties"]["rows"]
    assert "JSON Schema" in json_req["messages"][0]["content"]


def test_tools_mode_answers_are_read_from_the_tool_call(llm_server: ScriptedServer, tmp_path: Path) -> None:
    serve_truth(llm_server, RICH)
    llm_server.refuse.add("json_schema")
    rec, _ = run(RICH, config(llm_server, tmp_path, structured_mode="auto"))
    assert rec.table_methods == dict.fromkeys(TABLES, "llm")
    assert {r["_mode"] for r in llm_server.calls()[1:]} == {"tools"}


def test_cache_rerun_makes_zero_calls_and_stores_no_key(
    llm_server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACTOR_API_KEY", "sk-test-SECRET-never-cached")
    rows = serve_truth(llm_server, RICH)
    bad = copy.deepcopy(rows["applications"])
    bad[3]["values"][0] = 98
    llm_server.push("applications", {"content": dump(bad)})
    cfg = config(llm_server, tmp_path, use_cache=True)
    first, _ = run(RICH, cfg)
    n = len(llm_server.calls())
    assert n == 4
    second, _ = run(RICH, cfg)
    assert len(llm_server.calls()) == n
    assert second.meta["llm_usage"]["calls"] == 0
    assert second.meta["llm_usage"]["cache_hits"] == 4
    assert second.tables == first.tables and second.table_methods == first.table_methods
    blob = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert b"SECRET" not in blob and llm_server.base_url.encode() not in blob
    run(RICH, cfg.model_copy(update={"use_cache": False}))
    assert len(llm_server.calls()) == n + 3


def test_unparseable_answers_are_not_cached(llm_server: ScriptedServer, tmp_path: Path) -> None:
    serve_truth(llm_server, RICH)
    llm_server.push("review_litigation", {"content": '{"rows": [{"label": "行政复议", "values": [27, 10'})
    cfg = config(llm_server, tmp_path, use_cache=True)
    run(RICH, cfg)
    assert len(llm_server.calls("review_litigation")) == 2
    run(RICH, cfg)  # the truncated first answer was not cached: asked again, then the cache
    assert len(llm_server.calls("review_litigation")) == 3


def test_hook_is_thread_safe(llm_server: ScriptedServer, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    serve_truth(llm_server, RICH)
    hook = make_hook(config(llm_server, tmp_path))
    doc = load_path(RICH)
    with ThreadPoolExecutor(4) as pool:
        recs = list(pool.map(lambda _: extract_document(doc, hook=hook), range(8)))
    assert all(r.table_methods == dict.fromkeys(TABLES, "llm") for r in recs)
    assert len(llm_server.calls()) == 24


def test_estimate_calls_nothing(llm_server: ScriptedServer, tmp_path: Path) -> None:
    paths = [*SEEDS, *sorted(CORPUS.glob("*.txt"))]
    cfg = config(llm_server, tmp_path, mode="auto", price_prompt_per_m=1.0, price_completion_per_m=2.0)
    est = estimate(paths, cfg)
    assert llm_server.calls() == []
    assert est["reports"] == len(paths) and est["tables_to_model"] >= 1
    assert 0 < est["prompt_tokens"] < est["prompt_tokens_max"]
    assert est["cost"] > 0
    always = estimate(paths, cfg.model_copy(update={"mode": "always"}))
    assert always["tables_to_model"] == always["tables"] > est["tables_to_model"]
    keyless = estimate(paths, LLMConfig(model="m", cache_dir=str(tmp_path / "c")))  # no endpoint yet
    assert keyless["tables_to_model"] == est["tables_to_model"] and "cost" not in keyless
    off = estimate([seed("000")], cfg.model_copy(update={"mode": "off"}))
    assert off["tables_to_model"] == 0 and off["prompt_tokens"] == 0


def test_a_model_may_not_repair_numbers_the_report_prints_inconsistently(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    # Seed 000 with 5 applications received by 自然人 and nothing processed: H1 fails as printed.
    text = seed("000").read_text(encoding="utf-8")
    row = "一、本年新收政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0\t"
    assert row in text
    path = tmp_path / "inconsistent.txt"
    path.write_text(
        text.replace(row, "一、本年新收政府信息公开申请数量\t\t5\t0\t0\t0\t0\t0\t5\t"), encoding="utf-8"
    )
    _, _, reads = rule_truth(path)
    truth = answer_rows(reads["applications"], "2021")
    repaired = copy.deepcopy(truth)
    for i in (2, 23):  # 予以公开 and （七）总计 "fixed" with the grounded 5: every identity holds
        repaired[i]["values"] = [5, 0, 0, 0, 0, 0, 5]
    llm_server.default["applications"] = dump(repaired)
    rec, _ = run(path, config(llm_server, tmp_path, mode="auto"))
    assert llm_server.calls("applications")
    assert rec.table_methods["applications"] == "rules"
    assert rec.tables["applications"]["granted"]["total"] == 0  # as printed
    # the repaired cells are not where the source prints them: rejected cell by cell
    rejected = next(f for f in rec.findings if f.check == "llm.rejected")
    assert "prints 0" in rejected.message and rejected.actual["granted"]["total"] == 5  # kept for review
    assert rec.status == "needs_review"
    # The faithful reading agrees with the rule path and is kept: the report is inconsistent.
    llm_server.reset()
    llm_server.default["applications"] = dump(truth)
    rec, _ = run(path, config(llm_server, tmp_path, mode="auto"))
    assert rec.table_methods["applications"] == "llm" and rec.status == "source_inconsistent"


def test_a_cut_the_checks_cannot_confirm_is_never_verified(
    llm_server: ScriptedServer, tmp_path: Path
) -> None:
    """Pingtan 002 prints 行政规范性文件 as '8855698': 15 cuts, no identity in table 二. Whichever
    cut the model picks is grounded and passes every check, so the report stays needs_review."""
    path = CORPUS / "002.txt"
    _, located, reads = rule_truth(path)
    rows = answer_rows(reads["active_disclosure"], located.template)
    for r in rows:
        if r["label"] == "行政规范性文件":
            r["values"] = [88, 55, 698]  # what the report's prose says; still unconfirmable by checks
    llm_server.default["active_disclosure"] = dump(rows)
    rec, _ = run(path, config(llm_server, tmp_path, mode="auto"))
    assert rec.table_methods["active_disclosure"] == "llm"
    assert rec.tables["active_disclosure"]["normative_documents"] == {
        "issued": 88,
        "repealed": 55,
        "in_force": 698,
    }
    flags = [f for f in rec.findings if f.check == "llm.unconfirmed_cut"]
    assert flags and flags[0].row == "normative_documents" and flags[0].severity == "error"
    assert rec.status == "needs_review"
