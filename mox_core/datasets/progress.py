"""The progress bar of ``mox convert`` and ``mox train``: tqdm, the field's standard.

On a terminal tqdm redraws the bar in place, and the log lines of TensorFlow's logger (mox
train's ``step: ...`` lines) print above it rather than after it on its line. Into a log file or
a pipe, :func:`progress_bar` writes one line per tenth of the work instead (and the last count),
never a redraw with a carriage return, so a job's log stays readable and its length does not
grow with the run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from typing import Any, TextIO

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

#: lines a bar writes into a log file or a pipe, besides its first (the count 0)
LOG_LINES = 10


#: the loggers whose console lines go above a bar on a terminal while it is open
LOGGERS = ("tensorflow", "mox")


def _console_loggers() -> list[logging.Logger]:
    """Those of :data:`LOGGERS` that print to the console themselves (tqdm would give one that
    does not a handler of its own, and each of its lines would print twice)."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    return [logger for logger in loggers
            if any(isinstance(handler, logging.StreamHandler)
                   and handler.stream in (sys.stdout, sys.stderr) for handler in logger.handlers)]


class _Terminal(tqdm):
    """tqdm on a terminal, with the console lines of :data:`LOGGERS` written above the bar
    (``tqdm.write``) while it is open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._redirect = contextlib.ExitStack()
        super().__init__(*args, **kwargs)
        if not self.disable:
            self._redirect.enter_context(logging_redirect_tqdm(_console_loggers(),
                                                               tqdm_class=type(self)))

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._redirect.close()


class _LogLines(tqdm):
    """tqdm for a stream that is not a terminal: each display is a line of its own, and each
    count is written once (``close`` writes the last count only when no line showed it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._shown: float | None = None
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if self.n != self._shown:
            self._shown = self.n
            self.fp.write(f"{self}\n")
            self.fp.flush()
        return False  # no line to clear with a carriage return


def _size(stream: TextIO) -> tuple[int, int]:
    """The columns and lines of the terminal ``stream`` writes to; 0 where it says none."""
    try:
        return tuple(os.get_terminal_size(stream.fileno()))
    except (AttributeError, OSError, ValueError):
        return 0, 0


def progress_bar(total: int, description: str, *, enabled: bool = True,
                 stream: TextIO | None = None) -> tqdm:
    """A tqdm bar over ``total`` images on ``stream`` (default stderr), silent unless
    ``enabled``: ``with progress_bar(n, 'Converting') as bar: ... bar.update()``."""
    stream = stream if stream is not None else sys.stderr
    options: dict[str, Any] = dict(total=max(int(total), 0), desc=description, file=stream,
                                   disable=not enabled, unit=" images")
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        # a terminal that says it has no size (some containers' and CI's) would get no bar
        columns, lines = _size(stream)
        return _Terminal(**options, ncols=None if columns else 80, nrows=None if lines else 24)
    # A line each tenth of the total (mininterval 0: whatever the time between them; maxinterval
    # infinite: tqdm's monitor thread never lowers miniters to 1 on a slow run), rates averaged
    # over the run, and ASCII for log viewers that take no other encoding.
    return _LogLines(**options, leave=False, ascii=True, smoothing=0, mininterval=0,
                     maxinterval=math.inf, miniters=max(1, math.ceil(total / LOG_LINES)))
