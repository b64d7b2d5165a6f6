"""The LLM path: routing, re-asks with cell-level feedback, acceptance, accounting (one answer's
checks: :mod:`extractor.llm.judge`; what a run would send: :mod:`extractor.llm.estimate`).

``make_hook(config)`` returns a :data:`extractor.pipeline.TableHook`. For each table it routes
(``auto``: tables whose rule read has an error finding; ``always``: every table; ``off``: none)
it sends only the table's located text, checks the answer (schema; labels in order; grounding
and coverage; the shared verifier) and re-asks with the failures, at most ``max_reasks`` times.

Acceptance (``table_methods[t] = "llm"``):

* every check passes → accepted;
* only identities H1–H4 fail, but the rule read and the answer agree cell for cell and every
  number is grounded → kept (two independent readings of a report that violates its own
  identities; the record becomes ``source_inconsistent`` through the verifier);
* otherwise the rule read stays in the record (with its findings) and the best grounded model
  reading is attached to an ``llm.rejected`` finding for review. Nothing is ever filled in.

Two answers of one re-ask chain are *not* independent readings (a re-ask sees the previous
answer), so agreement between them never keeps a table.

The hook is thread-safe: its only shared state is the client (thread-safe) and the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.errors import ModelAnswerError, TransportError
from extractor.llm.cache import AnswerCache
from extractor.llm.client import Completion, LLMClient
from extractor.llm.config import LLMConfig
from extractor.llm.judge import agree, cells_of, errors_of, judge
from extractor.llm.prompt import Message, Prompt, compact_table_text, load_prompt
from extractor.llm.schema import (
    Answer,
    CanonRow,
    answer_model,
    canonical_rows,
    parse_answer,
)
from extractor.models import Finding, LLMUsage, Severity, finding
from extractor.pipeline import HookResult, TableHook
from extractor.tables.locate import Located
from extractor.tables.rules import TableRead

_OWN_CHECKS = (
    "llm.label",
    "llm.shape",
    "llm.value",
    "llm.grounding",
    "llm.coverage",
    "llm.zeros",
    "llm.align",
    "llm.cell_disagreement",
)
_IDENTITIES = ("H1", "H2", "H3", "H4")
_H1_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")


def _unconfirmable_cuts(t: str, rule_findings: list[Finding], cand: TableRead) -> list[Finding]:
    """Rows whose printed digits the rules found several valid cuts for: whichever cut the model
    picks passes grounding and every identity, so no check confirms it — the cells stay, but the
    report cannot be ``verified`` on them."""
    out = []
    for f in rule_findings:
        if f.check == "split" and f.severity == "error" and isinstance(f.actual, list):
            where = f.row or t
            picked = cand.values.get(f.row, {}) if f.row else cand.values
            out.append(
                _note(
                    t,
                    "llm.unconfirmed_cut",
                    "error",
                    f"{where}: the printed digits allow {len(f.actual)} cut(s) that pass every check; "
                    "the model chose one, but nothing can confirm which is right",
                    row=f.row,
                    actual=picked,
                )
            )
    return out


def routed_tables(mode: str, reads: dict[str, TableRead], by_table: dict[str, list[Finding]]) -> list[str]:
    """The tables the model is asked about, in table order."""
    if mode == "off":
        return []
    if mode == "always":
        return list(reads)
    return [t for t in reads if any(f.severity == "error" for f in by_table.get(t, []))]


def _reread_rows(errors: list[Finding], rows: tuple[CanonRow, ...]) -> list[str]:
    keys: list[str] = []
    for f in errors:
        if f.check == "H1":
            keys += _H1_ROWS
        elif f.check == "H2":
            keys += [r.key for r in rows[2:-1]]
        elif f.row:
            keys.append(f.row)
    by_key = {r.key: r.label for r in rows}
    seen: list[str] = []
    for k in keys:
        if k in by_key and by_key[k] not in seen:
            seen.append(by_key[k])
    return seen


class LLMRouter:
    """The hook object: ``router(text, located, reads, by_table) -> HookResult``."""

    def __init__(self, config: LLMConfig, prompt: Prompt | None = None) -> None:
        self.config = config
        self.prompt = prompt or load_prompt(config.prompt_file)
        self.cache = AnswerCache(config.cache_dir) if config.use_cache and config.enabled else None
        self.client = LLMClient(config, self.prompt.sha256, self.cache) if config.enabled else None

    def __call__(
        self, text: str, located: Located, reads: dict[str, TableRead], by_table: dict[str, list[Finding]]
    ) -> HookResult:
        out = dict(reads)
        methods = dict.fromkeys(reads, "rules")
        findings: list[Finding] = []
        usage = LLMUsage(model=self.config.model, prompt=self.prompt.version)
        template = located.template
        if template is None or self.client is None:
            return HookResult(out, methods, findings, usage)
        for t in routed_tables(self.config.mode, reads, by_table):
            usage.tables_sent.append(t)
            read, method, extra = self._table(t, template, reads[t], by_table.get(t, []), usage)
            out[t], methods[t] = read, method
            findings += extra
        cost = self.config.cost(usage.prompt_tokens, usage.completion_tokens)
        if cost is not None:
            usage.cost = round(cost, 8)
        return HookResult(out, methods, findings, usage)

    def _table(
        self, t: str, template: str, rule: TableRead, rule_findings: list[Finding], usage: LLMUsage
    ) -> tuple[TableRead, str, list[Finding]]:
        client = self.client
        assert client is not None  # __call__ only routes tables when the path is enabled
        ask = _Ask.start(t, template, rule, rule_findings)

        def build(schema_in_prompt: bool) -> list[Message]:
            sent = self.prompt.messages(t, template, ask.variant, ask.sent, schema_in_prompt=schema_in_prompt)
            return sent + ask.history

        for attempt in range(1 + self.config.max_reasks):
            usage.attempts[t] = attempt + 1
            try:
                done = client.complete(ask.model.__name__, ask.model, build)
            except TransportError as exc:
                return rule, "rules", [_note(t, "llm.transport", "warning", f"{t}: no model answer: {exc}")]
            _count_usage(usage, t, done)
            settled = self._weigh(ask, done, attempt)
            if settled is not None:
                return settled
        rejected = self._rejected(t, ask.rule_clean, ask.best, ask.last_problems, usage.attempts[t])
        if rejected.actual is None and ask.last_cand is not None:
            rejected.actual = ask.last_cand.values  # the candidate is kept for review, never used
        return rule, "rules", [rejected]

    def _weigh(
        self, ask: _Ask, done: Completion, attempt: int
    ) -> tuple[TableRead, str, list[Finding]] | None:
        """One answer: the table as settled by it, or None after adding the re-ask its failures ask for."""
        try:
            answer = parse_answer(done.content, ask.model)
        except ModelAnswerError as exc:
            if done.finish_reason == "length":
                exc = ModelAnswerError(f"{exc} (the answer was cut off at max_tokens)")
            self._reask(ask, done, [str(exc)], [])
            return None
        cand, errors = judge(
            answer, ask.rows, ask.rule, (ask.t, ask.template, ask.variant, ask.sent), ask.rule_clean
        )
        ask.last_cand = cand
        if not errors:
            trusted = not [f for f in errors_of(ask.rule_findings) if f.check not in _IDENTITIES]
            return self._accepted(ask.t, ask.rule, trusted, cand, ask.rows, attempt, ask.rule_findings)
        own_ok = not any(f.check in _OWN_CHECKS for f in errors)
        only_identities = own_ok and all(f.check in _IDENTITIES for f in errors)
        if only_identities and agree(cand.values, ask.rule.values, ask.rows):
            return _as_printed(ask.t, cand, len(errors)), "llm", []
        if own_ok and (ask.best is None or len(errors) < ask.best[0]):
            ask.best = (len(errors), cand, errors)
        self._reask(ask, done, [f.message for f in errors[:12]], _reread_rows(errors, ask.rows))
        return None

    def _reask(self, ask: _Ask, done: Completion, problems: list[str], rows: list[str]) -> None:
        """The answer and what was wrong with it (and which rows to read again) join the conversation."""
        ask.last_problems = problems
        ask.history += [
            {"role": "assistant", "content": done.content},
            self.prompt.reask(problems, rows, len(ask.rows)),
        ]

    def _accepted(
        self,
        t: str,
        rule: TableRead,
        trusted: bool,
        cand: TableRead,
        rows: tuple[CanonRow, ...],
        attempt: int,
        rule_findings: list[Finding],
    ) -> tuple[TableRead, str, list[Finding]]:
        # The rule read is complete and grounded (at most the source's own identities fail): a
        # model reading that differs from it is either wrong or a "repair" of the report's
        # numbers; neither may replace what is printed.
        if trusted and not agree(cand.values, rule.values, rows):
            msg = (
                f"{t}: the model's reading passes every check but differs from the complete rule "
                "read; one of them is wrong in a way the checks cannot see, or the model repaired "
                "numbers the report prints inconsistently"
            )
            return (
                rule,
                "rules",
                [_note(t, "llm.disagreement", "error", msg, actual=cells_of(cand.values, rows))],
            )
        how = "first answer" if attempt == 0 else f"answer after {attempt} re-ask(s)"
        cand.findings = [
            *cand.findings,
            *_unconfirmable_cuts(t, rule_findings, cand),
            _note(
                t,
                "llm.accepted",
                "info",
                f"{t}: read by the model ({how}); labels, grounding and identities all check",
            ),
        ]
        return cand, "llm", []

    def _rejected(
        self,
        t: str,
        rule_clean: bool,
        best: tuple[int, TableRead, list[Finding]] | None,
        problems: list[str],
        attempts: int,
    ) -> Finding:
        sev: Severity = "warning" if rule_clean else "error"
        if best is None:
            msg = (
                f"{t}: no model answer passed the checks of the answer itself (schema, labels, "
                f"grounding, coverage) in {attempts} attempt(s); the rule read is kept. "
                f"Last problems: {'; '.join(problems[:4])}"
            )
            return _note(t, "llm.rejected", sev, msg)
        msg = (
            f"{t}: the best model reading still fails {best[0]} check(s) "
            f"({'; '.join(f.message for f in best[2][:3])}); the rule read is kept"
        )
        return _note(t, "llm.rejected", sev, msg, actual=best[1].values)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cache is not None:
            self.cache.close()


def _note(
    t: str, check: str, severity: Severity, message: str, actual: object = None, row: str | None = None
) -> Finding:
    return finding(check, severity, message, table=t, row=row, actual=actual)


def make_hook(config: LLMConfig) -> TableHook:
    """The LLM path as a pipeline hook. Raises ConfigError/PromptError for a bad config or prompt."""
    return LLMRouter(config)


__all__ = ["LLMRouter", "make_hook", "routed_tables"]


def _count_usage(usage: LLMUsage, t: str, done: Completion) -> None:
    usage.calls += done.requests
    usage.modes[t] = done.mode
    usage.cache_hits += int(done.from_cache)
    if not done.from_cache:
        usage.add(done.tokens)


@dataclass
class _Ask:
    """One table's conversation with the model: what is sent, what came back, the best reading."""

    t: str
    template: str
    rule: TableRead
    rule_findings: list[Finding]
    rule_clean: bool
    rows: tuple[CanonRow, ...]
    model: type[Answer]
    sent: str
    history: list[Message] = field(default_factory=list)
    best: tuple[int, TableRead, list[Finding]] | None = None
    last_cand: TableRead | None = None
    last_problems: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, t: str, template: str, rule: TableRead, rule_findings: list[Finding]) -> _Ask:
        variant = rule.variant  # table 三's row set, as its reader decided it (None for 二 and 四)
        rows, model = canonical_rows(t, template, variant), answer_model(t, template, variant)
        clean = not errors_of(rule_findings)
        return cls(t, template, rule, rule_findings, clean, rows, model, compact_table_text(rule.source))

    @property
    def variant(self) -> str | None:
        return self.rule.variant

    @property
    def where(self) -> tuple[str, str, str | None, str]:
        """(table, template, variant, the text sent), as :func:`extractor.llm.judge.judge` takes it."""
        return self.t, self.template, self.variant, self.sent


def _as_printed(t: str, cand: TableRead, n_failures: int) -> TableRead:
    """The model read the rule path's cells and the source's own identities fail: kept as printed."""
    note = _note(
        t,
        "llm.agreement",
        "info",
        f"{t}: the rule path and the model read the same cells; the identities fail "
        f"in the source itself ({n_failures} failure(s)); kept as printed",
    )
    cand.findings = [*cand.findings, note]
    return cand
