"""The mox-datasets-obs plugin module (entry point ``obs`` in group ``mox``).

Registers the ``obs://`` and ``s3://`` schemes of ``mox.file`` and the ``AsyncRawGenerator``
reader of the raw datasets. Only names are registered here; the OBS SDK and aiohttp are
imported when a URL is first used.
"""

from __future__ import annotations

from mox_core.hookspecs import hookimpl
from mox_core.registry import DatasetReaderSpec, FilesystemSpec

_BACKEND = "mox_datasets_obs.backend:ObsBackend"


@hookimpl
def mox_filesystems():
    return [
        FilesystemSpec(name="obs", backend=_BACKEND,
                       description="Huawei Cloud OBS (and any S3-compatible service)"),
        FilesystemSpec(name="s3", backend=_BACKEND,
                       description="S3-compatible object storage, through the OBS SDK"),
    ]


@hookimpl
def mox_dataset_readers():
    return [
        DatasetReaderSpec(
            name="AsyncRawGenerator",
            reader="mox_datasets_obs.reader:AsyncRawGenerator",
            description="many objects fetched concurrently (asyncio), bounded memory, order kept",
        )
    ]
