"""extractor — verified tables from China's 政府信息公开工作年度报告.

The public Python API::

    import extractor
    record = extractor.extract_file("report.pdf")
    print(record.status, record.tables["review_litigation"]["review"]["total"])

Names load on first use, so ``import extractor`` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from extractor import _native
from extractor._version import __version__

_native.install()  # the compiled hot modules, unless their sources changed since the build

if TYPE_CHECKING:
    from extractor.api import extract_bytes, extract_file, extract_text
    from extractor.errors import (
        ConfigError,
        ExtractorError,
        InputError,
        ModelAnswerError,
        TransportError,
        UnsupportedFormatError,
    )
    from extractor.llm.config import LLMConfig
    from extractor.models import Finding, Record

__all__ = [
    "ConfigError",
    "ExtractorError",
    "Finding",
    "InputError",
    "LLMConfig",
    "ModelAnswerError",
    "Record",
    "TransportError",
    "UnsupportedFormatError",
    "__version__",
    "extract_bytes",
    "extract_file",
    "extract_text",
]

_WHERE = {
    "ConfigError": "extractor.errors",
    "ExtractorError": "extractor.errors",
    "InputError": "extractor.errors",
    "ModelAnswerError": "extractor.errors",
    "TransportError": "extractor.errors",
    "UnsupportedFormatError": "extractor.errors",
    "LLMConfig": "extractor.llm.config",
    "Finding": "extractor.models",
    "Record": "extractor.models",
    "extract_bytes": "extractor.api",
    "extract_file": "extractor.api",
    "extract_text": "extractor.api",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'extractor' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
