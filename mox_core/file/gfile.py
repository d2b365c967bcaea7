"""``tf.io.gfile`` and ``tf.compat.v1.gfile`` for registered URL schemes.

TensorFlow's file systems are C++ plugins (``tf.experimental.register_filesystem_plugin`` loads
a shared library built against TensorFlow's C API); a Python backend cannot become one. What
Python code calls, though, are the Python functions of ``tf.io.gfile``: those are wrapped here so
that a path whose scheme a mox plugin serves goes to ``mox.file`` and every other path to
TensorFlow, unchanged. Installed by ``mox.file.shift('os', 'mox')``; a no-op without TensorFlow.

TensorFlow's C++ kernels (``tf.io.read_file``, ``TFRecordDataset``, ``Saver``) never see these
wrappers: inside a graph use ``mox_core.file.tfdata``, or copy the files locally first.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

from mox_core.file import api
from mox_core.file.dispatch import is_remote
from mox_core.file.errors import MoxFileNameDuplicateException
from mox_core.file.fileobj import File

_originals: dict[tuple[object, str], Callable] = {}
_lock = threading.Lock()


def _is_remote_path(path: Any) -> bool:
    """:func:`~mox_core.file.dispatch.is_remote` for a ``tf.io.gfile`` argument, which may also
    be a bytes path."""
    if isinstance(path, bytes):
        path = path.decode("utf-8", "replace")
    return is_remote(path)


def _gfile_open(name, mode="r"):
    return File(name, mode)


def _copy(src, dst, overwrite=False):
    if api.exists(dst) and not overwrite:
        raise MoxFileNameDuplicateException(f"{dst!r} already exists (overwrite=False)", dst)
    api.copy(src, dst)


def _rename(src, dst, overwrite=False):
    if api.exists(dst) and not overwrite:
        raise MoxFileNameDuplicateException(f"{dst!r} already exists (overwrite=False)", dst)
    api.rename(src, dst)


def _glob(pattern):
    if isinstance(pattern, (list, tuple)):
        return [match for p in pattern for match in api.glob(p)]
    return api.glob(pattern)


def _walk(top, topdown=True, onerror=None):
    return api.walk(top, topdown, onerror)


# tf.io.gfile names -> (replacement, number of leading path arguments)
_V2 = {
    "GFile": (_gfile_open, 1),
    "exists": (api.exists, 1),
    "isdir": (api.is_directory, 1),
    "listdir": (api.list_directory, 1),
    "glob": (_glob, 1),
    "makedirs": (api.make_dirs, 1),
    "mkdir": (api.mk_dir, 1),
    "remove": (api.remove, 1),
    "rmtree": (lambda p: api.remove(p, recursive=True), 1),
    "rename": (_rename, 2),
    "copy": (_copy, 2),
    "stat": (api.stat, 1),
    "walk": (_walk, 1),
}
# tf.compat.v1.gfile names -> tf.io.gfile names
_V1 = {
    "GFile": "GFile", "Open": "GFile", "FastGFile": "GFile", "Exists": "exists",
    "IsDirectory": "isdir", "ListDirectory": "listdir", "Glob": "glob", "MakeDirs": "makedirs",
    "MkDir": "mkdir", "Remove": "remove", "DeleteRecursively": "rmtree", "Rename": "rename",
    "Copy": "copy", "Stat": "stat", "Walk": "walk",
}


def _dispatcher(original: Callable, replacement: Callable, path_args: int) -> Callable:
    def patched(*args, **kwargs):
        paths = list(args[:path_args])
        for key in ("path", "filename", "name", "dirname", "top", "pattern", "oldpath",
                    "newpath", "src", "dst"):
            if key in kwargs:
                paths.append(kwargs[key])
        if any(_is_remote_path(p) for p in paths):
            return replacement(*args, **kwargs)
        return original(*args, **kwargs)

    patched.__name__ = getattr(original, "__name__", "patched")
    patched.__doc__ = original.__doc__
    patched.__wrapped__ = original  # type: ignore[attr-defined]
    return patched


def _targets() -> list[tuple[object, str, Callable, int]]:
    import tensorflow as tf

    found = []
    for name, (replacement, path_args) in _V2.items():
        found.append((tf.io.gfile, name, replacement, path_args))
        found.append((tf.compat.v1.io.gfile, name, replacement, path_args))
    for name, v2_name in _V1.items():
        if hasattr(tf.compat.v1.gfile, name):
            replacement, path_args = _V2[v2_name]
            found.append((tf.compat.v1.gfile, name, replacement, path_args))
    return found


def install() -> None:
    """Wrap the ``tf.io.gfile`` functions (idempotent; nothing without TensorFlow)."""
    if importlib.util.find_spec("tensorflow") is None:
        return
    with _lock:
        for module, attr, replacement, path_args in _targets():
            key = (module, attr)
            if key in _originals or not hasattr(module, attr):
                continue
            original = getattr(module, attr)
            _originals[key] = original
            setattr(module, attr, _dispatcher(original, replacement, path_args))


def uninstall() -> None:
    """Put TensorFlow's own functions back."""
    with _lock:
        for (module, attr), original in _originals.items():
            setattr(module, attr, original)
        _originals.clear()
