"""The distributed engine: the same per-item pipeline on Ray Data (``--engine ray``).

Use it when one machine is not enough: point ``--ray-address`` at a running cluster
(``ray://host:10001`` or ``auto``); without an address a local Ray is started. Items are built
and de-duplicated by the driver exactly as in the local engine; refused items (a zip member's
refusal, a FIFO) become their error records on the driver with :func:`~extractor.run.runner.process`
like everywhere else; the others are extracted by Ray workers with the same function and the
same LLM hook (rebuilt in each worker from the CLI's options, as a hook holds sockets), and
streamed back to the driver, which alone writes the JSONL — so records are identical to the
local engine's and a crash keeps every record already written.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any

from extractor.errors import ConfigError

BATCH = 256
_HOOKS: dict[int, Any] = {}


def _worker_hook(options: Any) -> Any:
    """The LLM hook of this worker process for ``options`` (built once per worker)."""
    if options is None:
        return None
    key = hash(options)
    if key not in _HOOKS:
        from extractor.llm.options import build_hook

        _HOOKS[key] = build_hook(options)
    return _HOOKS[key]


def _extract_batch(
    batch: dict[str, Any], options: Any = None, timeout: float | None = None
) -> dict[str, Any]:
    from extractor.run.runner import Item, process

    hook = _worker_hook(options)
    items = [
        Item(display=d, path=p or None, data=b or None, suffix=s, sha256=h or None)
        for d, p, b, s, h in zip(
            batch["display"], batch["path"], batch["data"], batch["suffix"], batch["sha256"], strict=True
        )
    ]
    return {"display": [it.display for it in items], "record": [process(it, hook, timeout) for it in items]}


def ray_process(
    items: Iterable[Any],
    *,
    address: str | None = None,
    hook_factory: Any = None,
    timeout: float | None = None,
) -> Iterator[tuple[Any, str]]:
    """Yield ``(item, record_json)`` for every item, computed on Ray workers."""
    from extractor.run.runner import process

    ray = _started_ray(address)
    work = functools.partial(_extract_batch, options=hook_factory, timeout=timeout)
    pending: list[Any] = []
    for it in items:
        if it.error is not None:  # refused before reading: the same record as the local engine's
            yield it, process(it)
            continue
        pending.append(it)
        if len(pending) >= BATCH:
            yield from _on_workers(ray, pending, work)
            pending = []
    if pending:
        yield from _on_workers(ray, pending, work)


def _started_ray(address: str | None) -> Any:
    """The ``ray`` module, connected to ``address`` (or to a local cluster that ends with this process)."""
    from extractor.run.reaper import start_reaper

    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the Ray engine needs the 'ray' extra: pip install 'extractor[ray]'") from exc
    if not ray.is_initialized():
        if address is None:  # a local cluster of our own: it must not outlive this process
            start_reaper()
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            ignore_reinit_error=True,
        )
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def _on_workers(ray: Any, chunk: list[Any], work: Any) -> Iterator[tuple[Any, str]]:
    """One chunk of items through Ray Data's batches, streamed back as ``(item, record_json)``."""
    rows = [
        {
            "display": it.display,
            "path": it.path or "",
            "data": it.data or b"",
            "suffix": it.suffix,
            "sha256": it.sha256 or "",
        }
        for it in chunk
    ]
    by_display = {it.display: it for it in chunk}
    ds = ray.data.from_items(rows).map_batches(work, batch_size=32, batch_format="numpy")
    for row in ds.iter_rows():
        yield by_display[str(row["display"])], str(row["record"])
