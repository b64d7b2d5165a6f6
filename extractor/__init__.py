"""extractor — verified tables from China's 政府信息公开工作年度报告."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
