"""Seeded random error injection against the scripted server: every injected error must end
non-accepted — also those that break no identity, label, grounding or schema check, since every
accepted cell must stand where the source prints it (llm/align.py, check/evidence.py). Prints the
detection rate per kind and how many injections broke none of the older checks."""

from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from extractor.llm.config import LLMConfig
from extractor.llm.route import LLMRouter
from extractor.pipeline import verify_reads
from tests.helpers import CORPUS
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth

TARGETS = [
    ("012.txt", "active_disclosure"),
    ("012.txt", "applications"),
    ("012.txt", "review_litigation"),
    ("007.txt", "applications"),  # cells printed run together
    ("007.txt", "review_litigation"),
    ("015.txt", "active_disclosure"),  # template 2019
]
KINDS = (
    "swap_cells",
    "row_shift",
    "column_shift",
    "digit_typo",
    "not_in_text",
    "labels_out_of_order",
    "malformed_json",
    "truncated_json",
)
TRIALS_PER_KIND = 30
Rows = list[dict[str, Any]]


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else 0.0


def breaks_identity(table: str, rows: Rows, variant: str | None) -> bool:
    vals = [[_num(v) for v in r["values"]] for r in rows]
    if table == "review_litigation":
        return any(sum(g[:4]) != g[4] for g in vals if len(g) == 5)
    if table != "applications":
        return False
    if any(len(r) != 7 for r in vals):
        return True
    if any(sum(r[:6]) != r[6] for r in vals):  # H3
        return True
    tail = 2
    for c in range(7):
        col = [r[c] for r in vals]
        if col[0] + col[1] != col[-2] + col[-1]:  # H1
            return True
        if sum(col[2:-tail]) != col[-2]:  # H2
            return True
    return False


def breaks_grounding(rows: Rows, truth: Rows, source: str) -> bool:
    ground = re.sub(r"[\s,]", "", source)
    for r, t in zip(rows, truth, strict=False):
        for v, tv in zip(r["values"], t["values"], strict=False):
            if v == tv or not isinstance(v, (int, float)) or v == 0:
                continue
            if str(abs(v)) not in ground:
                return True
    return False


def mutate(kind: str, truth: Rows, rng: random.Random, source: str) -> tuple[Rows | str, str]:
    rows = copy.deepcopy(truth)
    cells = [
        (i, j) for i, r in enumerate(rows) for j, v in enumerate(r["values"]) if isinstance(v, (int, float))
    ]
    if kind == "swap_cells":
        a, b = rng.sample(cells, 2)
        va, vb = rows[a[0]]["values"][a[1]], rows[b[0]]["values"][b[1]]
        rows[a[0]]["values"][a[1]], rows[b[0]]["values"][b[1]] = vb, va
        return rows, f"{a}<->{b}"
    if kind == "row_shift":
        i = rng.randrange(len(rows) - 1)
        values = [r["values"] for r in rows]
        for j in range(i, len(rows) - 1):
            rows[j]["values"] = copy.deepcopy(values[j + 1])
        return rows, f"rows from {i} read one row down"
    if kind == "column_shift":
        i = rng.choice([k for k, r in enumerate(rows) if len(r["values"]) > 1])
        rows[i]["values"] = [0, *rows[i]["values"][:-1]]
        return rows, f"row {i} shifted right"
    if kind == "digit_typo":
        i, j = rng.choice(cells)
        v = rows[i]["values"][j]
        s = str(v)
        k = rng.choice([p for p, ch in enumerate(s) if ch.isdigit()])
        choices = [d for d in "0123456789" if d != s[k] and not (k == 0 and d == "0" and len(s) > 1)]
        new = s[:k] + rng.choice(choices) + s[k + 1 :]
        rows[i]["values"][j] = float(new) if "." in new else int(new)
        return rows, f"cell {(i, j)} {s}->{new}"
    if kind == "not_in_text":
        i, j = rng.choice(cells)
        while True:
            n = rng.randrange(100_000, 999_999)
            if str(n) not in source:
                break
        rows[i]["values"][j] = n
        return rows, f"cell {(i, j)} -> {n}"
    if kind == "labels_out_of_order":
        ra, rb = rng.sample(range(len(rows)), 2)
        rows[ra], rows[rb] = rows[rb], rows[ra]
        return rows, f"rows {ra},{rb} swapped with their labels"
    text = dump(rows)
    if kind == "malformed_json":
        spots = [m.start() for m in re.finditer(r'[,:"\]]', text)]
        k = rng.choice(spots)
        return text[:k] + text[k + 1 :], f"dropped {text[k]!r} at {k}"
    cut = rng.randrange(5, len(text) - 2)
    return text[:cut], f"cut at {cut}/{len(text)}"


