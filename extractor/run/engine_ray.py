"""The distributed engine: the same per-item pipeline on Ray Data (``--engine ray``).

Use it when one machine is not enough: point ``--ray-address`` at a running cluster
(``ray://host:10001`` or ``auto``); without an address a local Ray is started. Items are built
and de-duplicated by the driver exactly as in the local engine, extracted by Ray workers with
:func:`extractor.run.runner.process`, and streamed back to the driver, which alone writes the JSONL,
so records are identical to the local engine's and a crash keeps every record already written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from extractor.errors import ConfigError

BATCH = 256


def _extract_batch(batch: dict[str, Any]) -> dict[str, Any]:
    from extractor.run.runner import Item, process

    items = [
        Item(display=d, path=p or None, data=b or None, suffix=s, sha256=h or None)
        for d, p, b, s, h in zip(
            batch["display"], batch["path"], batch["data"], batch["suffix"], batch["sha256"], strict=True
        )
    ]
    return {"display": [it.display for it in items], "record": [process(it) for it in items]}


def ray_process(items: Iterable[Any], *, address: str | None = None) -> Iterator[tuple[Any, str]]:
    """Yield ``(item, record_json)`` for every item, computed on Ray workers."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the Ray engine needs the 'ray' extra: pip install 'extractor[ray]'") from exc
    if not ray.is_initialized():
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            ignore_reinit_error=True,
        )
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    pending: list[Any] = []

    def flush(chunk: list[Any]) -> Iterator[tuple[Any, str]]:
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
        ds = ray.data.from_items(rows).map_batches(_extract_batch, batch_size=32, batch_format="numpy")
        for row in ds.iter_rows():
            yield by_display[str(row["display"])], str(row["record"])

    for it in items:
        pending.append(it)
        if len(pending) >= BATCH:
            yield from flush(pending)
            pending = []
    if pending:
        yield from flush(pending)


def shutdown() -> Callable[[], None]:  # pragma: no cover - convenience for long sessions
    import ray

    return ray.shutdown
