"""What a ``mox.file`` storage backend implements: the plugin author's reference.

A plugin serves a URL scheme by registering a :class:`~mox_core.registry.FilesystemSpec`
(``mox_filesystems`` hook) whose ``backend`` is a subclass of :class:`Backend`. ``mox.file``
creates one instance per scheme, on first use, with the scheme as its only argument, and calls
it with full URLs (``obs://bucket/key``); the local backend gets plain paths.

Object stores have no real folders: a "folder" is a key prefix ending in ``/``, present when any
key starts with it (or an empty marker object of that name exists). Backends hide that; the
generic ``glob`` and ``walk`` here are written on ``list_directory`` so a backend only needs the
primitives.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Iterator
from typing import IO, Any


@dataclasses.dataclass(frozen=True)
class FileStat:
    """What ``mox.file.stat`` returns (MoXing's names: ``length``, ``mtime_nsec``,
    ``is_directory``)."""

    length: int
    mtime_nsec: int
    is_directory: bool

    @property
    def mtime(self) -> float:
        """Modification time in seconds since the epoch."""
        return self.mtime_nsec / 1e9


class Backend:
    """A storage backend for one URL scheme. Subclasses implement the primitives that raise
    ``NotImplementedError`` here; the rest has generic implementations they may override."""

    #: joined with ``/`` (object stores) or ``os.sep`` (local paths)
    sep = "/"

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    # -- primitives -----------------------------------------------------------------------
    def exists(self, url: str) -> bool:
        raise NotImplementedError

    def is_directory(self, url: str) -> bool:
        raise NotImplementedError

    def stat(self, url: str) -> FileStat:
        """Raises ``MoxFileNotExistsException`` naming the URL when it does not exist."""
        raise NotImplementedError

    def list_directory(self, url: str, recursive: bool = False) -> list[str]:
        """Names inside folder ``url``, sorted, never with a trailing separator. With
        ``recursive``, every file and folder below it as a path relative to ``url``."""
        raise NotImplementedError

    def make_dirs(self, url: str) -> None:
        raise NotImplementedError

    def mk_dir(self, url: str) -> None:
        """One folder; ``MoxFileNotExistsException`` if its parent does not exist."""
        raise NotImplementedError

    def remove(self, url: str, recursive: bool = False) -> None:
        """A file, or a folder (an empty one, or any with ``recursive``)."""
        raise NotImplementedError

    def read(self, url: str) -> bytes:
        raise NotImplementedError

    def write(self, url: str, data: bytes) -> None:
        """Create or overwrite ``url`` with ``data``."""
        raise NotImplementedError

    def write_stream(self, url: str, stream: IO[bytes]) -> None:
        """Create or overwrite ``url`` with the rest of ``stream`` (a local file object)."""
        self.write(url, stream.read())

    def open_read(self, url: str) -> IO[bytes]:
        """A seekable binary stream over ``url`` (closed by the caller)."""
        raise NotImplementedError

    def copy(self, src: str, dst: str) -> None:
        """One file within this backend (both URLs are this scheme's)."""
        raise NotImplementedError

    def download(self, url: str, local_path: str) -> None:
        """One file from ``url`` to a local path (its folder exists)."""
        raise NotImplementedError

    def upload(self, local_path: str, url: str) -> None:
        """One local file to ``url``."""
        raise NotImplementedError

    # -- generic --------------------------------------------------------------------------
    def scan(self, url: str) -> tuple[list[str], list[str]]:
        """``(sub-folder names, file names)`` of folder ``url``; object stores answer it with one
        listing instead of a request per name."""
        dirs, files = [], []
        for name in self.list_directory(url):
            (dirs if self.is_directory(self.join(url, name)) else files).append(name)
        return dirs, files

    def list_files(self, url: str) -> list[str]:
        """Every file below folder ``url``, as sorted paths relative to it (for tree copies;
        object stores answer it with one flat listing)."""
        found = []
        root = None
        for folder, _, files in self.walk(url):
            # the walk's first folder is ``url`` as the backend spells it (a file:// URL walks
            # as a plain path): the others are relative to that spelling
            root = folder if root is None else root
            rel = folder[len(root):].strip(self.sep)
            found.extend(f"{rel}{self.sep}{name}" if rel else name for name in files)
        return sorted(found)

    def set_auth(self, **settings: Any) -> None:
        """Credentials and connection settings from ``mox.file.set_auth``; none by default."""

    def join(self, base: str, name: str) -> str:
        return base.rstrip("/") + "/" + name if name else base

    def rename(self, src: str, dst: str) -> None:
        """Object stores rename by copy and delete, file by file."""
        if self.is_directory(src):
            for rel in self.list_directory(src, recursive=True):
                source = self.join(src, rel)
                if not self.is_directory(source):
                    self.copy(source, self.join(dst, rel))
            self.remove(src, recursive=True)
        else:
            self.copy(src, dst)
            self.remove(src)

    def glob(self, pattern: str) -> list[str]:
        """Full URLs matching a shell pattern (``*`` and ``?`` stop at ``/``), sorted."""
        root = _literal_prefix(pattern)
        if not self.is_directory(root):
            return [pattern] if pattern == root and self.exists(root) else []
        regex = re.compile(_glob_regex(pattern[len(root):].lstrip("/")))
        recursive = "/" in pattern[len(root):].strip("/") or "**" in pattern
        names = self.list_directory(root, recursive=recursive)
        return sorted(self.join(root, n) for n in names if regex.fullmatch(n))

    def walk(self, top: str, topdown: bool = True, onerror: Any = None
             ) -> Iterator[tuple[str, list[str], list[str]]]:
        """``os.walk`` over URLs: ``(folder, sub-folder names, file names)``."""
        try:
            dirs, files = self.scan(top)
        except OSError as exc:
            if onerror is not None:
                onerror(exc)
            return
        if topdown:
            yield top, dirs, files
        for name in dirs:
            yield from self.walk(self.join(top, name), topdown, onerror)
        if not topdown:
            yield top, dirs, files


def _literal_prefix(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard."""
    index = min((i for i, ch in enumerate(pattern) if ch in "*?["), default=len(pattern))
    if index == len(pattern):
        return pattern
    return posixpath.dirname(pattern[:index] + "x")


def _glob_regex(pattern: str) -> str:
    """A regex for a relative glob pattern: ``*``, ``?`` and ``[...]`` stay within one path
    segment (as in ``glob.glob`` and ``tf.io.gfile.glob``); ``**`` crosses segments."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)
