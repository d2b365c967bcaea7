"""Dataset log lines, written through TensorFlow's logger as MoXing writes them.

MoXing users grep lines such as ``Total 3301 files found in ...`` in the ``INFO:tensorflow:``
stream, so the datasets log through ``tf.compat.v1.logging`` and never add, remove or
reconfigure handlers of their own (scripts pop root handlers after import; a library that
touches them breaks those scripts).
"""

from __future__ import annotations

from typing import Any


def _logging() -> Any:
    import tensorflow as tf

    return tf.compat.v1.logging


def info(message: str, *args: Any) -> None:
    _logging().info(message, *args)


def warning(message: str, *args: Any) -> None:
    _logging().warning(message, *args)


def labels_block(labels: list[str], limit: int = 100) -> str:
    """``0: daisy`` lines for the labels, the first ``limit`` of them (class lists can be long)."""
    lines = [f"{index}: {name}" for index, name in enumerate(labels[:limit])]
    if len(labels) > limit:
        lines.append(f"... ({len(labels) - limit} more)")
    return "\n".join(lines)


def first_few(items: list[str], limit: int = 5) -> str:
    """Up to ``limit`` items for an error message, and how many were left out."""
    shown = ", ".join(repr(item) for item in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown
