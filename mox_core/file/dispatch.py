"""Which backend serves a path: the URL scheme, looked up in the ``filesystems`` registry.

A path without ``scheme://`` (or with ``file://``) is local. One backend instance is made per
scheme, on first use, and kept for the process, so connection pools and credentials live as
long as the program. ``reset()`` forgets the instances (tests, and code that installs plugins
at run time).
"""

from __future__ import annotations

import re
import threading

from mox_core.file.backend import Backend
from mox_core.file.errors import UnsupportedSchemeError
from mox_core.plugins import registry
from mox_core.registry import resolve

LOCAL_SCHEME = "file"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_instances: dict[str, Backend] = {}
_lock = threading.Lock()


def scheme_of(path: str) -> str:
    """``'obs'`` for ``obs://b/k``; ``'file'`` for local paths."""
    match = _SCHEME.match(path)
    return match.group(1).lower() if match else LOCAL_SCHEME


def registered_schemes() -> list[str]:
    """Every scheme a plugin (or the core) serves, ``file`` included."""
    return registry("filesystems").names()


def is_remote(path: object) -> bool:
    """Whether ``mox.file`` sends ``path`` to a plugin's backend: a string URL whose scheme a
    registered non-local backend serves (``obs://``, ``s3://``, ...).

    False for local paths and ``file://`` URLs (the local backend), for URLs of schemes no
    plugin serves (TensorFlow's ``gs://``, say) and for anything not a string.
    """
    if not isinstance(path, str):
        return False
    scheme = scheme_of(path)
    return scheme != LOCAL_SCHEME and scheme in registry("filesystems")


def backend_for_scheme(scheme: str) -> Backend:
    with _lock:
        backend = _instances.get(scheme)
        if backend is not None:
            return backend
    filesystems = registry("filesystems")
    if scheme not in filesystems:
        served = ", ".join(f"{s}://" for s in filesystems.names() if s != LOCAL_SCHEME)
        hint = (f"installed plugins serve: {served}" if served
                else "no installed plugin serves any URL scheme")
        if scheme in ("obs", "s3"):
            hint += "; obs:// and s3:// come with the plugin: pip install mox-datasets-obs"
        raise UnsupportedSchemeError(f"mox.file cannot open {scheme}:// URLs ({hint})")
    spec = filesystems.get(scheme)
    cls = resolve(spec.backend, what=f"filesystem {scheme!r} backend")
    with _lock:
        if scheme not in _instances:
            _instances[scheme] = cls(scheme)
        return _instances[scheme]


def backend_for(path: str) -> Backend:
    """The backend serving ``path``; ``UnsupportedSchemeError`` naming the installed schemes."""
    if not isinstance(path, str):
        path = _fspath(path)
    return backend_for_scheme(scheme_of(path))


def remote_backends() -> list[Backend]:
    """An instance of every registered non-local backend (for ``set_auth``)."""
    return [backend_for_scheme(s) for s in registered_schemes() if s != LOCAL_SCHEME]


def reset() -> None:
    with _lock:
        _instances.clear()


def _fspath(path: object) -> str:
    import os

    value = os.fspath(path)  # type: ignore[call-overload]
    return value.decode() if isinstance(value, bytes) else value
