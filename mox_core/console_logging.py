"""Each log line printed once under ``tf.app.run(main)``.

``tf.app.run`` is ``absl.app.run``, and it puts absl's handler on the root logger. TensorFlow's
logger ``tensorflow`` has a console handler of its own (TensorFlow adds one when the root logger
has none at the time) and also propagates to the root, so every ``tf.logging.info`` line, mox's
step lines included, was printed twice: ``INFO:tensorflow:step: 10(global step: 10)...`` by
TensorFlow's handler and ``I0101 12:00:00.000 ... step: 10(global step: 10)...`` by absl's.

:func:`install` adds one filter to absl's handler (absl's own object; no handler is removed,
replaced or reconfigured, the user's least of all). The filter leaves a record out of absl's
console output when a handler between the record's logger and the root, such as TensorFlow's,
has printed it to the console already, so the line keeps the ``INFO:tensorflow:`` form that
users grep for. Everything else is untouched: records of loggers without a console handler of
their own (the root, absl's, the script's ``logging.getLogger(...)``) print through absl's handler
as before; records still reach every other handler on the root, the user's files included; and
when absl writes to a log file instead of the console (``use_absl_log_file``) nothing is left
out. mox installs the filter when it is imported.
"""

from __future__ import annotations

import logging
import sys


class _PrintedAlreadyFilter(logging.Filter):
    """For absl's handler: leave out records a console handler below the root has printed."""

    def __init__(self, absl_handler: logging.Handler) -> None:
        super().__init__()
        self._absl_handler = absl_handler

    def filter(self, record: logging.LogRecord) -> bool:
        if not _writes_to_console(getattr(self._absl_handler, "python_handler", None)):
            return True
        return not _printed_below_root(record)


def _consoles() -> tuple:
    return tuple(s for s in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
                 if s is not None)


def _writes_to_console(handler: logging.Handler | None) -> bool:
    if handler is None or isinstance(handler, logging.FileHandler):
        return False
    stream = getattr(handler, "stream", None)
    return any(stream is console for console in _consoles())


def _printed_below_root(record: logging.LogRecord) -> bool:
    """Whether a console handler of the record's logger or of a parent below the root handled
    ``record`` (handlers of a logger see its records when their level allows)."""
    if not record.name or record.name == "root":
        return False
    logger: logging.Logger | None = logging.getLogger(record.name)
    root = logging.getLogger()
    while logger is not None and logger is not root:
        for handler in logger.handlers:
            if record.levelno >= handler.level and _writes_to_console(handler):
                return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


def install() -> None:
    """Add the filter to absl's handler (idempotent). Imports ``absl.logging``."""
    from absl import logging as absl_logging

    handler = absl_logging.get_absl_handler()
    if not any(isinstance(f, _PrintedAlreadyFilter) for f in handler.filters):
        handler.addFilter(_PrintedAlreadyFilter(handler))
