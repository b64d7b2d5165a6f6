"""``extractor estimate``: what a run would send to the model, before spending anything."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import NotRequired, TypedDict

from extractor.errors import InputError
from extractor.llm.config import LLMConfig
from extractor.llm.prompt import Prompt, compact_table_text, load_prompt
from extractor.llm.route import routed_tables
from extractor.llm.schema import CanonRow, answer_model, canonical_rows, schema_json
from extractor.models import TableValues
from extractor.pipeline import read_tables, verify_reads
from extractor.read.load import load_path
from extractor.tables.locate import locate, strip_page_furniture
from extractor.tables.rules import TableRead

#: Characters per token for CJK-heavy text (modern BPE tokenizers: 0.6–1 token per character).
CHARS_PER_TOKEN = 1.5


def tokens_of(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


class Estimate(TypedDict):
    """What ``extractor estimate`` prints (as JSON, in this key order; ``cost`` only when priced)."""

    reports: int
    reports_to_model: int
    unreadable: int
    tables: int
    tables_to_model: int
    by_table: dict[str, int]
    prompt_tokens: int
    completion_tokens: int
    prompt_tokens_max: int
    table_text_tokens: int
    whole_report_tokens: int
    mode: str
    heuristic: str
    cost: NotRequired[float]


def estimate(paths: list[Path], config: LLMConfig) -> Estimate:
    """What a run would send to the model, without calling it.

    Token counts use ``tokens ≈ characters / 1.5`` (CJK-heavy text; modern BPE tokenizers give
    0.6–1 token per Chinese character). ``prompt_tokens`` counts the messages of one attempt per
    routed table (system text, worked example, request with the table text) plus the schema;
    ``prompt_tokens_max`` allows every re-ask. ``table_text_tokens`` counts the table text alone
    and ``whole_report_tokens`` the whole report text (plus the system text), for comparison.
    """
    prompt = load_prompt(config.prompt_file)
    res = Estimate(
        reports=0,
        reports_to_model=0,
        unreadable=0,
        tables=0,
        tables_to_model=0,
        by_table={},
        prompt_tokens=0,
        completion_tokens=0,
        prompt_tokens_max=0,
        table_text_tokens=0,
        whole_report_tokens=0,
        mode=config.mode,  # what would be sent once an endpoint is configured (no key needed here)
        heuristic=f"tokens = ceil(chars / {CHARS_PER_TOKEN})",
    )
    for p in paths:
        try:
            doc = load_path(p)
        except InputError:
            res["unreadable"] += 1
            continue
        _count_report(res, prompt, config, doc.text)
    cost = config.cost(res["prompt_tokens"], res["completion_tokens"])
    if cost is not None:
        res["cost"] = round(cost, 6)
    return res


def _count_report(res: Estimate, prompt: Prompt, config: LLMConfig, report_text: str) -> None:
    """Add one readable report: its whole text, its tables, and the routed ones' messages."""
    res["reports"] += 1
    text = strip_page_furniture(report_text)
    located = locate(text)
    res["whole_report_tokens"] += tokens_of(len(text) + len(prompt.spec.system))
    if located.template is None:
        return
    reads = read_tables(text, located)
    ver = verify_reads(text, located, reads)
    by_table = {k: r.findings + [f for f in ver if f.table == k] for k, r in reads.items()}
    res["tables"] += len(reads)
    sent = routed_tables(config.mode, reads, by_table)
    res["reports_to_model"] += int(bool(sent))
    for t in sent:
        _count_table(res, prompt, config, (t, located.template), reads[t])


def _count_table(
    res: Estimate, prompt: Prompt, config: LLMConfig, which: tuple[str, str], read: TableRead
) -> None:
    """Add one routed table's messages, schema and expected answer to the estimate."""
    t, template = which
    variant = read.variant
    model = answer_model(t, template, variant)
    text_sent = compact_table_text(read.source)
    sip = config.structured_mode == "json"
    msgs = prompt.messages(t, template, variant, text_sent, schema_in_prompt=sip)
    chars = sum(len(m["content"]) for m in msgs) + len(schema_json(model))
    answer = _dummy_answer(canonical_rows(t, template, variant), read.values)
    res["tables_to_model"] += 1
    res["by_table"][t] = res["by_table"].get(t, 0) + 1
    res["prompt_tokens"] += tokens_of(chars)
    res["table_text_tokens"] += tokens_of(len(text_sent))
    res["completion_tokens"] += tokens_of(len(answer))
    res["prompt_tokens_max"] += tokens_of(chars + len(answer)) * (1 + config.max_reasks)


def _dummy_answer(rows: tuple[CanonRow, ...], values: TableValues) -> str:
    return json.dumps(
        {
            "rows": [
                {"label": r.label, "values": [values.get(r.key, {}).get(c) or 0 for c in r.columns]}
                for r in rows
            ]
        },
        ensure_ascii=False,
    )


__all__ = ["CHARS_PER_TOKEN", "Estimate", "estimate", "tokens_of"]
