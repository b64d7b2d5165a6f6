"""Configuration of the LLM path: which endpoint, how to talk to it, caching and prices.

The API key is never a stored field: it is read from the environment variable named by
``api_key_env`` (default ``EXTRACTOR_API_KEY``) or, for local use, from ``api_key`` in a TOML
config file — held as a :class:`pydantic.SecretStr`, excluded from dumps and never cached.
With no model, or with neither a base URL nor a key, or with ``mode = "off"``, the LLM path
is off and the rule path runs alone.

One model, built in one place (:meth:`LLMConfig.load`), each source overriding the one before:

1. the defaults below;
2. the TOML config file (``--config``, else ``EXTRACTOR_LLM_CONFIG``);
3. the environment: ``EXTRACTOR_LLM_<FIELD>`` for any field (``EXTRACTOR_LLM_MODEL``,
   ``EXTRACTOR_LLM_BASE_URL``, ``EXTRACTOR_LLM_MODE``, ``EXTRACTOR_LLM_TIMEOUT_S``, …) — never
   the key itself (``EXTRACTOR_LLM_API_KEY`` is not read);
4. the command-line flags (``--model``, ``--base-url``, ``--api-key-env``, ``--llm``,
   ``--cache-dir``, ``--no-cache``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
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
    #: After this many consecutive requests that failed at transport level, the endpoint is
    #: unavailable for the rest of the run (the circuit breaker).
    breaker_after: int = Field(default=3, ge=1, le=1000)
    temperature: float = Field(default=0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=16)
    price_prompt_per_m: float | None = Field(default=None, ge=0)
    price_completion_per_m: float | None = Field(default=None, ge=0)
    structured_mode: StructuredMode = "auto"
    #: The prompt file (TOML); the default is ``prompts/tables_v3.toml``.
    prompt_file: str = str(DEFAULT_PROMPT)

    @classmethod
    def load(
        cls,
        file: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        flags: Mapping[str, Any] | None = None,
    ) -> LLMConfig:
        """The config from its sources, each over the one before: defaults < ``file`` (TOML) <
        ``env`` (``EXTRACTOR_LLM_*``; the process environment when None) < ``flags`` (given
        command-line values; None values are "not given"). A bad value is a ConfigError that
        names its source: the file, the variable or the flag."""
        data = _read_toml(Path(file)) if file is not None else {}
        cfg = _validated(data, f"{file}: invalid LLM config") if file is not None else cls()
        from_env = env_values(os.environ if env is None else env)
        if from_env:
            data = {**data, **{field: value for field, (_, value) in from_env.items()}}
            names = {field: var for field, (var, _) in from_env.items()}
            cfg = _validated(data, "invalid LLM setting in the environment", names)
        given = {k: v for k, v in (flags or {}).items() if v is not None}
        if given:
            cfg = _validated({**data, **given}, "invalid LLM option on the command line", _FLAG_NAMES)
        return cfg

    @classmethod
    def from_file(cls, path: str | Path) -> LLMConfig:
        """Read a TOML file alone: top-level keys, or the same keys under an ``[llm]`` table."""
        return cls.load(path, env={})

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


#: The flag of each field that a flag sets, for error messages.
_FLAG_NAMES = {"model": "--model", "base_url": "--base-url", "api_key_env": "--api-key-env",
               "mode": "--llm", "cache_dir": "--cache-dir", "use_cache": "--no-cache"}  # fmt: skip
_ENV_PREFIX = "EXTRACTOR_LLM_"
#: Not settings: the key is never read from the environment under this prefix (only from the
#: variable named by ``api_key_env``), and the config file's path is read by LLMOptions.
_NOT_FROM_ENV = frozenset({"api_key"})


def env_values(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """field → (variable, value) for each ``EXTRACTOR_LLM_<FIELD>`` set to a non-empty value."""
    found = {}
    for name in LLMConfig.model_fields:
        var = _ENV_PREFIX + name.upper()
        value = env.get(var, "").strip()
        if value and name not in _NOT_FROM_ENV:
            found[name] = (var, value)
    return found


def _read_toml(p: Path) -> dict[str, Any]:
    """A TOML config's keys (top level or under ``[llm]``), its prompt path made absolute."""
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
    return data


def _validated(data: dict[str, Any], what: str, names: Mapping[str, str] | None = None) -> LLMConfig:
    try:
        return LLMConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'], names)}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{what}: {problems}") from exc


def _where(loc: tuple[int | str, ...], names: Mapping[str, str] | None) -> str:
    dotted = ".".join(str(x) for x in loc) or "<root>"
    return (names or {}).get(dotted, dotted)
