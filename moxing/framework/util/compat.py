"""``moxing.framework.util.compat``: bytes and text conversion (published scripts decode string
tensors' values with ``compat.as_str``); the same functions as ``tf.compat``'s."""

from __future__ import annotations

from typing import Any


def as_bytes(value: Any, encoding: str = "utf-8") -> bytes:
    """``value`` (bytes, bytearray or str) as bytes."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode(encoding)
    raise TypeError(f"as_bytes expects bytes or str, got {type(value).__name__}: {value!r}")


def as_text(value: Any, encoding: str = "utf-8") -> str:
    """``value`` (bytes, bytearray or str) as str."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode(encoding)
    raise TypeError(f"as_text expects bytes or str, got {type(value).__name__}: {value!r}")


as_str = as_text
