"""Unit tests of the LLM path's configuration, prompt file, answer schema and checks (no HTTP)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import openai
import pytest

from extractor.errors import ConfigError, ModelAnswerError, PromptError
from extractor.llm.align import align_answer
from extractor.llm.config import DEFAULT_PROMPT, LLMConfig
from extractor.llm.judge import check_answer
from extractor.llm.prompt import compact_table_text, load_prompt
from extractor.llm.schema import (
    answer_model,
    canonical_rows,
    check_coverage,
    check_grounding,
    parse_answer,
    to_read,
)
from extractor.llm.transport import retry_after_s
from extractor.models import TableValues
from tests.helpers import seed
from tests.llm_server import answer_rows, dump, rule_truth


# ------------------------------------------------------------------ config
def test_enabled_needs_a_model_and_an_endpoint_or_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    monkeypatch.delenv("MY_KEY", raising=False)
    assert not LLMConfig().enabled
    assert not LLMConfig(model="m").enabled  # no key, no base URL → off
    assert LLMConfig(model="m", base_url="http://127.0.0.1:1/v1").enabled
    assert not LLMConfig(model="m", base_url="http://127.0.0.1:1/v1", mode="off").enabled
    assert not LLMConfig(base_url="http://127.0.0.1:1/v1").enabled
    monkeypatch.setenv("MY_KEY", "sk-x")
    assert not LLMConfig(model="m").enabled
    assert LLMConfig(model="m", api_key_env="MY_KEY").enabled
    assert LLMConfig(model="m", api_key_env="MY_KEY").resolved_api_key() == "sk-x"


def test_from_file_reads_toml_and_hides_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    f = tmp_path / "llm.toml"
    f.write_text(
        '[llm]\nmodel = "gpt-x"\napi_key = "sk-from-file"\nmode = "always"\nmax_reasks = 1\n'
        "price_prompt_per_m = 0.5\nprice_completion_per_m = 1.5\n",
        encoding="utf-8",
    )
    cfg = LLMConfig.from_file(f)
    assert cfg.enabled and cfg.mode == "always" and cfg.max_reasks == 1
    assert cfg.resolved_api_key() == "sk-from-file"
    assert "sk-from-file" not in repr(cfg) and "sk-from-file" not in cfg.model_dump_json()
    assert cfg.cost(1_000_000, 1_000_000) == pytest.approx(2.0)
    assert LLMConfig(model="m").cost(10, 10) is None
    f.write_text('model = "m"\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    assert LLMConfig.from_file(f).base_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize(
    "body, needle",
    [
        ('model = "m"\nmodle = "typo"\n', "modle"),
        ('mode = "sometimes"\n', "mode"),
        ("model = [\n", "not valid TOML"),
        ("max_reasks = -1\n", "max_reasks"),
    ],
)
def test_from_file_rejects_bad_configs(tmp_path: Path, body: str, needle: str) -> None:
    f = tmp_path / "llm.toml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        LLMConfig.from_file(f)
    with pytest.raises(ConfigError, match="cannot read"):
        LLMConfig.from_file(tmp_path / "missing.toml")


# ------------------------------------------------------------------ prompt
def test_prompt_file_is_strict(tmp_path: Path) -> None:
    p = load_prompt(DEFAULT_PROMPT)
    assert p.version == "tables_v3" and len(p.sha256) == 64
    assert load_prompt(DEFAULT_PROMPT.with_name("tables_v2.toml")).version == "tables_v2"
    assert load_prompt(DEFAULT_PROMPT.with_name("tables_v1.toml")).version == "tables_v1"
    bad = tmp_path / "p.toml"
    bad.write_text(DEFAULT_PROMPT.read_text(encoding="utf-8") + '\nsurprise = "x"\n', encoding="utf-8")
    with pytest.raises(PromptError, match="surprise"):
        load_prompt(bad)
    text = DEFAULT_PROMPT.read_text(encoding="utf-8").replace("$text", "$txet", 1)
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(PromptError, match="placeholder"):
        load_prompt(bad)
    with pytest.raises(PromptError, match="cannot read"):
        load_prompt(tmp_path / "nope.toml")
    shutil.copy(DEFAULT_PROMPT, tmp_path / "same.toml")
    assert load_prompt(tmp_path / "same.toml").sha256 == p.sha256


def test_worked_examples_are_seed_000_exactly() -> None:
    """v1's examples are the real tables of seed 000, and they pass every check."""
    p = load_prompt(DEFAULT_PROMPT.with_name("tables_v1.toml"))
    _, _, reads = rule_truth(seed("000"))
    for table, ex in p.spec.examples.items():
        assert ex.seed == seed("000").stem
        variant = ex.template if table == "applications" else None
        rows = canonical_rows(table, ex.template, variant)
        answer = parse_answer(ex.answer, answer_model(table, ex.template, variant))
        read = to_read(answer, rows, table, reads[table].source, variant)
        assert read.values == reads[table].values
        tied = align_answer(answer, rows, read, reads[table])  # every cell where the seed prints it
        assert [f for f in check_answer(read, ex.template, ex.text, tied) if f.severity == "error"] == []
        squeezed = "".join(ex.text.split())
        assert squeezed in "".join(reads[table].source.split()) or table == "applications"


@pytest.mark.parametrize("version", ["tables_v2", "tables_v3"])
def test_excerpt_examples_are_cut_from_the_seeds_exactly(version: str) -> None:
    """v2's and v3's short examples: their text stands in the seed, each answered row is the seed's."""
    p = load_prompt(DEFAULT_PROMPT.with_name(f"{version}.toml"))
    for table, ex in p.spec.examples.items():
        assert ex.excerpt
        _, _, reads = rule_truth(seed(ex.seed[:3]))
        source = "".join(reads[table].source.split())
        assert "".join(ex.text.split()) in source, table
        by_label = {r.label: r for r in canonical_rows(table, ex.template, ex.template)}
        by_pattern = {pat: r for r in by_label.values() for pat in r.patterns}
        for row in json.loads(ex.answer)["rows"]:
            canon = by_label.get(row["label"]) or next(
                r for pat, r in by_pattern.items() if pat in row["label"].replace("、", ",")
            )
            got = [str(v) for v in reads[table].values[canon.key].values()]
            assert got == [str(v) for v in row["values"]], (table, row)


def test_messages_hold_only_the_table_text() -> None:
    p = load_prompt(DEFAULT_PROMPT)
    _, _, reads = rule_truth(seed("002"))
    for t, read in reads.items():
        msgs = p.messages(t, "2021", read.variant, read.source, schema_in_prompt=False)
        assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user"
        assert compact_table_text(read.source) in msgs[-1]["content"]
        assert msgs[-1]["content"].count("<<<") == 1
        assert f"[table: {t}]" in msgs[-1]["content"]
        assert "总体情况" not in json.dumps(msgs, ensure_ascii=False)
        with_schema = p.messages(t, "2021", read.variant, read.source, schema_in_prompt=True)
        assert "JSON Schema" in with_schema[0]["content"] and "JSON Schema" not in msgs[0]["content"]


# ------------------------------------------------------------------ schema and checks
def test_parse_answer_reports_what_is_wrong() -> None:
    model = answer_model("review_litigation", "2021")
    good = '{"rows": [{"label": "行政复议", "values": [0,0,0,0,0]}, {"label": "未经复议直接起诉", "values": [0,0,0,0,0]}, {"label": "复议后起诉", "values": [0,0,0,0,0]}]}'  # noqa: E501
    assert len(parse_answer(good, model).rows) == 3
    assert len(parse_answer(f"```json\n{good}\n```", model).rows) == 3
    with pytest.raises(ModelAnswerError, match="truncated"):
        parse_answer(good[:40], model)
    with pytest.raises(ModelAnswerError, match="malformed"):
        parse_answer(good.replace(",", "", 1), model)
    with pytest.raises(ModelAnswerError, match="schema"):
        parse_answer('{"rows": []}', model)
    with pytest.raises(ModelAnswerError, match="schema"):
        parse_answer(good.replace('"values": [0,0,0,0,0]', '"values": [true,0,0,0,0]', 1), model)
    with pytest.raises(ModelAnswerError, match="empty"):
        parse_answer("  ", model)


