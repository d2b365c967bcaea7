"""Learning rates that follow the epoch: ``piecewise_lr("5:0.1->0.4,10:0.4=>0.8,15:0.8", ...)``.

A strategy is a comma-separated list of ``E:spec`` segments; each covers the epochs from the
previous boundary (0 for the first) up to ``E``:

- ``E:a``      the constant ``a``;
- ``E:a->b``   linear from ``a`` to ``b``;
- ``E:a=>b``   exponential (geometric) from ``a`` to ``b``: ``a * (b / a) ** t``, ``t`` in [0, 1].

A boundary epoch belongs to the segment that starts there; after the last boundary the last
segment's final value holds. Epochs are fractional and counted from the global step,
``global_step * global_batch_size / num_samples``, so the schedule survives a restart from a
checkpoint and a change in the number of workers. The string is checked before any graph is
built, so a typo fails at once with the bad segment quoted, not after the first epochs.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from typing import Any

__all__ = ["LrSegment", "parse_lr_strategy", "piecewise_lr"]

_NUMBER = r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
_SEGMENT = re.compile(rf"{_NUMBER}:{_NUMBER}(?:(->|=>){_NUMBER})?")
_EXPECTED = "expected 'epoch:lr', 'epoch:a->b' or 'epoch:a=>b'"


@dataclasses.dataclass(frozen=True)
class LrSegment:
    """One segment: from epoch ``start`` to ``end``, ``kind`` ``'constant'``, ``'linear'`` or
    ``'exponential'`` from ``first`` to ``last`` (equal for a constant)."""

    start: float
    end: float
    kind: str
    first: float
    last: float


def parse_lr_strategy(lr_strategy: str) -> list[LrSegment]:
    """The segments of ``lr_strategy``; ``ValueError`` quoting the first bad segment."""
    if not isinstance(lr_strategy, str):
        raise TypeError(f"lr_strategy must be a string, got {type(lr_strategy).__name__}")
    if not lr_strategy.strip():
        raise ValueError(
            f"lr_strategy is empty: expected comma-separated segments such as "
            f"'5:0.1->0.4,10:0.4=>0.8,15:0.8' ({_EXPECTED})"
        )
    segments: list[LrSegment] = []
    start = 0.0
    for text in lr_strategy.split(","):
        where = f"lr_strategy segment {text!r}"
        match = _SEGMENT.fullmatch(text)
        if match is None:
            hint = " (a stray comma?)" if not text.strip() else ""
            raise ValueError(f"{where}{hint}: {_EXPECTED} (in {lr_strategy!r})")
        end_text, first_text, arrow, last_text = match.groups()
        end, first = float(end_text), float(first_text)
        last = first if arrow is None else float(last_text)
        if end <= start:
            raise ValueError(
                f"{where}: epoch {end_text} must be greater than the previous boundary "
                f"{start:g}; boundaries must increase (in {lr_strategy!r})"
            )
        if not all(math.isfinite(value) for value in (end, first, last)):
            raise ValueError(f"{where}: a number too large to be finite (in {lr_strategy!r})")
        if first < 0 or last < 0:
            raise ValueError(f"{where}: learning rates must not be negative (in {lr_strategy!r})")
        if arrow == "=>" and (first <= 0 or last <= 0):
            raise ValueError(
                f"{where}: an exponential segment 'a=>b' needs a > 0 and b > 0 (in {lr_strategy!r})"
            )
        kind = {None: "constant", "->": "linear", "=>": "exponential"}[arrow]
        segments.append(LrSegment(start, end, kind, first, last))
        start = end
    return segments


def _positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def piecewise_lr(lr_strategy: str, num_samples: int, global_batch_size: int) -> Any:
    """The learning rate ``lr_strategy`` gives at the current epoch, as a float32 scalar tensor.

    ``num_samples`` is the number of training samples (one epoch); ``global_batch_size`` the
    samples one global step consumes (batch size x devices x synchronous workers). The tensor
    reads the default graph's global step (created if missing), so call this inside the graph
    that trains, typically in ``optimizer_fn``.
    """
    segments = parse_lr_strategy(lr_strategy)
    samples = _positive(num_samples, "num_samples")
    batch = _positive(global_batch_size, "global_batch_size")

    import tensorflow as tf

    with tf.name_scope("piecewise_lr"):
        step = tf.compat.v1.train.get_or_create_global_step()
        epoch = tf.cast(step, tf.float64) * (batch / samples)
        # Walking back from the last segment, each segment claims the epochs before its end.
        lr = tf.constant(segments[-1].last, tf.float64)
        for seg in reversed(segments):
            lr = tf.where(epoch < seg.end, _segment_value(tf, seg, epoch), lr)
        return tf.cast(lr, tf.float32, name="learning_rate")


def _segment_value(tf: Any, seg: LrSegment, epoch: Any) -> Any:
    if seg.kind == "constant":
        return tf.constant(seg.first, tf.float64)
    t = tf.clip_by_value((epoch - seg.start) / (seg.end - seg.start), 0.0, 1.0)
    if seg.kind == "linear":
        return seg.first + (seg.last - seg.first) * t
    return seg.first * tf.exp(t * math.log(seg.last / seg.first))
