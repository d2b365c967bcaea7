"""Reading mox's training log line in tests: ``step: 10(global step: 10)\tsample/sec: 42.087\t
loss: 3.451`` (MoXing's format, written by the executor's step logger)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

#: one step line; groups: the local step, the global step, the tab-led ``name: value`` pairs
STEP_LINE = re.compile(r"step: (\d+)\(global step: (\d+)\)\tsample/sec: \d+\.\d{3}((?:\t\S+: "
                       r"-?\d+\.\d{3})*)$")


def step_lines(records: Iterable[logging.LogRecord]) -> list[str]:
    """The step lines among log ``records`` (e.g. pytest's ``caplog.records``), in order."""
    messages = (record.getMessage() for record in records)
    return [message for message in messages if STEP_LINE.match(message)]


def logged_values(line: str) -> dict[str, float]:
    """``{'loss': 3.451, 'accuracy': 0.312}`` from a step line, in the logged order."""
    found = STEP_LINE.match(line)
    if found is None:
        raise ValueError(f"not a mox step line: {line!r}")
    pairs = found.group(3).split("\t")[1:]
    return {key: float(value) for key, value in (pair.split(": ") for pair in pairs)}