def test_labels_must_map_in_order() -> None:
    _, _, reads = rule_truth(seed("000"))
    read = reads["applications"]
    rows = canonical_rows("applications", "2021", "2021")
    model = answer_model("applications", "2021", "2021")
    truth = answer_rows(read, "2021")
    ok = to_read(parse_answer(dump(truth), model), rows, "applications", read.source, "2021")
    assert not [f for f in ok.findings if f.check == "llm.label"]
    swapped = [truth[1], truth[0], *truth[2:]]
    bad = to_read(parse_answer(dump(swapped), model), rows, "applications", read.source, "2021")
    labels = [f for f in bad.findings if f.check == "llm.label"]
    assert len(labels) == 2 and "out of order" in labels[0].message
    nonsense = [{"label": "合计", "values": truth[0]["values"]}, *truth[1:]]
    bad = to_read(parse_answer(dump(nonsense), model), rows, "applications", read.source, "2021")
    assert "not the label" in next(f for f in bad.findings if f.check == "llm.label").message


def test_grounding_and_coverage() -> None:
    src = "行政复议\n27\t10\t9\t15\t61\n诉讼 3 0 0 0 3 8 0 1 1 10"
    values: TableValues = {
        "review": {"upheld": 27, "corrected": 10, "other": 9, "pending": 15, "total": 61},
        "litigation_direct": {"upheld": 3, "corrected": 0, "other": 0, "pending": 0, "total": 3},
        "litigation_after_review": {"upheld": 8, "corrected": 0, "other": 1, "pending": 1, "total": 10},
    }
    assert check_grounding(values, src, "t") == [] and check_coverage(values, src, "t") == []
    typo: TableValues = {**values, "review": {**values["review"], "pending": 51}}
    assert [f.column for f in check_grounding(typo, src, "t")] == ["pending"]
    zeros: TableValues = {g: dict.fromkeys(cols, 0) for g, cols in values.items()}
    assert check_grounding(zeros, src, "t") == []
    assert len(check_coverage(zeros, src, "t")) == 11  # every printed non-zero number is unread
    glued = "行政复议25380363300630003"  # corpus 007: cells printed run together
    run: TableValues = {
        "r": {"a": 25, "b": 3, "c": 8, "d": 0, "e": 36},
        "s": {"a": 3, "b": 3, "c": 0, "d": 0, "e": 6},
        "u": {"a": 3, "b": 0, "c": 0, "d": 0, "e": 3},
    }
    assert check_grounding(run, glued, "t") == [] and check_coverage(run, glued, "t") == []


def _status_error(status: int, headers: dict[str, str]) -> openai.APIStatusError:
    req = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    return openai.APIStatusError(
        "x", response=httpx.Response(status, headers=headers, request=req), body=None
    )


def test_retry_after_header_forms() -> None:
    assert retry_after_s(_status_error(429, {"Retry-After": "3"})) == 3.0
    assert retry_after_s(_status_error(429, {"retry-after-ms": "1500"})) == 1.5
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_s(_status_error(503, {"Retry-After": later})) or 0) <= 31
    assert retry_after_s(_status_error(429, {})) is None
    assert retry_after_s(ValueError("x")) is None


def test_retry_wait_is_tenacity_backoff_unless_retry_after_asks() -> None:
    from tenacity import RetryCallState, wait_exponential_jitter

    from extractor.llm.transport import wait_retry_after

    wait = wait_retry_after(wait_exponential_jitter(multiplier=0.5, max=30, jitter=1), max_total_s=100)

    def state(n: int, exc: BaseException) -> RetryCallState:
        st = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        st.attempt_number = n
        st.set_exception((type(exc), exc, None))
        return st

    for n, base in ((1, 0.5), (2, 1.0), (3, 2.0)):
        waits = [wait(state(n, ValueError("x"))) for _ in range(50)]
        assert all(base <= w <= base + 1.0 for w in waits), (n, waits[:3])
        assert len(set(waits)) > 1  # jitter
    assert {wait(state(12, ValueError("x"))) for _ in range(5)} == {30.0}  # capped
    assert wait(state(1, _status_error(429, {"Retry-After": "7"}))) == 7.0
    short = wait_retry_after(wait_exponential_jitter(multiplier=0.5), max_total_s=2)
    assert short(state(1, _status_error(429, {"Retry-After": "7"}))) <= 2.0
