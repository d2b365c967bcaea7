"""``mox.get_tfrecord``: MoXing's generic TFRecord reader, with TF-Slim's decoder description.

Published ModelArts samples (the Kaggle iceberg example) read any ``tf.train.Example`` records
like this::

    keys_to_features = {
        'band_1': tf.FixedLenFeature((75 * 75,), tf.float32),
        'label': tf.FixedLenFeature([1], tf.int64),
    }
    items_to_handlers = {
        'band_1': slim.tfexample_decoder.Tensor('band_1', shape=[75, 75]),
        'label': slim.tfexample_decoder.Tensor('label', shape=[]),
    }
    dataset = mox.get_tfrecord(dataset_dir=data_url, file_pattern='iceberg-train-*.tfrecord',
                               num_samples=1176, keys_to_features=keys_to_features,
                               items_to_handlers=items_to_handlers, shuffle=True,
                               num_epochs=None)
    band_1, label = dataset.get(['band_1', 'label'])

``get`` returns one example's tensors (``mox.run`` batches them with ``batch_size``; the items
need static shapes for that, which ``Tensor(..., shape=...)`` / ``Image(shape=...)`` give).
The samples always pass the arguments by keyword; positionally they are taken in the order of
the contract (``dataset_dir, file_pattern, num_samples, keys_to_features, items_to_handlers,
num_epochs, shuffle``).

The reading is :mod:`mox_core.slim.parallel_reader`'s ``tf.data`` pipeline with the decoding in
it (see there for how its iterator is initialised: nothing to do in ``mox.run``); the graph is
built by the first ``get`` in a graph, so the object can be made outside ``input_fn`` and
several ``get`` calls in one graph return items of the same records.
"""

from __future__ import annotations

import posixpath
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from mox_core.datasets import fs
from mox_core.datasets.tfrecord import count_samples, match_files

__all__ = ["GenericTFRecordDataset", "get_tfrecord"]


def _positive_or_none(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"get_tfrecord: {name} must be a positive int or None, got {value!r}")
    return value


class GenericTFRecordDataset:
    """What :func:`get_tfrecord` returns: the files, their sample count and ``get``.

    Attributes: ``dataset_dir``, ``file_pattern``, ``files`` (the matched files, sorted),
    ``num_samples`` (= ``total_num_samples``), ``decoder`` (the
    :class:`~mox_core.slim.tfexample_decoder.TFExampleDecoder`), ``items`` (what ``get``
    answers).
    """

    def __init__(self, dataset_dir: str, file_pattern: str, num_samples: int | None,
                 decoder: Any, num_epochs: int | None, shuffle: bool, num_parallel: int,
                 shuffle_buffer_size: int, redirect_dir: str | None,
                 seed: int | None) -> None:
        if not isinstance(dataset_dir, str) or not dataset_dir:
            raise ValueError(f"get_tfrecord: dataset_dir must be a folder path or URL, got "
                             f"{dataset_dir!r}")
        if not isinstance(file_pattern, str) or not file_pattern:
            raise ValueError(f"get_tfrecord: file_pattern must name the TFRecord files, e.g. "
                             f"'*train*.tfrecord', got {file_pattern!r}")
        if not fs.isdir(dataset_dir):
            raise ValueError(f"get_tfrecord: dataset_dir {dataset_dir!r} does not exist or is "
                             f"not a folder")
        if num_samples is not None and (isinstance(num_samples, bool)
                                        or not isinstance(num_samples, int) or num_samples < 0):
            raise ValueError(f"get_tfrecord: num_samples must be an int >= 0 or None (count "
                             f"them), got {num_samples!r}")
        self.dataset_dir = dataset_dir
        self.file_pattern = file_pattern
        self.decoder = decoder
        self.num_epochs = _positive_or_none(num_epochs, "num_epochs")
        self.shuffle = bool(shuffle)
        self.num_parallel = _positive_or_none(num_parallel, "num_parallel") or 1
        if isinstance(shuffle_buffer_size, bool) or not isinstance(shuffle_buffer_size, int) or \
                shuffle_buffer_size < 0:
            raise ValueError(f"get_tfrecord: shuffle_buffer_size must be an int >= 0, got "
                             f"{shuffle_buffer_size!r}")
        self.shuffle_buffer_size = shuffle_buffer_size
        self.seed = seed
        from mox_core.errors import DataError

        try:
            self.files = match_files(dataset_dir, file_pattern)
        except DataError:
            raise  # names the shards and the folder already, worded for either API
        except ValueError as exc:
            raise ValueError(f"get_tfrecord: {exc}") from None
        self.num_samples = count_samples(self.files, dataset_dir, file_pattern, num_samples)
        if redirect_dir:
            prefix = dataset_dir.rstrip("/") + "/"
            self._read_files = [
                fs.join(redirect_dir, f[len(prefix):] if f.startswith(prefix) else
                        posixpath.basename(f)) for f in self.files]
        else:
            self._read_files = list(self.files)
        self._outputs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def total_num_samples(self) -> int:
        """``num_samples`` (the metadata classes' name for it)."""
        return self.num_samples

    @property
    def items(self) -> list[str]:
        """The item names ``get`` answers (the keys of ``items_to_handlers``)."""
        return self.decoder.list_items()

    def list_items(self) -> list[str]:
        """The item names ``get`` answers (TF-Slim's provider spelling)."""
        return self.items

    def get(self, items: str | Sequence[str]) -> Any:
        """Graph tensors of one example for ``items``, in that order (a single item name gives
        its tensor alone). Must run where a graph is built (an ``input_fn``, or inside
        ``with tf.Graph().as_default():``); after ``num_epochs`` the tensors raise
        ``OutOfRangeError``."""
        import tensorflow as tf

        from mox_core.slim import dataset_data_provider, parallel_reader
        from mox_core.slim.dataset import Dataset

        single = isinstance(items, str)
        wanted = [items] if single else list(items)
        unknown = [item for item in wanted if item not in self.items]
        if unknown:
            raise ValueError(f"get_tfrecord: unknown item(s) {', '.join(map(repr, unknown))}; "
                             f"items_to_handlers defines {', '.join(map(repr, self.items))}")
        if tf.executing_eagerly():
            raise RuntimeError("dataset.get() builds graph tensors: call it inside a tf.Graph "
                               "(an input_fn run by mox.run, or `with tf.Graph().as_default():` "
                               "around a tf.compat.v1.Session)")
        graph = tf.compat.v1.get_default_graph()
        if graph not in self._outputs:
            description = Dataset(self._read_files, None, self.decoder, self.num_samples, None)
            with tf.name_scope("mox_dataset"), tf.device("/cpu:0"):
                records = dataset_data_provider.decoded_records(
                    description, self.items, self.num_parallel, None, self.shuffle,
                    self.num_epochs, self.shuffle_buffer_size, self.seed,
                    files=self._read_files,
                ).prefetch(tf.data.AUTOTUNE)
                tensors = parallel_reader.iterate(records)
            self._outputs[graph] = dict(zip(self.items, tensors))
        outputs = self._outputs[graph]
        tensors = [outputs[item] for item in wanted]
        return tensors[0] if single else tensors

    def __repr__(self) -> str:
        return (f"GenericTFRecordDataset(dataset_dir={self.dataset_dir!r}, "
                f"file_pattern={self.file_pattern!r}, num_samples={self.num_samples}, "
                f"items={self.items})")


