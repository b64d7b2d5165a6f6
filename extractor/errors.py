"""The one error hierarchy. Every error the package raises on purpose derives from
:class:`ExtractorError`; the CLI is the only place that turns them into messages and exit codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class ExtractorError(Exception):
    """Base of every deliberate error raised by ``extractor``."""


class InputError(ExtractorError):
    """A file could not be turned into report text. Carries the file and the reason."""

    kind = "input"

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        # picklable (to and from worker processes): the default would call __init__(message)
        return type(self), (self.path, self.problem)


class EmptyInputError(InputError):
    kind = "empty"


class BinaryInputError(InputError):
    kind = "binary"


class UnsupportedFormatError(InputError):
    kind = "unsupported_format"


class DecodeError(InputError):
    kind = "decode"


class InputTooLargeError(InputError):
    kind = "too_large"


class ResultsFileError(ExtractorError):
    """A results JSONL (for ``verify`` or ``regress``) is missing or malformed."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[ResultsFileError], tuple[str, str]]:
        return type(self), (self.path, self.problem)


class RunIndexError(ExtractorError):
    """The run's on-disk index of the inputs it has seen could not be written (a full disk)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"the run's index of seen inputs (a temporary file; set TMPDIR to move it): {problem}; "
            "the records written so far are kept: free space and run again with --resume"
        )

    def __reduce__(self) -> tuple[type[RunIndexError], tuple[str]]:
        return type(self), (self.problem,)


class GoldenError(ExtractorError):
    """The golden set is missing, unreadable, or a case has no source."""


class ConfigError(ExtractorError):
    """A configuration value (model, base URL, prompt file, …) is invalid."""


class PromptError(ConfigError):
    """A prompt file under ``prompts/`` is missing or does not match the prompt model."""


class LLMError(ExtractorError):
    """The LLM path failed for a table after its retries (transport or validation)."""


class TransportError(LLMError):
    """Network-level failure talking to the model endpoint (after tenacity gave up)."""


class ModelAnswerError(LLMError):
    """The model's answer could not be parsed into the schema (after re-asks)."""


class RunStopped(ExtractorError):
    """The run is stopping (a signal): in-flight work was cancelled and must not become a record."""


class EndpointUnavailable(TransportError):
    """The circuit breaker is open: the endpoint failed too many times in a row during this run."""
