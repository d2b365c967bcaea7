"""Graph ops that read registered URLs (``obs://``, ``s3://``) through ``mox.file``.

TensorFlow's own readers (``tf.io.read_file``, ``tf.data.TFRecordDataset``) run in C++ and know
only TensorFlow's file systems. These ops call ``mox.file`` from ``tf.numpy_function`` /
``Dataset.from_generator`` for registered remote schemes and are TensorFlow's own ops for every
other path, so a pipeline written with them reads local folders at full C++ speed and remote
ones through the plugin. Use them where a dataset takes paths::

    contents = elements.map(lambda e: {**e, "image_buf": tfdata.read_file(e["path"])})
    records = files.interleave(lambda f: tfdata.tfrecord_records(f, remote=True))
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from mox_core.file import api
from mox_core.file.dispatch import LOCAL_SCHEME, registered_schemes


def remote_url_regex() -> str | None:
    """A regex matching URLs of the registered remote schemes (``None`` when there is none)."""
    schemes = [s for s in registered_schemes() if s != LOCAL_SCHEME]
    if not schemes:
        return None
    return "^(" + "|".join(schemes) + ")://.*"


def _read_bytes(path: np.ndarray | bytes) -> np.ndarray:
    if isinstance(path, np.ndarray):
        path = path.item()
    name = path.decode("utf-8") if isinstance(path, bytes) else str(path)
    return np.array(api.read(name, binary=True), dtype=object)


def read_file(path: Any) -> Any:
    """``tf.io.read_file`` that also reads registered URLs (a scalar string tensor in, the file's
    bytes out)."""
    import tensorflow as tf

    regex = remote_url_regex()
    if regex is None:
        return tf.io.read_file(path)
    path = tf.convert_to_tensor(path, tf.string)

    def remote() -> Any:
        data = tf.numpy_function(_read_bytes, [path], tf.string, stateful=False)
        data.set_shape([])
        return data

    return tf.cond(tf.strings.regex_full_match(path, regex), remote,
                   lambda: tf.io.read_file(path))


def iter_tfrecords(path: str):
    """The records of TFRecord file ``path`` (any scheme), streamed; CRCs are not checked."""
    with api.File(path, "rb") as handle:
        index = 0
        while True:
            header = handle.read(12)
            if not header:
                return
            if len(header) < 12:
                raise ValueError(f"TFRecord file {path!r} is truncated in record {index + 1}")
            (length,) = struct.unpack("<Q", header[:8])
            data = handle.read(length)
            footer = handle.read(4)
            if len(data) < length or len(footer) < 4:
                raise ValueError(f"TFRecord file {path!r} is truncated in record {index + 1}")
            index += 1
            yield data


def tfrecord_records(path: Any, remote: bool) -> Any:
    """A dataset of the records of one TFRecord file: ``tf.data.TFRecordDataset`` for local
    files, a stream through ``mox.file`` when ``remote``."""
    import tensorflow as tf

    if not remote:
        return tf.data.TFRecordDataset(path)
    return tf.data.Dataset.from_generator(
        lambda p: iter_tfrecords(p.decode("utf-8") if isinstance(p, bytes) else str(p)),
        args=(path,), output_signature=tf.TensorSpec((), tf.string))
