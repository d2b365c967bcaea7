"""The local filesystem, registered through the public ``mox_filesystems`` hook.

Plain paths and ``file://`` URLs are a scheme like any plugin's, so ``mox.file`` has one lookup
and ``mox plugins`` lists who serves what.
"""

from __future__ import annotations

from mox_core.hookspecs import hookimpl
from mox_core.registry import FilesystemSpec


@hookimpl
def mox_filesystems():
    return [
        FilesystemSpec(
            name="file",
            backend="mox_core.file.local:LocalBackend",
            description="local paths and file:// URLs, through os and shutil",
        )
    ]
