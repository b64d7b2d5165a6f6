"""What the CLI's commands share: the two consoles, the error exit, markup escaping, the LLM hook
and the status table.

Only the CLI modules use it; it imports rich and the pipeline lazily (on first print), and never
typer, so ``extractor --help`` and the fast path of ``extract`` stay fast. Printed to a file or a
pipe (not a terminal: no styles), the status table and plain lines are written as rich writes them
without importing rich — a third of a one-file run's start-up; anything else goes through rich
(tests/test_cli_support.py compares the two).
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from extractor.llm.options import LLMOptions
from extractor.models import STATUSES

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

    def print(self, *objects: Any, **options: Any) -> None:
        """rich's ``Console.print``; a :class:`Summary`, or a line printed with ``markup=False,
        highlight=False``, is written directly when rich would write it without styles."""
        if len(objects) == 1:
            text = _plain(objects[0], options)
            stream = self._plain_stream() if text is not None else None
            if text is not None and stream is not None and _fits(objects[0]):
                stream.write(text)
                stream.flush()
                return
            if isinstance(objects[0], Summary):
                objects = (objects[0].table(),)
        self.real.print(*objects, **options)

    def _plain_stream(self) -> TextIO | None:
        """The stream, when rich would print to it without styles, boxes in Unicode, no wrapping."""
        stream = sys.stderr if self._options.get("stderr") else sys.stdout
        if (
            not self._options.get("soft_wrap")
            or sys.platform == "win32"
            or "IPython" in sys.modules
            or any(k in os.environ for k in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"))
            or hasattr(stream, "rich_proxied_file")
            or not (getattr(stream, "encoding", None) or "utf-8").lower().startswith("utf")
        ):
            return None
        try:
            return None if stream.isatty() else stream
        except ValueError:
            return None


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


@dataclass(frozen=True)
class Summary:
    """The status table of a run: reports by status, the total, inputs skipped; under a title."""

    counts: Counter[str]
    skipped: int
    title: str

    def rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = [(s, str(self.counts.get(s, 0))) for s in STATUSES]
        rows.append(("total", str(sum(self.counts.values()))))
        if self.skipped:
            rows.append(("skipped (not a report file)", str(self.skipped)))
        return rows

    def widths(self) -> tuple[int, int]:
        rows = self.rows()
        return max(len("status"), *(len(a) for a, _ in rows)), max(len("reports"), *(len(b) for _, b in rows))

    def table(self) -> Table:
        from rich.table import Table

        t = Table(title=self.title, title_justify="left")
        t.add_column("status")
        t.add_column("reports", justify="right")
        for label, n in self.rows():
            style = {"total": "bold", "skipped (not a report file)": "dim"}.get(label)
            t.add_row(label, n, style=style)
        return t

    def plain(self) -> str:
        """The table as rich prints it where there are no styles (heavy-head box, title above)."""
        a, b = self.widths()
        lines = [self.title] if self.title else []  # (rich prints no line for no title)
        lines.append(f"┏{'━' * (a + 2)}┳{'━' * (b + 2)}┓")
        lines += [f"┃ {'status':<{a}} ┃ {'reports':>{b}} ┃", f"┡{'━' * (a + 2)}╇{'━' * (b + 2)}┩"]
        lines += [f"│ {label:<{a}} │ {n:>{b}} │" for label, n in self.rows()]
        lines.append(f"└{'─' * (a + 2)}┴{'─' * (b + 2)}┘")
        return "\n".join(lines) + "\n"


def summary(counts: Counter[str], skipped: int, title: str) -> Summary:
    return Summary(counts, skipped, title)


#: rich's emoji codes (``:smile:``): a line holding one goes through rich.
_EMOJI = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")


def _plain(obj: Any, options: dict[str, Any]) -> str | None:
    """What rich writes for ``obj`` without styles, when that is certain; None: ask rich."""
    if isinstance(obj, Summary):
        title = obj.title
        plain = not options and title.isprintable() and "[" not in title and not _EMOJI.search(title)
        return obj.plain() if plain else None
    if isinstance(obj, str) and options.get("markup") is False and set(options) <= {"markup", "highlight"}:
        # (highlighting only adds styles)
        return obj + "\n" if obj.isprintable() and not _EMOJI.search(obj) else None
    return None


def _fits(obj: Any) -> bool:
    """The table is no wider than rich's console (else rich would shrink its columns)."""
    if not isinstance(obj, Summary):
        return True
    a, b = obj.widths()
    return a + b + 7 <= _console_width()


def _console_width() -> int:
    """rich's console width: ``COLUMNS``, else the first standard stream's terminal, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80


def hook_factory(options: LLMOptions) -> LLMOptions | None:
    """For the Ray engine: the options rebuild the hook inside each worker (a hook holds sockets)."""
    return options if options.wanted else None
