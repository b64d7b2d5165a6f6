"""Stopping a run on SIGINT/SIGTERM: promptly, cleanly, and at once on a second signal.

``with StopOnSignal(cancel) as stop:`` installs handlers for SIGINT and SIGTERM. The first signal
records itself, calls ``cancel`` (the LLM client cancels its in-flight requests) and raises
:class:`KeyboardInterrupt` in the main thread, which breaks whatever it waits on (a read, a
worker, a future) so the scheduler can write what is finished and report what is not. A second
signal ends the process at once with the same exit status (128 + signal number).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from types import TracebackType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal:
    def __init__(self, cancel: Callable[[], None] | None = None) -> None:
        self.cancel = cancel
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum or signal.SIGINT)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.signum is not None:
            os._exit(128 + signum)  # a second signal: at once
        self.signum = signum
        if self.cancel is not None:
            self.cancel()
        raise KeyboardInterrupt

    def __enter__(self) -> StopOnSignal:
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
