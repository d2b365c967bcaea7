"""TF-Slim's ``Dataset``: where the records are and how to decode them (no reading yet).

A ``Dataset`` is a plain description, handed to a
:class:`~mox_core.slim.dataset_data_provider.DatasetDataProvider` that builds the reading
graph::

    dataset = slim.dataset.Dataset(
        data_sources='/data/flowers_train_*.tfrecord', reader=tf.compat.v1.TFRecordReader,
        decoder=decoder, num_samples=3320, items_to_descriptions={'image': 'a flower'},
        num_classes=5)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Dataset"]


class Dataset:
    """TF-Slim's dataset description.

    ``data_sources``: a file pattern or a list of them (local paths, TensorFlow URLs, or URLs a
    ``mox.file`` plugin serves); ``reader``: the TF 1 reader class of the files
    (``tf.compat.v1.TFRecordReader``, ``TextLineReader``, ``WholeFileReader``,
    ``FixedLengthRecordReader``; ``None`` means TFRecord) or a function of a file name returning
    a ``tf.data.Dataset`` of records; ``decoder``: what turns a record into items (a
    :class:`~mox_core.slim.tfexample_decoder.TFExampleDecoder`); ``num_samples``: the number of
    records; ``items_to_descriptions``: documentation of the items. Every other keyword becomes
    an attribute (``num_classes``, ``labels_to_names``, ...), as in TF-Slim.
    """

    def __init__(self, data_sources: str | Sequence[str], reader: Any, decoder: Any,
                 num_samples: int | None, items_to_descriptions: dict | None,
                 **kwargs: Any) -> None:
        if not data_sources or not (isinstance(data_sources, str) or all(
                isinstance(source, str) and source for source in data_sources)):
            raise ValueError(f"Dataset: data_sources must be a file pattern or a list of them, "
                             f"got {data_sources!r}")
        if not (hasattr(decoder, "decode") and hasattr(decoder, "list_items")):
            raise TypeError(f"Dataset: decoder must have decode() and list_items() (a "
                            f"slim.tfexample_decoder.TFExampleDecoder), got {decoder!r}")
        if num_samples is not None and (isinstance(num_samples, bool)
                                        or not isinstance(num_samples, int) or num_samples < 0):
            raise ValueError(f"Dataset: num_samples must be an int >= 0, got {num_samples!r}")
        self.data_sources = data_sources
        self.reader = reader
        self.decoder = decoder
        self.num_samples = num_samples
        self.items_to_descriptions = dict(items_to_descriptions or {})
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return (f"Dataset(data_sources={self.data_sources!r}, num_samples={self.num_samples}, "
                f"items={self.decoder.list_items()})")
