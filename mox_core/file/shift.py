"""``mox.file.shift('os', 'mox')``: let ``open``, ``os``, ``shutil`` and ``tf.io.gfile`` take URLs.

MoXing's switch for scripts written against local files: after it, ``open('obs://b/k')``,
``os.listdir('s3://b/dir')`` or ``shutil.copytree('obs://b/data', '/cache/data')`` go through
``mox.file``. Each patched function sends a path to ``mox.file`` only when its scheme is served by
a registered remote backend, and calls the original otherwise, so local paths behave exactly
as before. ``shift('mox', 'os')`` puts the originals back.

TensorFlow's ``tf.io.gfile`` (and ``tf.compat.v1.gfile``) is patched the same way when
TensorFlow is installed (``mox_core.file.gfile``); TensorFlow's C++ file system (the
``tf.io.read_file`` op, ``TFRecordDataset``, checkpoints) is not reachable from Python -- see
``mox_core.file.tfdata`` for the ops that read registered URLs inside a graph.
"""

from __future__ import annotations

import builtins
import io
import os
import shutil
import stat as statlib
import threading
from collections.abc import Callable

from mox_core.file import api, gfile
from mox_core.file.dispatch import is_remote
from mox_core.file.errors import (
    MoxFileIsDirectoryException,
    MoxFileNameDuplicateException,
    MoxFileNotExistsException,
)
from mox_core.file.fileobj import File

_originals: dict[tuple[object, str], Callable] = {}
_lock = threading.Lock()


def _open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, *args, **kw):
    return File(file, mode, buffering, encoding, errors, newline)


def _stat(path, *args, **kwargs):
    info = api.stat(path)
    mode = (statlib.S_IFDIR | 0o755) if info.is_directory else (statlib.S_IFREG | 0o644)
    seconds = info.mtime_nsec // 1_000_000_000
    return os.stat_result((mode, 0, 0, 1, 0, 0, info.length, seconds, seconds, seconds))


def _isfile(path):
    return api.exists(path) and not api.is_directory(path)


def _makedirs(name, mode=0o777, exist_ok=False):
    if api.exists(name) and not exist_ok:
        raise MoxFileNameDuplicateException(f"{name!r} already exists", name)
    api.make_dirs(name)


def _remove_file(path, *args, **kwargs):
    if api.is_directory(path):
        raise MoxFileIsDirectoryException(f"{path!r} is a folder; use os.rmdir or "
                                          f"shutil.rmtree", path)
    api.remove(path)


def _rmdir(path, *args, **kwargs):
    if not api.is_directory(path):
        raise MoxFileNotExistsException(f"folder {path!r} does not exist", path)
    api.remove(path)


def _copy(src, dst, *args, **kwargs):
    if api.is_directory(dst):
        dst = dst.rstrip("/") + "/" + os.path.basename(src.rstrip("/"))
    api.copy(src, dst)
    return dst


def _copytree(src, dst, *args, dirs_exist_ok=False, **kwargs):
    if api.exists(dst) and not dirs_exist_ok:
        raise MoxFileNameDuplicateException(f"{dst!r} already exists", dst)
    api.copy_parallel(src, dst)
    return dst


def _move(src, dst, *args, **kwargs):
    api.rename(src, dst)
    return dst


# (module, attribute, replacement for URLs, how many leading arguments are paths)
_PATCHES: list[tuple[object, str, Callable, int]] = [
    (builtins, "open", _open, 1),
    (io, "open", _open, 1),
    (os.path, "exists", api.exists, 1),
    (os.path, "isdir", api.is_directory, 1),
    (os.path, "isfile", _isfile, 1),
    (os.path, "getsize", lambda p: api.stat(p).length, 1),
    (os.path, "getmtime", lambda p: api.stat(p).mtime, 1),
    (os, "stat", _stat, 1),
    (os, "listdir", lambda p=".": api.list_directory(p), 1),
    (os, "makedirs", _makedirs, 1),
    (os, "mkdir", lambda p, *a, **k: api.mk_dir(p), 1),
    (os, "remove", _remove_file, 1),
    (os, "unlink", _remove_file, 1),
    (os, "rmdir", _rmdir, 1),
    (os, "rename", lambda s, d, *a, **k: api.rename(s, d), 2),
    (os, "replace", lambda s, d, *a, **k: api.rename(s, d), 2),
    (os, "walk", lambda top, topdown=True, onerror=None, followlinks=False:
        api.walk(top, topdown, onerror), 1),
    (shutil, "copyfile", _copy, 2),
    (shutil, "copy", _copy, 2),
    (shutil, "copy2", _copy, 2),
    (shutil, "copytree", _copytree, 2),
    (shutil, "rmtree", lambda p, *a, **k: api.remove(p, recursive=True), 1),
    (shutil, "move", _move, 2),
]


def _dispatcher(original: Callable, replacement: Callable, path_args: int) -> Callable:
    def patched(*args, **kwargs):
        if any(is_remote(a) for a in args[:path_args]):
            return replacement(*args, **kwargs)
        return original(*args, **kwargs)

    patched.__name__ = getattr(original, "__name__", "patched")
    patched.__doc__ = original.__doc__
    patched.__wrapped__ = original  # type: ignore[attr-defined]
    return patched


def _install() -> None:
    with _lock:
        for module, attr, replacement, path_args in _PATCHES:
            key = (module, attr)
            if key in _originals:
                continue
            original = getattr(module, attr)
            _originals[key] = original
            setattr(module, attr, _dispatcher(original, replacement, path_args))
    gfile.install()


def _uninstall() -> None:
    with _lock:
        for (module, attr), original in _originals.items():
            setattr(module, attr, original)
        _originals.clear()
    gfile.uninstall()


def is_shifted() -> bool:
    """Whether ``shift('os', 'mox')`` is in effect."""
    return bool(_originals)


def shift(src: str = "os", dst: str = "mox") -> None:
    """``shift('os', 'mox')`` routes URLs given to ``open``/``os``/``shutil``/``tf.io.gfile``
    through ``mox.file``; ``shift('mox', 'os')`` undoes it."""
    if (src, dst) == ("os", "mox"):
        _install()
    elif (src, dst) == ("mox", "os"):
        _uninstall()
    else:
        raise ValueError(f"shift({src!r}, {dst!r}): use shift('os', 'mox') to let open/os/shutil "
                         f"take URLs, shift('mox', 'os') to undo it")
