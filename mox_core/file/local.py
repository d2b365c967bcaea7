"""The local filesystem backend: plain paths and ``file://`` URLs, through ``os`` and ``shutil``.

It is registered by the core (``mox_core.builtin.filesystems``) through the same
``mox_filesystems`` hook as any plugin's scheme. Its job beyond ``os`` is the error contract of
``mox.file``: a missing path, a folder given to a file operation and a non-empty folder removed
without ``recursive`` each raise the ``mox.file`` exception that names the path.
"""

from __future__ import annotations

import contextlib
import errno
import glob as globlib
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any

from mox_core.file.backend import Backend, FileStat
from mox_core.file.errors import (
    MoxFileDirectoryNotEmptyException,
    MoxFileIsDirectoryException,
    MoxFileNameDuplicateException,
    MoxFileNotDirectoryException,
    MoxFileNotExistsException,
)


def local_path(url: str | os.PathLike) -> str:
    """``file:///a/b`` -> ``/a/b``; plain paths and ``pathlib`` paths pass through (``~``
    expanded)."""
    url = os.fsdecode(url)
    if url.startswith("file://"):
        url = url[len("file://"):]
    return os.path.expanduser(url)


@contextlib.contextmanager
def _errors(path: str) -> Iterator[None]:
    """``os`` errors as ``mox.file`` errors naming ``path``."""
    try:
        yield
    except FileNotFoundError:
        raise MoxFileNotExistsException(f"{path!r} does not exist", path) from None
    except IsADirectoryError:
        raise MoxFileIsDirectoryException(f"{path!r} is a folder, not a file", path) from None
    except NotADirectoryError:
        raise MoxFileNotDirectoryException(
            f"{path!r} (or a folder on its way) is a file, not a folder", path) from None
    except FileExistsError:
        raise MoxFileNameDuplicateException(f"{path!r} already exists", path) from None


class LocalBackend(Backend):
    """Local paths. ``sep`` is ``os.sep``; URLs of the form ``file://...`` are accepted too."""

    sep = os.sep

    def join(self, base: str, name: str) -> str:
        return os.path.join(base, name) if name else base

    def exists(self, url: str) -> bool:
        return os.path.exists(local_path(url))

    def is_directory(self, url: str) -> bool:
        return os.path.isdir(local_path(url))

    def stat(self, url: str) -> FileStat:
        path = local_path(url)
        with _errors(url):
            result = os.stat(path)
        import stat as statlib

        return FileStat(result.st_size, result.st_mtime_ns, statlib.S_ISDIR(result.st_mode))

    def list_directory(self, url: str, recursive: bool = False) -> list[str]:
        path = local_path(url)
        if not os.path.isdir(path):
            if os.path.exists(path):
                raise MoxFileNotDirectoryException(f"{url!r} is a file, not a folder", url)
            raise MoxFileNotExistsException(f"folder {url!r} does not exist", url)
        if not recursive:
            with _errors(url):
                return sorted(os.listdir(path))
        found = []
        for root, dirs, files in os.walk(path):
            rel = os.path.relpath(root, path)
            for name in dirs + files:
                found.append(name if rel == "." else os.path.join(rel, name))
        return sorted(found)

    def scan(self, url: str) -> tuple[list[str], list[str]]:
        dirs, files = [], []
        with _errors(url), os.scandir(local_path(url)) as entries:
            for entry in entries:
                (dirs if entry.is_dir() else files).append(entry.name)
        return sorted(dirs), sorted(files)

    def make_dirs(self, url: str) -> None:
        with _errors(url):
            os.makedirs(local_path(url), exist_ok=True)

    def mk_dir(self, url: str) -> None:
        path = local_path(url)
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise MoxFileNotExistsException(
                f"cannot make folder {url!r}: its parent {parent!r} does not exist "
                f"(make_dirs makes the parents too)", url)
        with _errors(url):
            os.mkdir(path)

    def remove(self, url: str, recursive: bool = False) -> None:
        path = local_path(url)
        if os.path.isdir(path) and not os.path.islink(path):
            if recursive:
                with _errors(url):
                    shutil.rmtree(path)
                return
            try:
                os.rmdir(path)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise MoxFileDirectoryNotEmptyException(
                        f"folder {url!r} is not empty: pass recursive=True to remove it with "
                        f"everything inside", url) from None
                raise
            return
        with _errors(url):
            os.remove(path)

    def read(self, url: str) -> bytes:
        with _errors(url), open(local_path(url), "rb") as handle:
            return handle.read()

    def write(self, url: str, data: bytes) -> None:
        with _errors(url), open(local_path(url), "wb") as handle:
            handle.write(data)

    def write_stream(self, url: str, stream: IO[bytes]) -> None:
        with _errors(url), open(local_path(url), "wb") as handle:
            shutil.copyfileobj(stream, handle, 8 << 20)

    def open_read(self, url: str) -> IO[bytes]:
        with _errors(url):
            return open(local_path(url), "rb")  # noqa: SIM115 -- the caller closes it

    def open(self, url: str, mode: str, **kwargs: Any) -> IO:
        """``open`` itself: local files need no staging."""
        with _errors(url):
            return open(local_path(url), mode, **kwargs)  # noqa: SIM115

    def copy(self, src: str, dst: str) -> None:
        with _errors(src):
            shutil.copyfile(local_path(src), local_path(dst))

    def download(self, url: str, local: str) -> None:
        self.copy(url, local)

    def upload(self, local: str, url: str) -> None:
        self.copy(local, url)

    def rename(self, src: str, dst: str) -> None:
        with _errors(src):
            os.replace(local_path(src), local_path(dst))

    def glob(self, pattern: str) -> list[str]:
        prefix = "file://" if pattern.startswith("file://") else ""
        return sorted(prefix + p for p in globlib.glob(local_path(pattern)))

    def walk(self, top: str, topdown: bool = True, onerror: Any = None):
        return os.walk(local_path(top), topdown=topdown, onerror=onerror)
