"""The exceptions of ``mox.file``, under MoXing's names and inside Python's own hierarchy.

Each is also the ``OSError`` subclass a Python user would catch (``FileNotFoundError``,
``IsADirectoryError``, ...), so code written against ``open``/``os`` keeps working when it is
pointed at ``mox.file``. Messages name the path (for object stores: bucket and key) and never
carry credentials, signed URLs or request headers.
"""

from __future__ import annotations

import errno
from typing import Any


class MoxFileException(OSError):
    """Base of every ``mox.file`` error."""

    def __init__(self, message: str, path: str | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.strerror = message
        self.filename = path
        if code is not None:
            self.errno = code

    def __str__(self) -> str:
        return str(self.strerror)


class MoxFileNotExistsException(MoxFileException, FileNotFoundError):
    """The path does not exist (a missing local file, object or bucket)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path, errno.ENOENT)


class MoxFileNameDuplicateException(MoxFileException, FileExistsError):
    """The target exists and the operation would not overwrite it."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path, errno.EEXIST)


class MoxFileIsDirectoryException(MoxFileException, IsADirectoryError):
    """A file operation was given a folder (e.g. ``copy`` of a folder)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path, errno.EISDIR)


class MoxFileNotDirectoryException(MoxFileException, NotADirectoryError):
    """A folder operation was given a file."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path, errno.ENOTDIR)


class MoxFileDirectoryNotEmptyException(MoxFileException):
    """``remove`` of a folder that holds something, without ``recursive=True``."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path, errno.ENOTEMPTY)


class MoxFileRespException(MoxFileException):
    """A storage service answered with an error (HTTP status >= 300).

    ``resp`` is a small dict (status, code, message, request_id, bucket, key) -- never the
    request itself, which would hold signatures.
    """

    def __init__(self, message: str, path: str | None = None, resp: Any = None,
                 code: int | None = None) -> None:
        super().__init__(message, path, code)
        self.resp = resp


class MoxFilePermissionException(MoxFileRespException, PermissionError):
    """The storage service refused access (HTTP 403, a wrong secret, a missing grant)."""

    def __init__(self, message: str, path: str | None = None, resp: Any = None) -> None:
        super().__init__(message, path, resp, errno.EACCES)


class MoxFileReadException(MoxFileException):
    """Reading failed after the retries (the service unreachable, the connection cut)."""

    def __init__(self, message: str, path: str | None = None, resp: Any = None) -> None:
        super().__init__(message, path, errno.EIO)
        self.resp = resp


class UnsupportedSchemeError(MoxFileException, ValueError):
    """A URL scheme no installed plugin serves."""


class MoxFileUnsafePathException(MoxFileException, PermissionError):
    """Names that would be written (or read) outside the folder they belong to were refused.

    An object key such as ``data/../../escape.txt`` is legal in S3 and OBS; copied naively into
    a local folder it lands outside it. ``mox.file`` copies everything else, warns about each
    refused name, then raises this with ``refused`` (the names, as listed or given) and
    ``folder`` (the folder they would have left) -- the caller learns it, and in an ``atexit``
    handler the exit status is non-zero. It is a ``PermissionError``: the names are not allowed,
    as with the AWS CLI, which skips keys that reference a parent folder.
    """

    def __init__(self, message: str, refused: list[str], folder: str | None = None) -> None:
        super().__init__(message, refused[0] if refused else None, errno.EACCES)
        self.refused = list(refused)
        self.folder = folder
