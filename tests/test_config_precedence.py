"""The LLM settings come from one typed model built in one place (LLMConfig.load): defaults <
config file < EXTRACTOR_LLM_* environment < command-line flags — checked through the real CLI
against the scripted OpenAI-compatible server on 127.0.0.1 (what reaches the server is what won)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.errors import ConfigError
from extractor.llm.config import LLMConfig
from extractor.llm.options import LLMOptions
from tests.helpers import CORPUS
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth

runner = CliRunner()
REPORT = CORPUS / "015.txt"  # table 三 has unread totals: `auto` sends that table to the model


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for k in list(os.environ):
        if k.startswith("EXTRACTOR_LLM_") or k == "EXTRACTOR_API_KEY":
            monkeypatch.delenv(k)
    return monkeypatch


def _config(tmp_path: Path, server: ScriptedServer, **extra: object) -> Path:
    body = {"model": "from-file", "base_url": server.base_url, "use_cache": False, "max_tokens": 100, **extra}
    f = tmp_path / "llm.toml"
    f.write_text("[llm]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in body.items()), encoding="utf-8")
    return f


def _sent(server: ScriptedServer, tmp_path: Path, *args: str) -> tuple[set[str], set[int]]:
    """Run extract through the CLI; the model names and max_tokens the server received."""
    server.reset()
    _, located, reads = rule_truth(REPORT)
    for t in reads:
        server.default[t] = dump(answer_rows(reads[t], located.template))
    out = tmp_path / "r.jsonl"
    res = runner.invoke(app, ["extract", str(REPORT), "-o", str(out), "-q", "--overwrite", *args])
    assert res.exit_code == 0, res.output
    calls = server.calls()
    return {c["model"] for c in calls}, {c["max_tokens"] for c in calls}


def test_file_then_environment_then_flags(
    tmp_path: Path, llm_server: ScriptedServer, clean_env: pytest.MonkeyPatch
) -> None:
    cfg = str(_config(tmp_path, llm_server))
    assert _sent(llm_server, tmp_path, "--config", cfg) == ({"from-file"}, {100})
    clean_env.setenv("EXTRACTOR_LLM_MODEL", "from-env")
    clean_env.setenv("EXTRACTOR_LLM_MAX_TOKENS", "200")
    assert _sent(llm_server, tmp_path, "--config", cfg) == ({"from-env"}, {200})
    assert _sent(llm_server, tmp_path, "--config", cfg, "--model", "from-flag") == ({"from-flag"}, {200})
    clean_env.setenv("EXTRACTOR_LLM_CONFIG", cfg)  # the file named by the environment, no flag at all
    assert _sent(llm_server, tmp_path) == ({"from-env"}, {200})


def test_the_environment_alone_turns_the_llm_path_on_and_a_flag_off(
    tmp_path: Path, llm_server: ScriptedServer, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("EXTRACTOR_LLM_MODEL", "env-model")
    clean_env.setenv("EXTRACTOR_LLM_BASE_URL", llm_server.base_url)
    clean_env.setenv("EXTRACTOR_LLM_USE_CACHE", "false")
    assert _sent(llm_server, tmp_path)[0] == {"env-model"}
    assert _sent(llm_server, tmp_path, "--llm", "off") == (set(), set())
    clean_env.setenv("EXTRACTOR_LLM_MODE", "off")
    assert _sent(llm_server, tmp_path) == (set(), set())
    assert _sent(llm_server, tmp_path, "--llm", "auto")[0] == {"env-model"}  # the flag wins


def test_a_bad_value_names_its_source(
    tmp_path: Path, llm_server: ScriptedServer, clean_env: pytest.MonkeyPatch
) -> None:
    cfg = str(_config(tmp_path, llm_server))
    clean_env.setenv("EXTRACTOR_LLM_TIMEOUT_S", "-1")
    res = runner.invoke(app, ["extract", str(REPORT), "-o", str(tmp_path / "r.jsonl"), "--config", cfg])
    assert res.exit_code == 2
    assert "EXTRACTOR_LLM_TIMEOUT_S" in res.output and "greater than 0" in res.output
    assert llm_server.calls() == []
    bad = str(_config(tmp_path, llm_server, timeout_s=-1))
    clean_env.delenv("EXTRACTOR_LLM_TIMEOUT_S")
    res = runner.invoke(app, ["extract", str(REPORT), "-o", str(tmp_path / "r.jsonl"), "--config", bad])
    assert res.exit_code == 2 and "llm.toml: invalid LLM config: timeout_s" in res.output


def test_the_key_never_comes_from_the_llm_prefix(
    tmp_path: Path, llm_server: ScriptedServer, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("EXTRACTOR_LLM_MODEL", "m")
    clean_env.setenv("EXTRACTOR_LLM_API_KEY", "sk-not-a-key-source")
    res = runner.invoke(app, ["extract", str(REPORT), "-o", str(tmp_path / "r.jsonl"), "-q"])
    assert res.exit_code == 0, res.output
    assert "LLM path off" in res.output  # no base URL and no key: the variable was not read
    assert LLMConfig.load(env=dict(os.environ)).resolved_api_key() is None
    assert "sk-not-a-key-source" not in repr(LLMOptions.from_cli(model="m"))  # not even captured
    clean_env.setenv("EXTRACTOR_API_KEY", "sk-from-the-key-variable")
    assert LLMConfig.load(env=dict(os.environ)).resolved_api_key() == "sk-from-the-key-variable"


def test_load_layers_and_reports_the_flag(tmp_path: Path, llm_server: ScriptedServer) -> None:
    cfg = _config(tmp_path, llm_server, api_key="sk-file-only")
    got = LLMConfig.load(cfg, env={"EXTRACTOR_LLM_TEMPERATURE": "0.5"}, flags={"model": "f", "mode": None})
    assert (got.model, got.temperature, got.max_tokens, got.mode) == ("f", 0.5, 100, "auto")
    assert got.api_key is not None and "sk-file-only" not in got.model_dump_json()
    with pytest.raises(ConfigError, match="command line: --llm"):
        LLMConfig.load(flags={"mode": "sometimes"})


def test_the_fast_path_applies_the_same_precedence(tmp_path: Path, llm_server: ScriptedServer) -> None:
    """``python -m extractor extract`` (no typer) with the environment and a flag."""
    _, located, reads = rule_truth(REPORT)
    for t in reads:
        llm_server.default[t] = dump(answer_rows(reads[t], located.template))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTOR_")}
    env |= {"EXTRACTOR_LLM_MODEL": "from-env", "EXTRACTOR_LLM_BASE_URL": llm_server.base_url,
            "EXTRACTOR_LLM_USE_CACHE": "0"}  # fmt: skip
    for extra, model in (([], "from-env"), (["--model", "from-flag"], "from-flag")):
        llm_server.requests.clear()
        out = tmp_path / "o.jsonl"
        argv = [sys.executable, "-m", "extractor", "extract", str(REPORT), "-q", "--overwrite"]
        argv.append(f"--output={out}")
        p = subprocess.run([*argv, *extra], env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert {c["model"] for c in llm_server.calls()} == {model}
        assert json.loads(out.read_text(encoding="utf-8"))["meta"]["llm_usage"]["calls"] >= 1


def test_estimate_reads_the_same_settings(clean_env: pytest.MonkeyPatch) -> None:
    files = [str(CORPUS / "002.txt"), str(CORPUS / "012.txt")]
    auto = json.loads(runner.invoke(app, ["estimate", *files]).output)
    assert auto["reports_to_model"] == 1  # 012 verifies on the rule path
    clean_env.setenv("EXTRACTOR_LLM_MODE", "always")
    res = runner.invoke(app, ["estimate", *files])  # the flag's default "auto" is given: it wins
    assert res.exit_code == 0 and json.loads(res.output)["reports_to_model"] == 1
    res = runner.invoke(app, ["estimate", *files, "--llm", "always"])
    assert res.exit_code == 0 and json.loads(res.output)["reports_to_model"] == 2
    res = runner.invoke(app, ["estimate", *files, "--llm", "sometimes"])
    assert res.exit_code == 2 and "command line: --llm" in res.output
