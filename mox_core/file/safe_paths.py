"""The one rule for turning a remote (or listed) name into a local path below a folder.

Object keys are arbitrary strings: S3 and OBS store ``data/../../escape.txt`` or
``data/..\\..\\x`` as they are, and a bucket anyone can write to (or a dataset from someone else)
can hold them. Joined naively to a local folder, such a name writes outside it -- the classic
archive "zip slip". Every place in ``mox.file`` and the dataset cache that makes a local path
from a name it did not choose itself goes through :func:`safe_join` (or :func:`unsafe_reason`
where the name is checked before anything is read), so the rule lives here once:

* a name is a sequence of segments separated by ``/`` (and the local ``os.sep``);
* a ``..`` segment is refused -- also where ``\\`` separates it, because on Windows that is a
  separator too and a tree copied there later must not escape either;
* a Windows drive or UNC form (``C:x``, ``C:\\x``, ``\\\\server\\share``) is refused on every
  system, for the same reason;
* an empty segment (a doubled slash, ``data//etc/x``, or a leading one left after the folder's
  prefix) is part of the object's exact name: the object is read by that exact key, and locally
  the empty segment collapses to one folder level, which stays inside. Where the caller's name
  is a *path* it will join itself (``os.path.join`` takes a leading separator as an absolute
  path), ``keys=False`` refuses the leading separator instead.

What a refused name costs the caller is :class:`~mox_core.file.errors.MoxFileUnsafePathException`
naming it, after the safe names have been copied (as the AWS CLI does with ``aws s3 cp
--recursive`` for keys that reference a parent folder).
"""

from __future__ import annotations

import os
import re

from mox_core.file.errors import MoxFileUnsafePathException

_SEPARATORS = re.compile(r"[\\/]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_reason(name: str, keys: bool = True) -> str | None:
    """Why ``name`` (relative to a folder) would leave that folder, or ``None`` when it stays.

    ``keys``: ``name`` is the rest of an object key after the folder's prefix, so a leading or
    doubled ``/`` is an empty segment of the key (kept). With ``keys=False`` it is a path the
    caller also joins with ``os.path.join``, where a leading separator means an absolute path.
    """
    if "\0" in name:
        return "it contains a NUL character"
    if not keys and (name.startswith(("/", "\\")) or (os.sep != "/" and name.startswith(os.sep))):
        return "it is an absolute path"
    if _DRIVE.match(name) or name.startswith("\\\\"):
        return "it names a Windows drive or network share"
    segments = _SEPARATORS.split(name)
    if ".." in segments:
        return "it has a '..' segment, which reaches the parent folder"
    if os.name == "nt" and any(":" in segment for segment in segments):
        return "it has a ':' in a segment, which Windows reads as a drive or data stream"
    if not any(segment not in ("", ".") for segment in segments):
        return "it names no file below the folder"
    return None


def safe_join(root: str, name: str, keys: bool = True) -> str:
    """The local path of ``name`` below the local folder ``root``; raises
    :class:`MoxFileUnsafePathException` naming ``name`` when it would leave ``root``.

    Only ``/`` (and ``os.sep``) separate levels locally, so a doubled slash collapses to one
    level, and a backslash in a POSIX file name stays part of that name. The joined path is
    checked lexically once more against ``root`` -- the rule above is the reason, this is the
    guarantee. Links already inside ``root`` are the caller's business: resolving them here
    would refuse a legitimately linked ``/cache``.
    """
    why = unsafe_reason(name, keys)
    if why is None:
        parts = [p for p in re.split(r"/" if os.sep == "/" else r"[\\/]", name)
                 if p not in ("", ".")]
        path = os.path.join(root, *parts)
        base = os.path.normpath(os.path.abspath(root))
        resolved = os.path.normpath(os.path.abspath(path))
        if resolved != base and os.path.commonpath([base, resolved]) == base:
            return path
        why = "it resolves outside the folder"
    raise MoxFileUnsafePathException(
        f"refused {name!r}: {why}; nothing is written outside {root!r}", [name], root)
