"""``mox.file.File``: ``open`` for local paths and every registered URL scheme.

Local paths get a real ``open`` file. Remote objects cannot be edited in place, so:

* read-only modes (``r``, ``rb``) stream the object through the backend's seekable reader --
  memory stays bounded whatever the object's size, and ``seek``/``readline`` work;
* writable modes stage the content in an anonymous local temporary file (pre-filled with the
  existing object for ``a``/``r+``/``a+``) and upload it once, on ``close``. ``flush`` does not
  upload: a logging handler flushing every record would otherwise re-upload the whole file each
  time. Close the file (or use ``with``) to publish it.
"""

from __future__ import annotations

import io
import tempfile
from typing import IO, Any

from mox_core.file.dispatch import backend_for, is_remote
from mox_core.file.errors import MoxFileNameDuplicateException, MoxFileNotExistsException

_MODE_CHARS = set("rwaxbt+")


def _check_mode(mode: str) -> None:
    if (not mode or set(mode) - _MODE_CHARS or sum(mode.count(c) for c in "rwax") != 1
            or ("b" in mode and "t" in mode)):
        raise ValueError(f"invalid mode {mode!r}: use r, w, a or x, with optional b/t and +")


class File:
    """A file object for ``name`` (a path or URL) opened with ``mode``.

    File-like (``read``, ``readline``, ``readlines``, ``write``, ``writelines``, ``seek``,
    ``tell``, ``flush``, ``close``, iteration), a context manager, plus MoXing's ``size()``.
    ``encoding`` defaults to UTF-8 for remote text files.
    """

    def __init__(self, name: str, mode: str = "r", buffering: int = -1,
                 encoding: str | None = None, errors: str | None = None,
                 newline: str | None = None) -> None:
        _check_mode(mode)
        self.name = name
        self.mode = mode
        self._backend = backend_for(name)
        self._stage: IO[bytes] | None = None
        self._closed = False
        if not is_remote(name):
            self._fh: IO = self._backend.open(name, mode, buffering=buffering,  # type: ignore[attr-defined]
                                              encoding=encoding, errors=errors, newline=newline)
            return
        text = "b" not in mode
        if mode.replace("b", "").replace("t", "") == "r":
            raw = self._backend.open_read(name)
            self._fh = (io.TextIOWrapper(raw, encoding or "utf-8", errors, newline)  # type: ignore[arg-type]
                        if text else raw)
            return
        self._stage = self._open_stage(name, mode)
        self._fh = (io.TextIOWrapper(self._stage, encoding or "utf-8", errors, newline,  # type: ignore[arg-type]
                                     write_through=True) if text else self._stage)

    def _open_stage(self, name: str, mode: str) -> IO[bytes]:
        exists = self._backend.exists(name)
        if "x" in mode and exists:
            raise MoxFileNameDuplicateException(f"{name!r} already exists (mode 'x')", name)
        if "r" in mode and not exists:
            raise MoxFileNotExistsException(f"{name!r} does not exist", name)
        stage = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in close()
        if exists and ("a" in mode or "r" in mode):
            with self._backend.open_read(name) as source:
                while chunk := source.read(8 << 20):
                    stage.write(chunk)
            if "r" in mode:
                stage.seek(0)
        return stage

    # -- file protocol ------------------------------------------------------------------------
    def __getattr__(self, attr: str) -> Any:
        return getattr(self.__dict__["_fh"], attr)

    def __iter__(self):
        return iter(self._fh)

    def __enter__(self) -> File:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close; a remote file opened for writing is uploaded now."""
        if self._closed:
            return
        self._closed = True
        if self._stage is None:
            self._fh.close()
            return
        try:
            self._fh.flush()
            self._stage.seek(0)
            self._backend.write_stream(self.name, self._stage)
        finally:
            self._fh.close()
            self._stage.close()

    def size(self) -> int:
        """The file's length in bytes (of what is written so far, for a file being written)."""
        if self._stage is not None:
            self._fh.flush()
            position = self._stage.tell()
            end = self._stage.seek(0, io.SEEK_END)
            self._stage.seek(position)
            return end
        return self._backend.stat(self.name).length

    def __repr__(self) -> str:
        return f"<mox.file.File name={self.name!r} mode={self.mode!r}>"
