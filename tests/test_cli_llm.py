"""The LLM options of ``extractor extract`` end to end, against the scripted server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from tests.helpers import CORPUS, SAMPLES
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth

runner = CliRunner()
REPORT = CORPUS / "015.txt"  # table 三 has unread totals: `auto` sends only that table


def _serve_truth(server: ScriptedServer, path: Path) -> None:
    _, located, reads = rule_truth(path)
    for t in reads:
        server.default[t] = dump(answer_rows(reads[t], located.template))


def _extract(tmp_path: Path, out: Path, *extra: str) -> dict[str, object]:
    res = runner.invoke(app, ["extract", str(REPORT), "-o", str(out), "-q", "--overwrite", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_llm_off_and_unconfigured_are_byte_identical(tmp_path: Path, llm_server: ScriptedServer) -> None:
    src = tmp_path / "in"
    shutil.copytree(SAMPLES, src)
    plain, off = tmp_path / "plain.jsonl", tmp_path / "off.jsonl"
    assert runner.invoke(app, ["extract", str(src), "-o", str(plain), "-q"]).exit_code == 0
    llm = ["--model", "m", "--base-url", llm_server.base_url, "--llm", "off"]
    res = runner.invoke(app, ["extract", str(src), "-o", str(off), "-q", *llm])
    assert res.exit_code == 0, res.output
    assert plain.read_bytes() == off.read_bytes()
    assert llm_server.calls() == []


def test_auto_sends_failing_tables_and_the_cache_replays(
    tmp_path: Path, llm_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACTOR_API_KEY", "test-key-not-secret")
    _serve_truth(llm_server, REPORT)
    opts = ["--model", "scripted", "--base-url", llm_server.base_url, "--cache-dir", str(tmp_path / "c")]
    first = _extract(tmp_path, tmp_path / "a.jsonl", *opts)
    calls = len(llm_server.calls())
    assert calls >= 1
    assert {r["_table"] for r in llm_server.calls()} == {"applications"}
    assert first["meta"]["llm_usage"]["calls"] == calls  # type: ignore[index]
    second = _extract(tmp_path, tmp_path / "b.jsonl", *opts)
    assert len(llm_server.calls()) == calls  # the cached re-run makes zero calls
    assert first["tables"] == second["tables"] and first["status"] == second["status"]
    cache_bytes = b"".join(p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert b"test-key-not-secret" not in cache_bytes


def test_bad_llm_option_is_a_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["extract", str(REPORT), "-o", str(tmp_path / "r.jsonl"), "--llm", "maybe"])
    assert res.exit_code == 2
    assert "--llm must be auto, always or off" in res.output


def test_estimate_says_what_would_be_sent_without_calling(llm_server: ScriptedServer) -> None:
    res = runner.invoke(app, ["estimate", str(CORPUS / "002.txt"), str(CORPUS / "012.txt"), "--model", "m"])
    assert res.exit_code == 0, res.output
    est = json.loads(res.output)
    assert est["reports"] == 2 and est["reports_to_model"] == 1  # 012 verifies on the rule path
    assert est["by_table"] == {"active_disclosure": 1}
    assert 0 < est["prompt_tokens"] < est["whole_report_tokens"]
    assert llm_server.calls() == []
