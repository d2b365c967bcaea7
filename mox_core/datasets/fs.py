"""File access for the datasets: local paths through ``os``, URLs through ``mox.file`` or
``tf.io.gfile``.

Listing a local class folder with ``os.scandir`` is many times faster than through a generic
layer and tells regular files from broken links and pipes (reading a FIFO would hang the input
pipeline) without a ``stat`` per file. A URL whose scheme a plugin serves through ``mox.file``
(``obs://``, ``s3://`` from mox-datasets-obs) goes through ``mox.file``; any other URL
(``gs://``, ``hdfs://``, ``file://``) through TensorFlow's own filesystems.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL (``scheme://...``, ``file://`` included), which is read through
    ``mox.file`` or TensorFlow and joined with ``/``, rather than a local path read through ``os``.
    """
    return "://" in path


def join(base: str, *parts: str) -> str:
    if is_url(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def served_by_mox_file(path: str) -> bool:
    """Whether a plugin serves ``path``'s scheme through ``mox.file`` (not TensorFlow); local
    paths are answered without importing ``mox.file``."""
    if not is_url(path):
        return False
    from mox_core.file import dispatch

    return dispatch.is_remote(path)


def _mox_file():
    from mox_core.file import api

    return api


def exists(path: str) -> bool:
    if not is_url(path):
        return os.path.exists(path)
    return _mox_file().exists(path) if served_by_mox_file(path) else _gfile().exists(path)


def isdir(path: str) -> bool:
    if not is_url(path):
        return os.path.isdir(path)
    return _mox_file().is_directory(path) if served_by_mox_file(path) else _gfile().isdir(path)


def size(path: str) -> int:
    if not is_url(path):
        return os.path.getsize(path)
    if served_by_mox_file(path):
        return _mox_file().stat(path).length
    return _gfile().stat(path).length


def open_binary(path: str):
    """A binary file object with ``read`` and ``seek``."""
    if not is_url(path):
        return open(path, "rb")  # noqa: SIM115 -- the caller closes it
    if served_by_mox_file(path):
        from mox_core.file import File

        return File(path, "rb")
    return _gfile().GFile(path, "rb")


def read_bytes(path: str) -> bytes:
    if served_by_mox_file(path):
        return _mox_file().read(path, binary=True)
    with open_binary(path) as handle:
        return handle.read()


def copy_to_local(source: str, target: str) -> None:
    if not is_url(source):
        import shutil

        shutil.copyfile(source, target)
    elif served_by_mox_file(source):
        _mox_file().copy(source, target)
    else:
        _gfile().copy(source, target, overwrite=True)


def read_text(path: str, what: str = "file") -> str:
    """The UTF-8 text of ``path``; ``ValueError`` naming the file when it cannot be read."""
    try:
        data = read_bytes(path)
    except Exception as exc:
        raise ValueError(f"cannot read {what} {path!r}: {exc}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} {path!r} is not UTF-8 text: {exc}") from exc


def glob(pattern: str) -> list[str]:
    if served_by_mox_file(pattern):
        return sorted(_mox_file().glob(pattern))
    return sorted(_gfile().glob(pattern))


@dataclass
class Listing:
    """One folder's entries: sub-folders, regular files, and entries that cannot be read."""

    dirs: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    #: (name, where it leads) of symbolic links out of the ``inside`` folder, not followed
    outside: list[tuple[str, str]] = field(default_factory=list)


def confinement_root(path: str, follow_symlinks: bool) -> str | None:
    """The folder a dataset's links must stay in (``path`` resolved), or ``None`` when links
    are followed anywhere (``follow_symlinks``, or a URL: object stores have no links)."""
    if follow_symlinks or is_url(path):
        return None
    return os.path.realpath(path)


def leads_outside(path: str, root: str | None) -> str | None:
    """Where ``path`` really is when that is not under ``root`` (a link out), else ``None``.

    A link that leads nowhere (a broken link) is not "outside": it reads nothing, and the
    listing reports it as unreadable.
    """
    if root is None or is_url(path) or not os.path.exists(path):
        return None
    target = os.path.realpath(path)
    return None if os.path.commonpath([target, root]) == root else target


def list_folder(path: str, check_dirs: bool = False, inside: str | None = None) -> Listing:
    """Names in ``path`` (not recursive), sorted; hidden entries (``.name``) are left out.

    Hidden entries are editor and notebook droppings (``.ipynb_checkpoints``, ``.DS_Store``),
    never classes or samples. Remote listings mark folders with a trailing ``/`` on most
    object stores; ``check_dirs`` also asks the filesystem about every other entry -- one
    request each, so only for short listings such as the class folders.

    ``inside`` (a resolved local folder, see :func:`confinement_root`): a symbolic link whose
    target is not under it is neither a file nor a folder of the listing but goes to
    ``outside`` -- a dataset unpacked from someone else's archive must not be able to read the
    user's other files (a key, a credentials file) into what is then converted or uploaded.
    Links that stay inside are followed as before.
    """
    listing = Listing()
    if served_by_mox_file(path):
        from mox_core.file import dispatch

        dirs, files = dispatch.backend_for(path).scan(path)  # one listing for both
        listing.dirs = sorted(d for d in dirs if not d.startswith("."))
        listing.files = sorted(f for f in files if not f.startswith("."))
        return listing
    if is_url(path):
        gfile = _gfile()
        for name in sorted(gfile.listdir(path)):
            clean = name.rstrip("/")
            if clean.startswith("."):
                continue
            if name.endswith("/") or (check_dirs and gfile.isdir(join(path, clean))):
                listing.dirs.append(clean)
            else:
                listing.files.append(clean)
        return listing
    with os.scandir(path) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            try:
                target = leads_outside(entry.path, inside) if entry.is_symlink() else None
                if target is not None:
                    listing.outside.append((entry.name, target))
                elif entry.is_dir():
                    listing.dirs.append(entry.name)
                elif entry.is_file():
                    listing.files.append(entry.name)
                elif entry.is_symlink():
                    listing.unreadable.append((entry.name, "it is a broken symbolic link"))
                else:
                    listing.unreadable.append((entry.name, "it is not a regular file"))
            except OSError as exc:
                listing.unreadable.append((entry.name, f"it cannot be inspected: {exc}"))
    return listing


def unreadable_reason(path: str) -> str | None:
    """Why a local file cannot be read now (``None`` when it can; URLs: ``None``)."""
    if is_url(path):
        return None
    if not os.path.exists(path):
        return "it does not exist (a broken link, or removed after listing)"
    if not os.path.isfile(path):
        return "it is not a regular file"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None
