"""Typed LLM options as given on a command line or to a worker, and the hook they make."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LLMOptions:
    """The LLM options of ``extract`` (None: not given). Hashable and picklable, unlike a hook,
    so a Ray worker can rebuild the same hook from them."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    llm: str | None = None
    config: Path | None = None
    cache_dir: str | None = None
    use_cache: bool | None = None

    @property
    def wanted(self) -> bool:
        """True when these options ask for the LLM path at all."""
        return self.llm != "off" and bool(self.model or self.config)

    def updates(self) -> dict[str, Any]:
        fields = {"model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env,
                  "cache_dir": self.cache_dir, "use_cache": self.use_cache, "mode": self.llm}  # fmt: skip
        return {k: v for k, v in fields.items() if v is not None}


def build_hook(options: LLMOptions | None) -> Any:
    """The LLM router for ``options``, or None when they do not enable the LLM path.

    Raises ConfigError/PromptError for a bad config or prompt.
    """
    if options is None or not options.wanted:
        return None
    from extractor.llm.config import LLMConfig
    from extractor.llm.route import make_hook

    cfg = LLMConfig.from_file(options.config) if options.config else LLMConfig()
    cfg = cfg.model_copy(update=options.updates())
    return make_hook(cfg) if cfg.enabled else None
