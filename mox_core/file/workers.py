"""Work spread over threads while threads can start, done in the calling thread after that.

``mox.file`` is called from ``atexit`` handlers: ModelArts scripts register
``mox.file.copy_parallel('/cache/train_url', train_url)`` there. By then Python has begun to shut
down: ``concurrent.futures`` refuses new work ("cannot schedule new futures after interpreter
shutdown"), Python 3.12+ refuses to start threads, and importing ``concurrent.futures.thread``
for the first time fails ("can't register atexit after shutdown"). :func:`run_each` therefore
checks whether shutdown has begun, and also treats any ``RuntimeError`` raised while handing
work to the pool as the same signal: the items not handed over are done here, one after the
other, so the work is never lost, only slower.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from mox_core.file import exit_status

logger = logging.getLogger("mox")

T = TypeVar("T")


def shutting_down() -> bool:
    """True once interpreter shutdown has begun (``atexit`` handlers run after it begins).

    Python stops the main thread's ``threading`` object (``threading._shutdown``) before it
    calls the ``atexit`` handlers, so ``main_thread().is_alive()`` is false from then on even
    in the main thread itself; ``sys.is_finalizing()`` covers the later stages.
    """
    return sys.is_finalizing() or not threading.main_thread().is_alive()


def threads_usable() -> bool:
    """Whether new worker threads may be started now (not during interpreter shutdown).

    During shutdown it also arms :mod:`mox_core.file.exit_status`, so a ``mox.file`` failure
    that escapes an ``atexit`` handler still makes the exit status non-zero.
    """
    if shutting_down():
        exit_status.install()
        return False
    return True


def run_each(function: Callable[[T], Any], items: Iterable[T], threads: int) -> None:
    """Call ``function(item)`` for every item, on up to ``threads`` threads when threads can
    start, else (or for the items a shutting-down pool refuses) in the calling thread.

    The first exception raised by a call is raised here after the running calls have ended;
    calls not yet started are cancelled.
    """
    pending = list(items)
    if threads <= 1 or len(pending) <= 1 or not threads_usable():
        for item in pending:
            function(item)
        return
    try:
        from concurrent.futures import ThreadPoolExecutor
    except RuntimeError:  # first imported during shutdown: it cannot register its exit hook
        for item in pending:
            function(item)
        return
    pool = ThreadPoolExecutor(max_workers=min(threads, len(pending)),
                              thread_name_prefix="mox-file")
    futures = []
    refused: list[T] = []
    try:
        for position, item in enumerate(pending):
            try:
                futures.append(pool.submit(function, item))
            except RuntimeError as exc:  # shutdown began, or no thread could be started
                refused = pending[position:]
                logger.debug("mox.file: %d of %d items done in the calling thread (%s)",
                             len(refused), len(pending), exc)
                break
        for item in refused:
            function(item)
        for future in futures:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
