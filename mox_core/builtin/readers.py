"""The core's built-in dataset reader, registered through the public ``mox_dataset_readers`` hook.

The default reader goes through the same hook as a plugin's (the OBS plugin's
``AsyncRawGenerator``), so ``reader_class`` has one lookup and ``mox plugins`` lists it.
"""

from __future__ import annotations

from mox_core.hookspecs import hookimpl
from mox_core.registry import DatasetReaderSpec


@hookimpl
def mox_dataset_readers():
    return [
        DatasetReaderSpec(
            name="ParallelReader",
            reader="mox_core.datasets.readers:ParallelReader",
            description="tf.io.read_file in num_readers parallel calls (local files and every "
            "scheme TensorFlow's filesystems read); the default",
        )
    ]
