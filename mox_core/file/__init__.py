"""``mox.file`` (MoXing's ``moxing.framework.file``): one file API for local paths and URLs.

::

    import mox_core as mox          # or: import moxing as mox
    mox.file.copy_parallel("obs://bucket/flowers", "/cache/flowers")
    with mox.file.File("s3://bucket/log.txt", "w") as f:
        f.write("done")

Local paths (and ``file://``) are served by the core; other schemes by the backend a plugin
registers through the ``mox_filesystems`` hook (``obs://`` and ``s3://``: mox-datasets-obs).
Credentials come from the environment, a config file or ``set_auth``, never from the URL, and
never appear in logs or errors. ``shift('os', 'mox')`` lets ``open``/``os``/``shutil`` and
``tf.io.gfile`` take URLs; ``mox_core.file.tfdata`` reads them inside TensorFlow graphs.

Every function works from an ``atexit`` handler (ModelArts scripts upload ``/cache/train_url``
there): work is done without threads once Python is shutting down (``mox_core.file.workers``),
and a call failing there makes the exit status 120 instead of 0 (``mox_core.file.exit_status``).
"""

from __future__ import annotations

from mox_core.file import exit_status
from mox_core.file.api import (
    append,
    copy,
    copy_parallel,
    exists,
    get_size,
    glob,
    is_directory,
    list_directory,
    make_dirs,
    mk_dir,
    read,
    remove,
    rename,
    set_auth,
    stat,
    walk,
    write,
)
from mox_core.file.backend import Backend, FileStat
from mox_core.file.dispatch import is_remote
from mox_core.file.errors import (
    MoxFileDirectoryNotEmptyException,
    MoxFileException,
    MoxFileIsDirectoryException,
    MoxFileNameDuplicateException,
    MoxFileNotDirectoryException,
    MoxFileNotExistsException,
    MoxFilePermissionException,
    MoxFileReadException,
    MoxFileRespException,
    MoxFileUnsafePathException,
    UnsupportedSchemeError,
)
from mox_core.file.fileobj import File
from mox_core.file.shift import shift

exit_status.install()

__all__ = [
    "Backend",
    "File",
    "FileStat",
    "MoxFileDirectoryNotEmptyException",
    "MoxFileException",
    "MoxFileIsDirectoryException",
    "MoxFileNameDuplicateException",
    "MoxFileNotDirectoryException",
    "MoxFileNotExistsException",
    "MoxFilePermissionException",
    "MoxFileReadException",
    "MoxFileRespException",
    "MoxFileUnsafePathException",
    "UnsupportedSchemeError",
    "append",
    "copy",
    "copy_parallel",
    "exists",
    "get_size",
    "glob",
    "is_directory",
    "is_remote",
    "list_directory",
    "make_dirs",
    "mk_dir",
    "read",
    "remove",
    "rename",
    "set_auth",
    "shift",
    "stat",
    "walk",
    "write",
]
