"""Writing a file or a folder so that no reader, and no crash, ever sees half of it.

A crash (``kill -9``, the machine going down, a full disk) in the middle of writing a file
leaves it empty or truncated, and every later run that reads it fails until someone fixes it
by hand. So mox writes what it keeps -- ``labels.txt``, ``mox-model.json``, the predictions
CSV, ``mox convert``'s shards, ``mox export``'s version folders -- beside its destination
first, on the same filesystem, and renames it into place when it is complete:

* :func:`atomic_write` / :func:`write_atomically`: a file, through a hidden temporary file in
  the same folder and ``os.replace``. Readers see the old content, then the new, never a mix.
* :func:`publish_folder`: a folder, written in a hidden staging folder beside it and renamed
  into place; an existing folder is swapped with it in one step (Linux ``renameat2``
  ``RENAME_EXCHANGE``; where the filesystem lacks it, two renames, between which the folder is
  missing rather than half-written). Entries of the old folder the caller does not replace are
  carried over (as hard links, so nothing is copied).
* :func:`scratch_folder` / :func:`publish`: the two halves of :func:`publish_folder`, for a
  writer that chooses its own folder inside the scratch space (``mox export``).

Remote objects (``obs://``, ``s3://``) are published whole by their upload already: a file is
staged locally and uploaded only when complete. A folder at a URL is copied into place file by
file when complete (no one step exists there), and never replaces an existing one.

A crash leaves only hidden ``.NAME.mox-partial-*`` files or folders beside the destination,
which nothing reads and which can be deleted.

Test seam: with ``MOX_TEST_CRASH_AT=<point>`` in the environment the process kills itself with
``SIGKILL`` at that point, so that tests can crash it at the exact moment a random kill would
rarely hit. The points are ``atomic-write`` (the temporary file written, not yet renamed) and
``publish-folder`` (the staging folder complete, not yet renamed).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob as globlib
import io
import logging
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import IO

from mox_core.file import api
from mox_core.file.dispatch import backend_for, is_remote
from mox_core.file.errors import MoxFileNameDuplicateException
from mox_core.file.local import local_path

logger = logging.getLogger("mox")

#: The environment variable of the test seam (see the module's docstring).
CRASH_AT_VARIABLE = "MOX_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process here when the test seam names ``name`` (see the module docstring)."""
    if os.environ.get(CRASH_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _hidden_sibling(path: str) -> str:
    folder, name = os.path.split(path.rstrip("/\\"))
    return os.path.join(folder, f".{name}.mox-partial-{os.getpid()}-{secrets.token_hex(4)}")


@contextlib.contextmanager
def atomic_write(url: str, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """Open ``url`` for writing (``mode`` ``w`` or ``wb``); it is replaced when the ``with``
    block ends without an exception, and left as it was when it raises or the process dies."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes a whole file: mode must be 'w' or 'wb', got "
                         f"{mode!r}")
    if is_remote(url):
        with tempfile.TemporaryFile() as stage:
            handle = stage if mode == "wb" else io.TextIOWrapper(stage, encoding or "utf-8",
                                                                 newline=newline)
            yield handle
            handle.flush()
            if handle is not stage:
                handle.detach()
            stage.seek(0)
            backend_for(url).write_stream(url, stage)
        return
    path = os.path.realpath(local_path(url))  # through a symbolic link, as open() writes
    temporary = _hidden_sibling(path)
    try:
        with open(temporary, "x" + mode[1:], encoding=None if mode == "wb" else encoding,
                  newline=None if mode == "wb" else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if os.path.isfile(path):
            shutil.copymode(path, temporary)
        crash_point("atomic-write")
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def write_atomically(url: str, data: str | bytes) -> None:
    """Create or replace file ``url`` with ``data`` (``str`` as UTF-8), whole or not at all."""
    with atomic_write(url, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextlib.contextmanager
def scratch_folder(beside: str) -> Iterator[str]:
    """A new, empty, hidden folder beside ``beside`` (so on its filesystem), removed with
    whatever is left in it when the ``with`` block ends."""
    if is_remote(beside):
        scratch = _hidden_sibling(beside)
        try:
            yield scratch
        finally:
            if api.exists(scratch):
                api.remove(scratch, recursive=True)
        return
    final = os.path.realpath(local_path(beside))  # a link's target is what gets replaced
    scratch = _hidden_sibling(final)
    parent = os.path.dirname(scratch)
    os.makedirs(parent, exist_ok=True)
    if os.path.isdir(final) and os.stat(final).st_dev != os.stat(parent).st_dev:
        raise ValueError(f"{beside!r} is a mount point: mox writes a new version of this folder "
                         f"beside it and swaps the two when complete, which a mount point "
                         f"cannot take part in; write into a folder inside it instead")
    _note_leftovers(final)
    try:
        os.mkdir(scratch)
    except PermissionError:
        raise ValueError(f"cannot write beside {beside!r}: mox writes the new version of it in "
                         f"a folder beside it ({parent!r}) and renames it into place when "
                         f"complete, and that folder is not writable") from None
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _note_leftovers(path: str) -> None:
    """Name the staging folders a killed run left beside ``path``: nothing reads them, but they
    may hold as much data as the output itself. They are not removed: another run, perhaps on
    another machine sharing the folder, may still be writing one."""
    folder, name = os.path.split(os.path.abspath(path))
    leftovers = sorted(globlib.glob(os.path.join(globlib.escape(folder),
                                                 f".{globlib.escape(name)}.mox-partial-*")))
    if leftovers:
        logger.warning("%s: an earlier run that was stopped midway left %s; nothing reads it, "
                       "remove it once no run is writing %s", path, ", ".join(leftovers), path)


def publish(staged: str, final: str, replace: bool = False,
            keep: Callable[[str], bool] | None = None) -> str:
    """Move the complete folder ``staged`` to ``final`` (on the same filesystem); returns
    ``final``.

    An existing ``final`` is an error unless ``replace``; then the two are swapped in one step
    and the old one is left at ``staged`` for the caller to remove. Names of the old folder for
    which ``keep`` is true are hard-linked into the new one first.
    """
    if is_remote(final):
        if replace:
            raise ValueError(f"cannot replace folder {final!r} in one step: an object store "
                             f"has no folders to swap; write to a new URL")
        if api.exists(final):
            raise MoxFileNameDuplicateException(f"{final!r} already exists", final)
        crash_point("publish-folder")
        api.rename(staged, final)
        return final
    staged, target = local_path(staged), local_path(final)
    if os.path.lexists(target) and replace:
        target = os.path.realpath(target)
        if keep is not None:
            _link_into(target, staged, [n for n in os.listdir(target) if keep(n)])
        crash_point("publish-folder")
        if not _renameat2(staged, target, _RENAME_EXCHANGE):
            parked = _hidden_sibling(target)
            os.rename(target, parked)
            os.rename(staged, target)
            os.rename(parked, staged)
        return final
    crash_point("publish-folder")
    if not _renameat2(staged, target, _RENAME_NOREPLACE):
        if os.path.lexists(target):
            raise MoxFileNameDuplicateException(f"{final!r} already exists", final)
        os.rename(staged, target)
    return final


@contextlib.contextmanager
def publish_folder(final: str, replace: bool = False,
                   keep: Callable[[str], bool] | None = None) -> Iterator[str]:
    """An empty staging folder to write ``final``'s content in; published with :func:`publish`
    when the ``with`` block ends without an exception, removed in every case."""
    with scratch_folder(final) as scratch:
        staged = os.path.join(scratch, "new") if not is_remote(final) else scratch + "/new"
        api.make_dirs(staged)
        yield staged
        publish(staged, final, replace=replace, keep=keep)


def _link_into(source: str, target: str, names: list[str]) -> None:
    """Hard-link (copy where links are refused) ``source/name`` for each name into ``target``,
    folders recursively, symbolic links as links."""
    for name in names:
        src, dst = os.path.join(source, name), os.path.join(target, name)
        if os.path.lexists(dst):
            continue
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(src, dst)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
_AT_FDCWD = -100


def _renameat2(src: str, dst: str, flags: int) -> bool:
    """Linux ``renameat2``; ``False`` where the platform or filesystem lacks it (then the
    caller renames the portable way)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if function(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    if code == errno.EEXIST:
        raise MoxFileNameDuplicateException(f"{dst!r} already exists", dst)
    raise OSError(code, os.strerror(code), src, None, dst)
