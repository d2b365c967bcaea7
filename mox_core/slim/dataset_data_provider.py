"""TF-Slim's ``DatasetDataProvider``: graph tensors of one decoded record of a ``Dataset``.

::

    provider = slim.dataset_data_provider.DatasetDataProvider(dataset, num_readers=4,
                                                              shuffle=True, num_epochs=None)
    image, label = provider.get(['image', 'label'])

As in TF-Slim the reading graph is built when the provider is made (so make it inside the graph
that uses it: an ``input_fn``, or ``with tf.Graph().as_default():``) and every ``get`` returns
items of the same record. The records are read by
:func:`~mox_core.slim.parallel_reader.read_records` on ``tf.data`` instead of queue runners and
decoded in parallel inside the pipeline; the tensors come from a one-shot iterator (or an
initializable one registered as a table initializer; see :mod:`mox_core.slim.parallel_reader`),
so nothing needs starting: ``mox.run``, ``MonitoredSession`` and a plain ``Session`` all work
(start_queue_runners is harmless). ``common_queue_capacity`` is the shuffle buffer;
``common_queue_min`` has no counterpart and is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from mox_core.slim import parallel_reader
from mox_core.slim.dataset import Dataset

tf1 = tf.compat.v1

__all__ = ["DataProvider", "DatasetDataProvider"]


class DataProvider:
    """Named tensors of one example: TF-Slim's ``DataProvider`` (``get``, ``list_items``,
    ``num_samples``)."""

    def __init__(self, items_to_tensors: dict, num_samples: int | None) -> None:
        self._items_to_tensors = dict(items_to_tensors)
        self._num_samples = num_samples

    def get(self, items: str | Sequence[str]) -> Any:
        """The tensors of ``items``, in that order; one item name (a string) gives its tensor
        alone (TF-Slim wanted a list). Unknown items are a ``ValueError`` listing the known."""
        single = isinstance(items, str)
        wanted = [items] if single else list(items)
        unknown = [item for item in wanted if item not in self._items_to_tensors]
        if unknown:
            raise ValueError(f"unknown item(s) {', '.join(map(repr, unknown))}; this provider "
                             f"has {', '.join(map(repr, self.list_items()))}")
        tensors = [self._items_to_tensors[item] for item in wanted]
        return tensors[0] if single else tensors

    def list_items(self) -> list[str]:
        """The item names ``get`` answers."""
        return list(self._items_to_tensors)

    def num_samples(self) -> int | None:
        """The number of samples of the dataset (``None`` when unknown)."""
        return self._num_samples


def decoded_records(dataset: Dataset, items: list[str], num_readers: int, reader_kwargs: Any,
                    shuffle: bool, num_epochs: int | None, capacity: int, seed: int | None,
                    files: list[str] | None = None) -> Any:
    """``tf.data.Dataset`` of tuples: ``items`` decoded by ``dataset.decoder``, then the record
    key. ``files`` (already listed) overrides ``dataset.data_sources``."""
    files = files if files is not None else parallel_reader.get_data_files(dataset.data_sources)
    records = parallel_reader.read_records(files, dataset.reader, reader_kwargs, num_readers,
                                           shuffle, num_epochs, capacity, seed)
    decoder = dataset.decoder

    def decode(key, record):
        return (*decoder.decode(record, items), key)

    return records.map(decode, num_parallel_calls=num_readers, deterministic=not shuffle)


class DatasetDataProvider(DataProvider):
    """Reads and decodes ``dataset``'s records; ``get(items)`` gives one record's items.

    ``num_readers`` files are read (and records decoded) in parallel; ``shuffle`` shuffles the
    file order every epoch and the records through a buffer of ``common_queue_capacity``;
    ``num_epochs=None`` reads forever, otherwise the tensors raise ``OutOfRangeError`` at the
    end. The record's key (``b'<file>:<index>'``) is the item ``record_key``.
    """

    def __init__(self, dataset: Dataset, num_readers: int = 1, reader_kwargs: dict | None = None,
                 shuffle: bool = True, num_epochs: int | None = None,
                 common_queue_capacity: int = 256, common_queue_min: int = 128,
                 record_key: str = "record_key", seed: int | None = None,
                 scope: str | None = None) -> None:
        del common_queue_min  # a queue setting without a tf.data counterpart
        if not isinstance(dataset, Dataset):
            raise TypeError(f"DatasetDataProvider: dataset must be a slim.dataset.Dataset, got "
                            f"{type(dataset).__name__}")
        items = dataset.decoder.list_items()
        if record_key in items:
            raise ValueError(f"DatasetDataProvider: record_key {record_key!r} is also an item of "
                             f"the decoder; pass another record_key")
        with tf1.name_scope(scope, "DatasetDataProvider"), tf.device("/cpu:0"):
            records = decoded_records(dataset, items, num_readers, reader_kwargs, shuffle,
                                      num_epochs, common_queue_capacity, seed).prefetch(1)
            tensors = parallel_reader.iterate(records)
        super().__init__(dict(zip([*items, record_key], tensors)), dataset.num_samples)
