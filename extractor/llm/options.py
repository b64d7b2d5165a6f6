"""What was asked of the LLM path at start-up — the CLI flags and the ``EXTRACTOR_LLM_*``
environment — and the hook they make.

A plain frozen dataclass (no pydantic, no openai): the rule path decides here, without loading
the LLM stack, that no model is wanted. It is hashable and picklable, unlike a hook, so a Ray
worker rebuilds the same hook from it (with the driver's environment, captured here). The one
typed model is built from it by :meth:`LLMOptions.settings` →
:meth:`extractor.llm.config.LLMConfig.load` (config file < environment < flags).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from extractor.llm.config import LLMConfig

#: Every LLM setting can come from ``EXTRACTOR_LLM_<FIELD>`` (``EXTRACTOR_LLM_MODEL``, …) — except
#: the API key itself, which only the variable named by ``api_key_env`` holds.
ENV_PREFIX = "EXTRACTOR_LLM_"
#: The config file's path from the environment (``--config`` wins over it).
ENV_CONFIG = "EXTRACTOR_LLM_CONFIG"


#: Never a setting, so never captured (the options are pickled to Ray workers and may be printed).
_NOT_CAPTURED = frozenset({ENV_PREFIX + "API_KEY"})


def llm_environment(environ: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """The ``EXTRACTOR_LLM_*`` variables that are set (and not empty), sorted; never a key."""
    env = os.environ if environ is None else environ
    return tuple(
        sorted(
            (k, v)
            for k, v in env.items()
            if k.startswith(ENV_PREFIX) and v.strip() and k not in _NOT_CAPTURED
        )
    )


@dataclass(frozen=True)
class LLMOptions:
    """The LLM flags of ``extract``/``serve`` (None: not given) and the ``EXTRACTOR_LLM_*``
    variables seen at start-up."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    llm: str | None = None
    config: Path | None = None
    cache_dir: str | None = None
    use_cache: bool | None = None
    env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_cli(cls, *, environ: Mapping[str, str] | None = None, **flags: Any) -> LLMOptions:
        """The flags as given, with the current ``EXTRACTOR_LLM_*`` environment."""
        return cls(**flags, env=llm_environment(environ))

    def _env(self, field: str) -> str | None:
        return dict(self.env).get(ENV_PREFIX + field.upper())

    @property
    def config_file(self) -> Path | None:
        """``--config``, else ``EXTRACTOR_LLM_CONFIG``."""
        if self.config is not None:
            return self.config
        from_env = dict(self.env).get(ENV_CONFIG)
        return Path(from_env) if from_env else None

    @property
    def wanted(self) -> bool:
        """True when these options ask for the LLM path at all: a model or a config file, by flag
        or environment, and no ``--llm off`` (or ``EXTRACTOR_LLM_MODE=off`` without a flag)."""
        mode = self.llm or self._env("mode")
        return mode != "off" and bool(self.model or self._env("model") or self.config_file)

    def updates(self) -> dict[str, Any]:
        """The flags that were given, as LLMConfig fields."""
        fields = {"model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env,
                  "cache_dir": self.cache_dir, "use_cache": self.use_cache, "mode": self.llm}  # fmt: skip
        return {k: v for k, v in fields.items() if v is not None}

    def settings(self) -> LLMConfig:
        """The one typed config: defaults < config file < ``EXTRACTOR_LLM_*`` < flags.

        Raises ConfigError naming the source of a bad value."""
        from extractor.llm.config import LLMConfig

        return LLMConfig.load(self.config_file, env=dict(self.env), flags=self.updates())


def build_hook(options: LLMOptions | None) -> Any:
    """The LLM router for ``options``, or None when they do not enable the LLM path.

    Raises ConfigError/PromptError for a bad config or prompt.
    """
    if options is None or not options.wanted:
        return None
    from extractor.llm.route import make_hook

    cfg = options.settings()
    return make_hook(cfg) if cfg.enabled else None
