"""What the CLI's commands share: the two consoles, the error exit, markup escaping, the LLM hook
and the status table.

Only the CLI modules use it; it imports rich and the pipeline lazily (on first print), and never
typer, so ``extractor --help`` and the fast path of ``extract`` stay fast.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from extractor.llm.options import LLMOptions

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


class _LazyConsole:
    """A rich Console made on first use (importing rich is a third of the CLI's start-up)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


err = _LazyConsole(stderr=True, soft_wrap=True)
out = _LazyConsole(soft_wrap=True)


def escape(text: str) -> str:
    """User text made safe inside rich markup (file names, messages: ``[export]`` stays as is)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def fail(message: str, code: int = 2) -> SystemExit:
    """The error line on stderr and the exit to raise (a plain SystemExit: no typer needed, so the
    fast path of ``extract`` can use it; click passes it through with its code)."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return SystemExit(code)


def llm_hook(options: LLMOptions) -> Any:
    """The LLM router when a model is configured; None keeps the offline rule path."""
    from extractor.llm.options import build_hook

    hook = build_hook(options)
    if hook is None and options.wanted:
        err.print("[yellow]LLM path off:[/yellow] no base URL and no API key in the environment")
    return hook


def summary(counts: Counter[str], skipped: int, title: str) -> Table:
    from rich.table import Table

    from extractor.models import STATUSES

    t = Table(title=title, title_justify="left")
    t.add_column("status")
    t.add_column("reports", justify="right")
    for s in STATUSES:
        t.add_row(s, str(counts.get(s, 0)))
    t.add_row("total", str(sum(counts.values())), style="bold")
    if skipped:
        t.add_row("skipped (not a report file)", str(skipped), style="dim")
    return t


def hook_factory(options: LLMOptions) -> LLMOptions | None:
    """For the Ray engine: the options rebuild the hook inside each worker (a hook holds sockets)."""
    return options if options.wanted else None
