"""Measure (not a test): what the LLM path sends per routed report, against the report's whole text.

    python scripts/token_ratio.py MODEL.gguf [PATH ...]   (default PATH: samples/)

Counts real tokens with the GGUF model's own tokenizer (llama-cpp-python, vocab only — no
inference): for every report the rule path cannot fully verify, the messages of one attempt
for each routed table (system text, worked example, request with the table text) plus the JSON
Schema, against the whole report text. Prints each routed report and the totals.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.errors import InputError  # noqa: E402
from extractor.llm.config import LLMConfig  # noqa: E402
from extractor.llm.prompt import compact_table_text, load_prompt  # noqa: E402
from extractor.llm.route import routed_tables  # noqa: E402
from extractor.llm.schema import answer_model, schema_json  # noqa: E402
from extractor.pipeline import read_tables, verify_reads  # noqa: E402
from extractor.read.load import load_path  # noqa: E402
from extractor.run.runner import REPORT_SUFFIXES  # noqa: E402
from extractor.tables.locate import locate, strip_page_furniture  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    from llama_cpp import Llama

    llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)

    def n_tokens(s: str) -> int:
        return len(llm.tokenize(s.encode("utf-8"), add_bos=False, special=False))

    prompt = load_prompt(LLMConfig().prompt_file)
    paths = [Path(p) for p in sys.argv[2:]] or [ROOT / "samples"]
    files = sorted(
        f
        for p in paths
        for f in (p.rglob("*") if p.is_dir() else [p])
        if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES
    )
    sent_total = whole_total = 0
    worst = 0.0
    print(f"{'report':<32}{'tables':>8}{'sent':>8}{'whole':>8}{'ratio':>8}")
    for f in files:
        try:
            doc = load_path(f)
        except InputError:
            continue
        text = strip_page_furniture(doc.text)
        located = locate(text)
        if located.template is None:
            continue
        reads = read_tables(text, located)
        ver = verify_reads(text, located, reads)
        by_table = {k: r.findings + [x for x in ver if x.table == k] for k, r in reads.items()}
        tables = routed_tables("auto", reads, by_table)
        if not tables:
            continue
        sent = 0
        for t in tables:
            variant = reads[t].variant if t == "applications" else None
            sent_text = compact_table_text(reads[t].source)
            msgs = prompt.messages(t, located.template, variant, sent_text, schema_in_prompt=False)
            sent += sum(n_tokens(m["content"]) for m in msgs)
            sent += n_tokens(schema_json(answer_model(t, located.template, variant)))
        whole = n_tokens(text)
        sent_total += sent
        whole_total += whole
        worst = max(worst, sent / whole)
        print(f"{f.name[:31]:<32}{len(tables):>8}{sent:>8}{whole:>8}{sent / whole:>8.1%}")
    print(f"{'all routed reports':<32}{'':>8}{sent_total:>8}{whole_total:>8}{sent_total / whole_total:>8.1%}")
    print(f"worst single report: {worst:.1%} (prompt {prompt.version})")


if __name__ == "__main__":
    main()