@pytest.fixture(scope="module")
def truths() -> dict[str, Any]:
    out = {}
    for name in {n for n, _ in TARGETS}:
        text, located, reads = rule_truth(CORPUS / name)
        ver = verify_reads(text, located, reads)
        by_table = {k: r.findings + [f for f in ver if f.table == k] for k, r in reads.items()}
        out[name] = (text, located, reads, by_table)
    return out


def test_injected_errors_are_never_accepted(
    llm_server: ScriptedServer, tmp_path: Path, truths: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(20261122)
    cfg = LLMConfig(
        model="scripted",
        base_url=llm_server.base_url,
        mode="always",
        use_cache=False,
        max_reasks=1,
        timeout_s=5,
        max_attempts=2,
        structured_mode="json_schema",
    )
    router = LLMRouter(cfg)
    tried: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    by_rules: Counter[str] = Counter()
    detectable: Counter[str] = Counter()
    undetectable: dict[str, list[str]] = {}
    failures: list[str] = []
    try:
        for kind in KINDS:
            done = 0
            while done < TRIALS_PER_KIND:
                name, table = rng.choice(TARGETS)
                text, located, reads, by_table = truths[name]
                read = reads[table]
                truth = answer_rows(read, located.template)
                bad, how = mutate(kind, truth, rng, read.source)
                if not isinstance(bad, str) and bad == truth:
                    continue  # the mutation changed nothing (e.g. two equal cells swapped)
                done += 1
                tried[kind] += 1
                llm_server.reset()
                llm_server.default[table] = bad if isinstance(bad, str) else dump(bad)
                result = router(text, located, {table: read}, {table: by_table[table]})
                accepted = result.table_methods[table] == "llm"
                disagreed = any(f.check == "llm.disagreement" for f in result.findings)
                # bounded: one answer and one re-ask, unless the first answer passed every check
                assert len(llm_server.calls(table)) == (1 if accepted or disagreed else 2)
                if isinstance(bad, str):
                    breaks = "schema"
                    try:
                        json.loads(bad)
                    except json.JSONDecodeError:
                        pass
                else:
                    variant = read.variant if table == "applications" else None
                    labels_moved = [r["label"] for r in bad] != [r["label"] for r in truth]
                    shapes = [len(r["values"]) for r in bad] != [len(r["values"]) for r in truth]
                    breaks = (
                        "label" if labels_moved
                        else "shape" if shapes
                        else "identity" if breaks_identity(table, bad, variant)
                        else "grounding" if breaks_grounding(bad, truth, read.source)
                        else ""
                    )  # fmt: skip
                if not accepted:
                    caught[kind] += 1
                    by_rules[kind] += int(disagreed)
                if breaks:
                    detectable[kind] += 1
                    if accepted:
                        failures.append(f"{kind} on {name}/{table} ({how}) breaks {breaks} but was accepted")
                else:
                    undetectable.setdefault(kind, []).append(
                        f"{name}/{table} {how}: "
                        + ("accepted" if accepted else "caught by the rule read" if disagreed else "caught")
                    )
    finally:
        router.close()
    lines = [
        "",
        "LLM-path error injection (seeded, mode=always): caught = not accepted;",
        "by checks = rejected by the answer's own checks and the verifier;",
        "by rules = passed every check but disagreed with the (clean) rule read;",
        "breaking = breaks an identity, a label, the shape, grounding or the schema;",
        "sum-keeping = breaks none of them (caught only by the positional evidence)",
        f"{'kind':22} {'tried':>5} {'caught':>6} {'rate':>5} {'by checks':>9} {'by rules':>8} "
        f"{'breaking':>8} {'sum-keeping':>12}",
    ]
    for kind in KINDS:
        und = undetectable.get(kind, [])
        lines.append(
            f"{kind:22} {tried[kind]:5d} {caught[kind]:6d} {caught[kind] / tried[kind]:5.0%} "
            f"{caught[kind] - by_rules[kind]:9d} {by_rules[kind]:8d} {detectable[kind]:8d} {len(und):12d}"
        )
    for kind, items in undetectable.items():
        lines.append(f"  sum-keeping {kind}: " + "; ".join(items[:4]) + (" …" if len(items) > 4 else ""))
    with capsys.disabled():
        print("\n".join(lines))
    assert not failures, "\n".join(failures)
    assert sum(tried.values()) == TRIALS_PER_KIND * len(KINDS)
    for kind in KINDS:  # the positional check leaves nothing undetectable
        assert caught[kind] == tried[kind], (kind, undetectable.get(kind))
