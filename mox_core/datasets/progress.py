"""A small text progress bar (mox-core has no tqdm dependency for this one use).

On a terminal the bar redraws in place at most ten times a second; into a log file or a pipe it
writes one line per tenth of the work instead, so job logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class ProgressBar:
    """``with ProgressBar(total, 'Converting') as bar: ... bar.update()``."""

    def __init__(self, total: int, description: str, stream: TextIO | None = None,
                 enabled: bool = True, width: int = 30) -> None:
        self.total = max(int(total), 0)
        self.description = description
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.count = 0
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._last_tenth = -1
        self._drawn_count = -1
        isatty = getattr(self.stream, "isatty", None)
        self._interactive = bool(isatty and isatty())

    def __enter__(self) -> ProgressBar:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def text(self) -> str:
        elapsed = time.monotonic() - self._start
        fraction = self.count / self.total if self.total else 1.0
        filled = int(round(self.width * fraction))
        rate = self.count / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.count) / rate if rate > 0 else 0.0
        return (f"{self.description}: {fraction:4.0%} |{'#' * filled}{'.' * (self.width - filled)}| "
                f"{self.count}/{self.total} [{_duration(elapsed)}<{_duration(eta)}, "
                f"{rate:.1f} images/s]")

    def update(self, n: int = 1) -> None:
        self.count += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        if self._interactive:
            now = time.monotonic()
            if force or now - self._last_draw >= 0.1 or self.count >= self.total:
                self._last_draw = now
                self.stream.write("\r" + self.text())
                self.stream.flush()
            return
        tenth = (10 * self.count // self.total) if self.total else 10
        if self.count != self._drawn_count and (force or tenth > self._last_tenth):
            self._last_tenth, self._drawn_count = tenth, self.count
            self.stream.write(self.text() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self._draw(force=True)
        if self._interactive:
            self.stream.write("\n")
            self.stream.flush()