def get_tfrecord(dataset_dir: str, file_pattern: str, num_samples: int | None = None,
                 keys_to_features: Mapping[str, Any] | None = None,
                 items_to_handlers: Mapping[str, Any] | None = None,
                 num_epochs: int | None = None, shuffle: bool = True, num_parallel: int = 4,
                 shuffle_buffer_size: int = 1024, redirect_dir: str | None = None,
                 decoder: Any = None, seed: int | None = None) -> GenericTFRecordDataset:
    """Read the ``tf.train.Example`` records of ``dataset_dir/file_pattern``; ``.get([...])``.

    ``keys_to_features`` (feature name -> ``tf.io.FixedLenFeature`` / ``VarLenFeature`` ...)
    parses a record; ``items_to_handlers`` (item name -> ``slim.tfexample_decoder.Tensor``,
    ``Image``, ``ItemHandlerCallback`` ...) makes the items ``get`` returns. Instead of the two,
    a ready ``decoder`` (``TFExampleDecoder``) may be given.

    ``num_samples``: counted from the files when ``None`` (a quick scan of the record framing;
    slow on remote storage, so give it when known). ``num_epochs=None`` reads forever;
    ``shuffle`` reads the files in a new order each epoch, ``num_parallel`` at a time, through a
    ``shuffle_buffer_size`` buffer (otherwise in file order). ``redirect_dir``: files listed
    under ``dataset_dir`` are read from the same names under ``redirect_dir`` (a local copy).
    ``dataset_dir`` may be a local folder, a TensorFlow URL or a URL a ``mox.file`` plugin
    serves (``obs://``). Errors name what is wrong: a missing folder, no file matching the
    pattern (naming folder and pattern), a handler reading a feature that is not parsed.
    """
    from mox_core.slim.tfexample_decoder import DataDecoder, TFExampleDecoder

    if decoder is None:
        if keys_to_features is None or items_to_handlers is None:
            raise ValueError("get_tfrecord needs keys_to_features and items_to_handlers (or a "
                             "decoder) to know how to parse the records")
        decoder = TFExampleDecoder(keys_to_features, items_to_handlers)
    elif keys_to_features is not None or items_to_handlers is not None:
        raise ValueError("get_tfrecord: give either decoder or keys_to_features + "
                         "items_to_handlers, not both")
    elif not isinstance(decoder, DataDecoder):
        raise TypeError(f"get_tfrecord: decoder must be a slim.tfexample_decoder.TFExampleDecoder "
                        f"(or another DataDecoder), got {decoder!r}")
    return GenericTFRecordDataset(dataset_dir, file_pattern, num_samples, decoder, num_epochs,
                                  shuffle, num_parallel, shuffle_buffer_size, redirect_dir, seed)
