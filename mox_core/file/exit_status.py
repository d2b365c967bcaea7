"""A ``mox.file`` call that fails in an ``atexit`` handler makes the exit status non-zero.

ModelArts scripts upload their results at exit::

    atexit.register(lambda: mox.file.copy_parallel("/cache/train_url", train_url))

Python prints an exception that escapes an ``atexit`` handler ("Exception ignored in atexit
callback") and exits with status 0 all the same, so the job looks successful while its
checkpoints never reached ``train_url``. The mechanism here turns that into a failed exit
without cutting the shutdown short:

1. :func:`install` (run when ``mox_core.file`` is imported, and again by any ``mox.file`` call
   that finds the interpreter shutting down) puts :func:`_unraisable_hook` in front of
   ``sys.unraisablehook``, keeping the hook that was there.
2. CPython hands an exception escaping an ``atexit`` handler to ``sys.unraisablehook``. When the
   exception, or one in its ``__cause__``/``__context__`` chain, was raised through a
   ``mox.file`` function (a frame of ``mox_core.file``), the hook records it and replaces
   ``sys.stderr`` by a pass-through wrapper; the previous hook then prints the traceback as
   usual. An exception the handler catches itself never reaches the hook and changes nothing,
   and nothing is installed on the streams unless such a failure happened.
3. The remaining ``atexit`` handlers run normally (the wrapper behaves exactly like the
   stream). After the last one, CPython flushes ``sys.stdout`` and ``sys.stderr`` while
   finalizing; the wrapper's flush at that point writes a summary naming every failed call and
   then fails, and CPython answers a failed flush at finalization with exit status **120**
   (documented under ``sys.exit``: "If an error occurs in the cleanup after the Python
   interpreter has caught SystemExit (such as an error flushing buffered data in the standard
   streams), the exit status is changed to 120").

Why not ``os._exit(1)`` from an ``atexit`` handler of mox's own: it would have to run last, but
handlers run last-registered-first, and ``mox.file`` is often first imported inside the very
handler that fails (``import moxing as mox`` loads it lazily), too late to register anything
that still runs; and ``os._exit`` would skip the handlers registered before mox (logging's
flush, ``multiprocessing`` and temporary-folder clean-up). The flush at finalization comes after
every handler whatever the registration order, and skips nothing.
"""

from __future__ import annotations

import sys
import threading
import traceback
from typing import Any

_ATEXIT_MESSAGE = "atexit callback"
_PACKAGE = "mox_core.file"

_lock = threading.Lock()
_failures: list[str] = []
_previous_hook: Any = None


class AtexitFailureError(RuntimeError):
    """Raised by the stream wrapper at finalization to make CPython's exit status 120."""


def install() -> None:
    """Put mox's hook in front of ``sys.unraisablehook`` (idempotent; cheap to repeat)."""
    global _previous_hook
    with _lock:
        current = sys.unraisablehook
        if current is _unraisable_hook:
            return
        _previous_hook = current
        sys.unraisablehook = _unraisable_hook


def failures() -> list[str]:
    """One line per ``mox.file`` failure that escaped an ``atexit`` handler so far."""
    with _lock:
        return list(_failures)


def _raised_through_mox_file(exc: BaseException | None) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            name = frame.f_globals.get("__name__", "")
            if name == _PACKAGE or name.startswith(_PACKAGE + "."):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def _describe(unraisable: Any) -> str:
    exc = unraisable.exc_value
    text = f"{type(exc).__name__}: {exc}"
    notes = getattr(exc, "__notes__", None) or []
    if notes:
        text += " (" + "; ".join(str(note) for note in notes) + ")"
    handler = unraisable.object
    name = getattr(handler, "__qualname__", None) or repr(handler)
    return f"atexit handler {name}: {text}"


def _unraisable_hook(unraisable: Any) -> None:
    if (_ATEXIT_MESSAGE in (unraisable.err_msg or "")
            and _raised_through_mox_file(unraisable.exc_value)):
        with _lock:
            _failures.append(_describe(unraisable))
        _arm_stream()
    previous = _previous_hook or sys.__unraisablehook__
    previous(unraisable)


def _arm_stream() -> None:
    with _lock:
        if isinstance(sys.stderr, _ExitStatusStream):
            return
        if sys.stderr is not None:
            sys.stderr = _ExitStatusStream(sys.stderr)
        elif sys.stdout is not None:
            sys.stdout = _ExitStatusStream(sys.stdout)


class _ExitStatusStream:
    """``sys.stderr`` as it was, except that its flush at interpreter finalization (after the
    last ``atexit`` handler) prints the summary and fails, which makes the exit status 120."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._reported = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()
        if not sys.is_finalizing() or self._reported:
            return
        self._reported = True
        lines = failures()
        self._stream.write(
            f"mox.file: {len(lines)} call(s) failed in atexit handlers; the process exits "
            f"with status 120 so that the failure is not missed (tracebacks above):\n"
            + "".join(f"  {line}\n" for line in lines))
        self._stream.flush()
        raise AtexitFailureError("mox.file failed in an atexit handler")
