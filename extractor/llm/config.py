"""Configuration of the LLM path: which endpoint, how to talk to it, caching and prices.

The API key is never a stored field: it is read from the environment variable named by
``api_key_env`` (default ``EXTRACTOR_API_KEY``) or, for local use, from ``api_key`` in a TOML
config file — held as a :class:`pydantic.SecretStr`, excluded from dumps and never cached.
With no model, or with neither a base URL nor a key, or with ``mode = "off"``, the LLM path
is off and the rule path runs alone.
"""

from __future__ import annotations

import os
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from extractor.errors import ConfigError

RoutingMode = Literal["auto", "always", "off"]
StructuredMode = Literal["auto", "tools", "json_schema", "json"]

#: The versioned prompt files ship inside the package as ``extractor.prompts`` (``prompts/`` at the
#: top of the repository, mapped into the package by ``pyproject.toml``).
DEFAULT_PROMPT = Path(str(files("extractor.prompts").joinpath("tables_v3.toml")))


class LLMConfig(BaseModel):
    """Everything the LLM path needs. Load with :meth:`from_file` or build directly."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "EXTRACTOR_API_KEY"
    #: Only from a private config file; never logged, dumped or cached.
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    mode: RoutingMode = "auto"
    cache_dir: str = ".extractor-cache"
    use_cache: bool = True
    max_reasks: int = Field(default=2, ge=0, le=10)
    timeout_s: float = Field(default=60, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=20)
    #: Upper bound on the time spent retrying one request (transport level), seconds.
    max_total_s: float = Field(default=300, gt=0)
    temperature: float = Field(default=0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=16)
    price_prompt_per_m: float | None = Field(default=None, ge=0)
    price_completion_per_m: float | None = Field(default=None, ge=0)
    structured_mode: StructuredMode = "auto"
    #: The prompt file (TOML); the default is ``prompts/tables_v3.toml``.
    prompt_file: str = str(DEFAULT_PROMPT)

    @classmethod
    def from_file(cls, path: str | Path) -> LLMConfig:
        """Read a TOML file: top-level keys, or the same keys under an ``[llm]`` table."""
        p = Path(path)
        try:
            data: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read the LLM config: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
        if isinstance(data.get("llm"), dict):
            data = data["llm"]
        prompt = data.get("prompt_file")
        if isinstance(prompt, str) and not Path(prompt).is_absolute():
            data = {**data, "prompt_file": str((p.parent / prompt).resolve())}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"{p}: invalid LLM config: {problems}") from exc

    def resolved_api_key(self) -> str | None:
        """The key from the environment variable, else from the config file; None if neither."""
        env = os.environ.get(self.api_key_env, "").strip()
        if env:
            return env
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return self.api_key.get_secret_value().strip()
        return None

    @property
    def enabled(self) -> bool:
        if self.mode == "off" or not self.model:
            return False
        return bool(self.base_url) or self.resolved_api_key() is not None

    def params(self) -> dict[str, Any]:
        """Generation parameters that change the answer (part of the cache key)."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Cost in the price currency, or None when no price is configured."""
        if self.price_prompt_per_m is None and self.price_completion_per_m is None:
            return None
        return (
            prompt_tokens * (self.price_prompt_per_m or 0.0)
            + completion_tokens * (self.price_completion_per_m or 0.0)
        ) / 1_000_000
