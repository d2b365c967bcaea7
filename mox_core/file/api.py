"""The functions of ``mox.file`` (MoXing's ``moxing.framework.file``), on any registered scheme.

Every function takes local paths and URLs alike and hands the work to the backend of the
path's scheme (``mox_core.file.dispatch``); what spans two backends -- a copy from ``obs://`` to
a local folder, a rename from local to ``s3://`` -- goes through local files here.

Where MoXing failed silently or obscurely, these fail clearly: ``copy`` of a folder names the
folder and points at ``copy_parallel``; ``remove`` of a non-empty folder without
``recursive=True`` says so; a missing path is named in the error.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from mox_core.file import dispatch
from mox_core.file.backend import FileStat
from mox_core.file.dispatch import backend_for
from mox_core.file.errors import (
    MoxFileIsDirectoryException,
    MoxFileNotDirectoryException,
    MoxFileNotExistsException,
    MoxFileUnsafePathException,
)
from mox_core.file.fileobj import File
from mox_core.file.local import local_path
from mox_core.file.safe_paths import safe_join, unsafe_reason
from mox_core.file.workers import run_each

logger = logging.getLogger("mox")


def exists(url: str) -> bool:
    """Whether the file or folder ``url`` exists."""
    return backend_for(url).exists(url)


def is_directory(url: str) -> bool:
    """Whether ``url`` is a folder (for object stores: a key prefix that holds something)."""
    return backend_for(url).is_directory(url)


def stat(url: str) -> FileStat:
    """``length``, ``mtime_nsec`` (and ``mtime``), ``is_directory`` of ``url``."""
    return backend_for(url).stat(url)


def get_size(url: str, recursive: bool = False) -> int:
    """Bytes in file ``url``; with ``recursive``, in every file below folder ``url``."""
    backend = backend_for(url)
    if recursive and backend.is_directory(url):
        return sum(backend.stat(backend.join(url, rel)).length for rel in backend.list_files(url))
    return backend.stat(url).length


def list_directory(url: str, recursive: bool = False, remove_sep: bool = False,
                   skip_file: bool = False, skip_dir: bool = False) -> list[str]:
    """Names in folder ``url``, sorted (with ``recursive``: paths relative to ``url``).

    Names never end with a separator, so ``remove_sep`` (MoXing's switch for that) changes
    nothing. ``skip_file``/``skip_dir`` leave files/folders out.
    """
    del remove_sep
    backend = backend_for(url)
    if not recursive:
        if not (skip_file or skip_dir):
            return backend.list_directory(url)
        dirs, files = backend.scan(url)
        return sorted(([] if skip_dir else dirs) + ([] if skip_file else files))
    names = backend.list_directory(url, recursive=True)
    if not (skip_file or skip_dir):
        return names
    files = set(backend.list_files(url))
    return [n for n in names if (n in files and not skip_file) or (n not in files and not skip_dir)]


def glob(pattern: str) -> list[str]:
    """Full paths matching a shell pattern (``*``, ``?``, ``[...]`` within a path segment)."""
    return backend_for(pattern).glob(pattern)


def walk(top: str, topdown: bool = True, onerror: Any = None
         ) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` for paths and URLs: ``(folder, sub-folder names, file names)``."""
    return backend_for(top).walk(top, topdown=topdown, onerror=onerror)


def make_dirs(url: str) -> None:
    """Make folder ``url`` and its parents; nothing happens when it exists."""
    backend_for(url).make_dirs(url)


def mk_dir(url: str) -> None:
    """Make folder ``url``; its parent must exist."""
    backend_for(url).mk_dir(url)


def remove(url: str, recursive: bool = False) -> None:
    """Remove file ``url``, or folder ``url`` -- an empty one, or any with ``recursive=True``.

    A missing path raises ``MoxFileNotExistsException`` and a non-empty folder without
    ``recursive`` raises ``MoxFileDirectoryNotEmptyException`` (MoXing silently did nothing).
    """
    backend_for(url).remove(url, recursive=recursive)


def read(url: str, client_id: Any = None, binary: bool = False) -> str | bytes:
    """The whole content of ``url``: ``str`` (UTF-8), or ``bytes`` with ``binary=True``."""
    del client_id
    data = backend_for(url).read(url)
    return data if binary else data.decode("utf-8")


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def write(url: str, data: str | bytes, binary: bool = False) -> None:
    """Create or overwrite ``url`` with ``data`` (``str`` is written as UTF-8)."""
    del binary
    backend_for(url).write(url, _as_bytes(data))


def append(url: str, data: str | bytes, binary: bool = False) -> None:
    """Add ``data`` at the end of ``url`` (created when missing). On object stores this rewrites
    the whole object, so it is slow for large ones."""
    with File(url, "ab" if binary or isinstance(data, bytes) else "a") as handle:
        handle.write(data)


def _check_single_file(src: str, dst: str) -> None:
    backend = backend_for(src)
    if backend.is_directory(src):
        raise MoxFileIsDirectoryException(
            f"mox.file.copy copies one file, and {src!r} is a folder: use "
            f"mox.file.copy_parallel({src!r}, {dst!r}) to copy a folder tree", src)
    if not backend.exists(src):
        raise MoxFileNotExistsException(f"cannot copy {src!r}: it does not exist", src)
    if backend_for(dst).is_directory(dst):
        raise MoxFileIsDirectoryException(
            f"cannot copy {src!r} to {dst!r}: the target is a folder; give the target file's "
            f"full path", dst)


def _copy_file(src: str, dst: str) -> None:
    source, target = backend_for(src), backend_for(dst)
    if not dispatch.is_remote(dst):
        parent = os.path.dirname(local_path(dst))
        if parent:
            os.makedirs(parent, exist_ok=True)
    if source is target:
        source.copy(src, dst)
    elif not dispatch.is_remote(src):
        target.upload(local_path(src), dst)
    elif not dispatch.is_remote(dst):
        source.download(src, local_path(dst))
    else:
        with tempfile.TemporaryDirectory(prefix="mox-copy-") as folder:
            staged = os.path.join(folder, "object")
            source.download(src, staged)
            target.upload(staged, dst)


def copy(src: str, dst: str, client_id: Any = None) -> None:
    """Copy one file from ``src`` to the file path ``dst`` (any schemes; local parent folders
    are made). A folder as ``src`` is an error pointing at ``copy_parallel``."""
    del client_id
    _check_single_file(src, dst)
    _copy_file(src, dst)


def copy_parallel(src_url: str, dst_url: str, file_list: Iterable[str] | None = None,
                  threads: int = 16, is_processing: bool = False, use_queue: bool = False) -> None:
    """Copy the tree under folder ``src_url`` into folder ``dst_url`` with ``threads`` threads.

    ``file_list`` restricts the copy to those paths relative to ``src_url``. Nothing in
    ``dst_url`` is ever deleted. ``is_processing``/``use_queue`` are MoXing's scheduling
    switches; copying is I/O-bound and releases the GIL, so threads do the work either way.
    A file as ``src_url`` is copied to ``dst_url`` as a file.

    It works from an ``atexit`` handler: once Python is shutting down no thread can start, and
    the files are copied one after the other in the calling thread
    (``mox_core.file.workers``). If the copy fails there, the process exits with status 120
    instead of 0 (``mox_core.file.exit_status``). A failure names both folders and the file.

    Object keys may say ``data/../../x``: every name, listed or in ``file_list``, is checked with
    ``mox_core.file.safe_paths`` before anything is read, and one that would leave either
    folder is not copied but named in a warning; after the rest is copied,
    ``MoxFileUnsafePathException`` lists them (``.refused``). A key with a doubled slash
    (``data//etc/x``) is read by its exact name and lands in ``dst_url/etc/x``.
    """
    del is_processing, use_queue
    backend = backend_for(src_url)
    if not backend.is_directory(src_url):
        if not backend.exists(src_url):
            raise MoxFileNotExistsException(
                f"cannot copy {src_url!r} to {dst_url!r}: {src_url!r} does not exist", src_url)
        _copy_file(src_url, dst_url)
        return
    if backend_for(dst_url).exists(dst_url) and not backend_for(dst_url).is_directory(dst_url):
        raise MoxFileNotDirectoryException(
            f"cannot copy folder {src_url!r} into {dst_url!r}: the target is a file", dst_url)
    names = list(file_list) if file_list is not None else backend.list_files(src_url)
    target = backend_for(dst_url)
    src_local, dst_local = not dispatch.is_remote(src_url), not dispatch.is_remote(dst_url)
    pairs, refused = [], []
    for rel in names:
        name = rel.replace(os.sep, "/") if os.sep != "/" else rel
        why = unsafe_reason(name)
        if why is not None:
            source = backend.join(src_url, name)
            logger.warning("mox.file.copy_parallel(%r, %r) refused %r: %s; it is not copied, "
                           "so nothing is written outside %r", src_url, dst_url, source, why,
                           dst_url)
            refused.append((rel, source, why))
            continue
        if src_local:  # a local file has one name: doubled separators collapse on both sides
            name = "/".join(p for p in name.split("/") if p not in ("", "."))
            source = safe_join(local_path(src_url), name)
        else:  # the exact key, doubled slashes included
            source = backend.join(src_url, name)
        destination = (safe_join(local_path(dst_url), name) if dst_local
                       else target.join(dst_url, name))
        pairs.append((source, destination))

    def copy_one(pair: tuple[str, str]) -> None:
        source, destination = pair
        try:
            _copy_file(source, destination)
        except Exception as exc:
            exc.add_note(f"mox.file.copy_parallel({src_url!r}, {dst_url!r}) failed copying "
                         f"{source!r} to {destination!r}")
            raise

    if dst_local:
        try:
            os.makedirs(local_path(dst_url), exist_ok=True)
        except OSError as exc:
            exc.add_note(f"mox.file.copy_parallel({src_url!r}, {dst_url!r}) cannot make the "
                         f"target folder {dst_url!r}")
            raise
    try:
        run_each(copy_one, pairs, threads)
    except Exception as exc:
        if refused:
            exc.add_note(f"mox.file.copy_parallel also refused {len(refused)} names that would "
                         f"leave the folders: {', '.join(repr(r[1]) for r in refused[:10])}")
        raise
    if refused:
        shown = "; ".join(f"{source!r} ({why})" for _, source, why in refused[:20])
        more = f"; and {len(refused) - 20} more" if len(refused) > 20 else ""
        raise MoxFileUnsafePathException(
            f"mox.file.copy_parallel({src_url!r}, {dst_url!r}) refused {len(refused)} "
            f"name(s) that would be read or written outside those folders, and copied the "
            f"other {len(pairs)}: {shown}{more}. Rename or remove those objects, or copy them "
            f"one by one with mox.file.copy to a path you choose",
            [rel for rel, _, _ in refused], dst_url)


def rename(src: str, dst: str) -> None:
    """Move file or folder ``src`` to ``dst``, also between schemes (e.g. ``s3://`` to local)."""
    source, target = backend_for(src), backend_for(dst)
    if not source.exists(src):
        raise MoxFileNotExistsException(f"cannot rename {src!r}: it does not exist", src)
    if source is target:
        source.rename(src, dst)
        return
    if source.is_directory(src):
        copy_parallel(src, dst)
        source.remove(src, recursive=True)
    else:
        _copy_file(src, dst)
        source.remove(src)


def set_auth(ak: str | None = None, sk: str | None = None, server: str | None = None,
             port: int | None = None, is_secure: bool | None = None,
             ssl_verify: bool | None = None, long_conn_mode: bool | None = None,
             path_style: bool | None = None, retry: int | None = None,
             retry_wait: float | None = None, client_timeout: float | None = None,
             list_max_keys: int | None = None, **extra: Any) -> None:
    """Credentials and connection settings for every installed remote backend (``obs://``,
    ``s3://``), overriding the environment and config file. Arguments left ``None`` keep their
    current value. The values are never logged."""
    settings = {key: value for key, value in dict(
        ak=ak, sk=sk, server=server, port=port, is_secure=is_secure, ssl_verify=ssl_verify,
        long_conn_mode=long_conn_mode, path_style=path_style, retry=retry,
        retry_wait=retry_wait, client_timeout=client_timeout, list_max_keys=list_max_keys,
        **extra).items() if value is not None}
    backends = dispatch.remote_backends()
    if not backends:
        logger.warning("mox.file.set_auth: no installed plugin serves remote URLs, so there is "
                       "nothing to configure (obs:// and s3://: pip install mox-datasets-obs)")
    for backend in backends:
        backend.set_auth(**settings)
