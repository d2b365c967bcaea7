"""``moxing.framework.util.runtime.reset_logger``: quiet (or raise) the framework's log level.

MoXing reconfigured Python's logging, so its users called ``reset_logger(logging.WARNING)`` to
undo that. mox never adds, removes or replaces a handler; it writes through the
``tensorflow`` logger (MoXing's ``INFO:tensorflow:`` lines) and the ``mox`` logger, so this sets
the level of those two and leaves every handler, and the root logger, as the script made them.
"""

from __future__ import annotations

import logging

FRAMEWORK_LOGGERS = ("tensorflow", "mox")


def reset_logger(level: int | str = logging.INFO) -> None:
    """Show mox's (and TensorFlow's) log records of ``level`` and above only."""
    if isinstance(level, str):
        number = logging.getLevelName(level.upper())
        if not isinstance(number, int):
            raise ValueError(f"reset_logger level must be a logging level such as "
                             f"logging.WARNING or 'WARNING', got {level!r}")
        level = number
    for name in FRAMEWORK_LOGGERS:
        logging.getLogger(name).setLevel(level)
