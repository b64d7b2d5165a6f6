"""The LLM transport against hostile endpoints (the scripted server on 127.0.0.1): a broken answer
is one finding, never the end of the run; deadlines, circuit breaker, pre-flight, scrubbed errors."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from tests.helpers import CORPUS
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth

runner = CliRunner()
RICH = CORPUS / "012.txt"  # three clean tables: `--llm always` sends all three
TABLES = ("active_disclosure", "applications", "review_litigation")
KEY = "sk-test-SECRET-4242-do-not-store"


def _serve_truth(server: ScriptedServer) -> None:
    _, located, reads = rule_truth(RICH)
    for t in reads:
        server.default[t] = dump(answer_rows(reads[t], located.template))


def _config(tmp_path: Path, **kw: object) -> Path:
    lines = [
        f"{k} = {json.dumps(v)}"
        for k, v in {"timeout_s": 2, "max_attempts": 2, "max_total_s": 10, **kw}.items()
    ]
    cfg = tmp_path / "llm.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


def _inputs(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    for i in range(n):
        shutil.copy(RICH, d / f"r{i}.txt")
        with (d / f"r{i}.txt").open("a", encoding="utf-8") as fh:
            fh.write(f"\n附注{i}\n")  # distinct bytes: no de-duplication
    return d


def _extract(tmp_path: Path, server: ScriptedServer, src: Path, *extra: str) -> tuple[int, str, list[dict]]:  # type: ignore[type-arg]
    out = tmp_path / "r.jsonl"
    args = ["extract", str(src), "-o", str(out), "-q", "--overwrite", "--model", "m", "--llm", "always"]
    args += [
        "--base-url",
        server.base_url,
        "--concurrency",
        "1",
        "--cache-dir",
        str(tmp_path / "cache"),
        *extra,
    ]
    res = runner.invoke(app, args)
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return res.exit_code, res.output, recs


@pytest.mark.parametrize(
    "action",
    [{"raw": "<html><body>Bad gateway</body></html>", "content_type": "text/html"}, {"null_message": True}],
    ids=["html-200", "null-message"],
)
def test_a_broken_200_answer_is_one_finding(tmp_path: Path, llm_server: ScriptedServer, action: dict) -> None:  # type: ignore[type-arg]
    _serve_truth(llm_server)
    llm_server.push("applications", action)
    code, output, recs = _extract(
        tmp_path, llm_server, _inputs(tmp_path, 2), "--config", str(_config(tmp_path))
    )
    assert code == 0, output
    assert len(recs) == 2
    found = [f for r in recs for f in r["findings"] if f["check"] == "llm.transport"]
    assert len(found) == 1 and "applications" in found[0]["message"]
    assert recs[0]["table_methods"]["applications"] == "rules"
    assert recs[1]["table_methods"]["applications"] == "llm"  # the run went on, and so did the endpoint


def test_a_trickling_endpoint_cannot_defeat_the_deadline(tmp_path: Path, llm_server: ScriptedServer) -> None:
    _serve_truth(llm_server)
    llm_server.push("review_litigation", {"trickle": 0.2}, {"trickle": 0.2})
    t0 = time.monotonic()
    code, output, recs = _extract(tmp_path, llm_server, RICH, "--config", str(_config(tmp_path, timeout_s=1)))
    elapsed = time.monotonic() - t0
    assert code == 0, output
    assert elapsed < 8, elapsed  # two attempts of 1 s each plus the backoff, not minutes
    assert recs[0]["table_methods"]["review_litigation"] == "rules"
    assert any("no complete answer within 1 s" in f["message"] for f in recs[0]["findings"])


def test_the_circuit_breaker_opens_after_consecutive_failures(
    tmp_path: Path, llm_server: ScriptedServer
) -> None:
    for t in TABLES:
        llm_server.push(t, *[{"status": 503}] * 100)
    cfg = _config(tmp_path, max_attempts=1, breaker_after=3)
    code, output, recs = _extract(tmp_path, llm_server, _inputs(tmp_path, 4), "--config", str(cfg))
    assert code == 3, output
    assert len(recs) == 4 and all(r["status"] == "verified" for r in recs)  # the rules' readings stay
    assert len(llm_server.calls()) == 3  # then the endpoint is unavailable for the rest of the run
    assert "LLM endpoint unavailable" in output and "3 consecutive" in output
    assert sum(f["check"] == "llm.transport" for r in recs for f in r["findings"]) == 12


def test_a_wrong_base_url_fails_before_the_run(tmp_path: Path, llm_server: ScriptedServer) -> None:
    llm_server.models_status = 404
    t0 = time.monotonic()
    code, output, recs = _extract(tmp_path, llm_server, _inputs(tmp_path, 3))
    assert code == 2 and time.monotonic() - t0 < 10
    assert "answered HTTP 404 to GET /models" in output and "--base-url" in output
    assert recs == [] and llm_server.calls() == []


def test_an_echoed_key_is_stored_nowhere(
    tmp_path: Path, llm_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACTOR_API_KEY", KEY)
    _serve_truth(llm_server)
    llm_server.push("applications", {"echo_auth": 500}, {"echo_auth": 500})
    code, output, recs = _extract(tmp_path, llm_server, RICH, "--config", str(_config(tmp_path)))
    assert code == 0, output
    assert any("[redacted]" in f["message"] for f in recs[0]["findings"])
    assert KEY not in output
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p
            for part in (b"SECRET-4242", b"do-not-store"):  # not a bare "4242": evidence offsets are numbers
                assert part not in p.read_bytes(), p


def test_a_huge_bad_answer_is_cut_in_the_reask(tmp_path: Path, llm_server: ScriptedServer) -> None:
    _serve_truth(llm_server)
    llm_server.push("applications", {"content": "x" * 10_000_000})
    code, output, _ = _extract(tmp_path, llm_server, RICH, "--config", str(_config(tmp_path)))
    assert code == 0, output
    calls = llm_server.calls("applications")
    assert len(calls) == 2
    reask = json.dumps(calls[1]["messages"])
    assert len(reask) < 100_000 and "[cut: " in reask
