"""Readers: what turns a stream of file paths into a stream of file contents.

A raw dataset hands its reader a ``tf.data.Dataset`` whose elements are dicts holding at least
``'path'`` (a ``tf.string`` scalar: the file to read) and gets back the same dicts with
``'image_buf'`` (the file's bytes) added. Elements travel whole, so a reader may reorder them
(``deterministic=False``) without ever pairing a file with another file's label.

The reader protocol, for plugin authors (``mox_dataset_readers`` hook)::

    class MyReader:
        def __init__(self, num_readers=8, capacity=256, **reader_kwargs): ...
        def read(self, elements: tf.data.Dataset, deterministic: bool) -> tf.data.Dataset: ...

``num_readers`` and ``capacity`` are the dataset's arguments of those names; ``reader_kwargs``
are the user's ``reader_kwargs``. A reader with a ``mox_file_urls`` attribute is told, before
``read``, whether the paths are URLs served by ``mox.file`` (``obs://``) or paths TensorFlow
reads itself. ``read`` runs while the input graph is built, inside the
user's ``tf.Graph``. The built-in reader is :class:`ParallelReader`, registered as
``'ParallelReader'`` and used when ``reader_class`` is ``None``.
"""

from __future__ import annotations

from typing import Any

DEFAULT_READER = "ParallelReader"


class ParallelReader:
    """Reads files in ``num_readers`` parallel calls.

    ``capacity`` file contents are read ahead (a ``prefetch`` buffer), so decoding never waits
    on the file system while that buffer is full. Local files and TensorFlow's URL schemes are
    read by ``tf.io.read_file``; schemes a plugin serves through ``mox.file`` (``obs://``) by
    ``mox_core.file.tfdata.read_file``, one file per call -- the plugin's own reader (the OBS
    plugin's ``AsyncRawGenerator``) reads those faster.
    """

    def __init__(self, num_readers: int = 8, capacity: int = 256) -> None:
        if num_readers < 1:
            raise ValueError(f"num_readers must be at least 1, got {num_readers}")
        if capacity < 0:
            raise ValueError(f"capacity must not be negative, got {capacity}")
        self.num_readers = num_readers
        self.capacity = capacity
        #: whether the paths are URLs served by ``mox.file`` (``None``: look at each path);
        #: the datasets set it, so local files never pay the per-path check
        self.mox_file_urls: bool | None = None

    def read(self, elements: Any, deterministic: bool) -> Any:
        import tensorflow as tf

        from mox_core.file import tfdata

        read_file = tf.io.read_file if self.mox_file_urls is False else tfdata.read_file

        def read_one(element: dict) -> dict:
            return {**element, "image_buf": read_file(element["path"])}

        contents = elements.map(
            read_one, num_parallel_calls=self.num_readers, deterministic=deterministic
        )
        return contents.prefetch(self.capacity) if self.capacity else contents


def resolve_reader(reader_class: Any) -> Any:
    """The reader class meant by ``reader_class``: ``None`` (the default), a registered name, or
    a class (or any callable returning a reader)."""
    from mox_core.datasets import get_reader_class

    if reader_class is None:
        return get_reader_class(DEFAULT_READER)
    if isinstance(reader_class, str):
        return get_reader_class(reader_class)
    if not callable(reader_class):
        raise TypeError(
            f"reader_class must be a registered reader name or a reader class, "
            f"got {reader_class!r}"
        )
    return reader_class


def make_reader(reader_class: Any, num_readers: int, capacity: int,
                reader_kwargs: dict | None) -> Any:
    """An instance of the reader ``reader_class`` means, built with the dataset's arguments."""
    cls = resolve_reader(reader_class)
    reader = cls(num_readers=num_readers, capacity=capacity, **(reader_kwargs or {}))
    if not callable(getattr(reader, "read", None)):
        raise TypeError(f"reader {cls!r} has no read(elements, deterministic) method")
    return reader
