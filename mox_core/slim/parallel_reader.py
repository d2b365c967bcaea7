"""Reading records from many files at once, on ``tf.data`` (TF-Slim's ``parallel_reader``).

TF-Slim read with queue runners: a filename queue, ``num_readers`` readers, a
``RandomShuffleQueue``. Here the same stream is a ``tf.data`` pipeline -- the files (in a new
order each epoch when shuffling) repeated ``num_epochs`` times (``None``: forever), read
``num_readers`` at a time interleaved, through a shuffle buffer of ``capacity`` records; without
``shuffle``, file after file in the order given, each in its own order (TF-Slim's readers
interleaved them nondeterministically) -- and the graph tensors come from an iterator made by
:func:`iterate`:

* a one-shot iterator, which needs no initialisation: it works in a plain
  ``tf.compat.v1.Session``, in ``MonitoredSession`` and inside ``mox.run``'s ``input_fn``;
* when the pipeline captures a stateful resource (a ``tf.lookup`` table of a
  :class:`~mox_core.slim.tfexample_decoder.LookupTensor`), one-shot iterators are not allowed;
  then an initializable iterator is made and its initializer put in the ``TABLE_INITIALIZERS``
  collection, which ``tf.compat.v1.tables_initializer()`` runs and every ``MonitoredSession``
  (hence ``mox.run``) runs through its scaffold's local init op. In a plain session, run
  ``tf.compat.v1.tables_initializer()`` first (TF-Slim's scripts run it anyway).

After ``num_epochs`` the tensors raise ``OutOfRangeError``, which ends a ``mox.run`` normally.
Files may be local paths, TensorFlow URLs (``gs://``, ``file://``) or URLs of a scheme a plugin
registers with ``mox.file`` (``obs://``, ``s3://``), read through ``mox.file``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

from mox_core import errors
from mox_core.datasets import fs
from mox_core.datasets.tfrecord_checks import DamagedShardFinder
from mox_core.file import tfdata

tf1 = tf.compat.v1

__all__ = ["get_data_files", "iterate", "parallel_read", "read_records"]


def get_data_files(data_sources: str | Sequence[str]) -> list[str]:
    """Every file matching ``data_sources`` (a glob pattern or a list of them): each pattern's
    matches sorted, in the order of the patterns, each file once.

    ``ValueError`` naming the patterns when nothing matches."""
    patterns = [data_sources] if isinstance(data_sources, str) else list(data_sources or [])
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"data_sources must be a file pattern or a list of them, got "
                         f"{data_sources!r}")
    files: list[str] = []
    for pattern in patterns:
        files += [f for f in fs.glob(pattern) if not fs.isdir(f)]
    files = list(dict.fromkeys(files))
    if not files:
        raise ValueError(f"no data file matches {', '.join(map(repr, patterns))}")
    return files


def _reader_fn(reader_class: Any, reader_kwargs: dict, remote: bool) -> Callable[[Any], Any]:
    """``filename tensor -> tf.data.Dataset of records`` for a TF 1 reader class."""
    kwargs = dict(reader_kwargs)
    kwargs.pop("name", None)
    if reader_class in (None, tf1.TFRecordReader, tf.data.TFRecordDataset) and \
            not tf1.executing_eagerly_outside_functions():
        options = kwargs.pop("options", None)
        compression = kwargs.pop("compression_type", None)
        if options is not None:
            compression = tf1.io.TFRecordOptions.get_compression_type_string(options)
        if kwargs:
            raise ValueError(f"reader_kwargs {sorted(kwargs)} are not options of TFRecordReader")
        if compression and remote:
            raise ValueError("compressed TFRecord files cannot be read through mox.file; copy "
                             "them to a local folder first")
        if compression:
            return lambda name: tf.data.TFRecordDataset(name, compression_type=compression)
        return lambda name: tfdata.tfrecord_records(name, remote)
    if reader_class is tf1.WholeFileReader:
        return lambda name: tf.data.Dataset.from_tensors(tfdata.read_file(name))
    if remote:
        raise ValueError(f"{getattr(reader_class, '__name__', reader_class)} cannot read files "
                         f"through mox.file; use TFRecordReader or WholeFileReader, or copy the "
                         f"files to a local folder")
    if reader_class is tf1.TextLineReader:
        skip = kwargs.pop("skip_header_lines", None) or 0
        return lambda name: tf.data.TextLineDataset(name).skip(skip)
    if reader_class is tf1.FixedLengthRecordReader:
        if "record_bytes" not in kwargs:
            raise ValueError("FixedLengthRecordReader needs reader_kwargs={'record_bytes': n}")
        kwargs.pop("hop_bytes", None)
        kwargs.pop("encoding", None)
        return lambda name: tf.data.FixedLengthRecordDataset(name, **kwargs)
    is_tf1_reader = isinstance(reader_class, type) and issubclass(reader_class, tf1.ReaderBase)
    if callable(reader_class) and not is_tf1_reader:
        return lambda name: reader_class(name, **kwargs)
    raise TypeError(
        f"reader {reader_class!r} is not supported: use tf.compat.v1.TFRecordReader, "
        f"TextLineReader, WholeFileReader, FixedLengthRecordReader, or a function of a file "
        f"name returning a tf.data.Dataset of records"
    )


def read_records(files: Sequence[str], reader_class: Any = None,
                 reader_kwargs: dict | None = None, num_readers: int = 4, shuffle: bool = True,
                 num_epochs: int | None = None, capacity: int = 256,
                 seed: int | None = None) -> Any:
    """A ``tf.data.Dataset`` of ``(key, record)`` pairs read from ``files``.

    ``key`` is ``b'<file>:<index in file>'`` (TF-Slim's reader keys). See the module docstring
    for the order and the arguments.
    """
    files = list(files)
    if not files:
        raise ValueError("read_records: no file to read")
    if isinstance(num_readers, bool) or not isinstance(num_readers, int) or num_readers < 1:
        raise ValueError(f"num_readers must be a positive int, got {num_readers!r}")
    if num_epochs is not None and (isinstance(num_epochs, bool) or not isinstance(num_epochs, int)
                                   or num_epochs < 1):
        raise ValueError(f"num_epochs must be a positive int or None (forever), got "
                         f"{num_epochs!r}")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise ValueError(f"capacity (the shuffle buffer, in records) must be an int >= 0, got "
                         f"{capacity!r}")
    remote = fs.served_by_mox_file(files[0])
    if any(fs.served_by_mox_file(f) != remote for f in files):
        raise ValueError("files must all be read the same way: all through mox.file URLs, or "
                         "none")
    records_of = _reader_fn(reader_class, reader_kwargs or {}, remote)
    if reader_class in (None, tf1.TFRecordReader, tf.data.TFRecordDataset) and \
            not tf1.executing_eagerly_outside_functions():
        # TensorFlow's error for a damaged record names no file: name it (mox_core.errors)
        errors.add_explainer(tf1.get_default_graph(), DamagedShardFinder(files))

    def keyed(name):
        records = records_of(name)
        return records.enumerate().map(
            lambda index, record: (tf.strings.join([name, tf.strings.as_string(index)], ":"),
                                   record))

    names = tf.data.Dataset.from_tensor_slices(tf.constant(files))
    if shuffle:
        names = names.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    names = names.repeat(num_epochs)
    if shuffle:
        cycle = min(num_readers, len(files))
        records = names.interleave(keyed, cycle_length=cycle, block_length=1,
                                   num_parallel_calls=cycle, deterministic=False)
    else:  # file after file: a fixed, predictable order (evaluation, prediction)
        records = names.interleave(keyed, cycle_length=1, block_length=1)
    if shuffle and capacity > 1:
        records = records.shuffle(capacity, seed=seed, reshuffle_each_iteration=True)
    return records


def iterate(dataset: Any) -> Any:
    """``get_next()`` of an iterator over ``dataset`` in the default graph (see the module
    docstring for how it is initialised)."""
    if tf.executing_eagerly():
        raise RuntimeError("slim readers build graph tensors: call them inside a tf.Graph (an "
                           "input_fn run by mox.run, or `with tf.Graph().as_default():` around "
                           "a tf.compat.v1.Session)")
    from mox_core.datasets.pipeline import next_element

    return next_element(dataset)


def parallel_read(data_sources: str | Sequence[str], reader_class: Any = None,
                  num_epochs: int | None = None, num_readers: int = 4,
                  reader_kwargs: dict | None = None, shuffle: bool = True, dtypes: Any = None,
                  capacity: int = 256, min_after_dequeue: int = 128, seed: int | None = None,
                  scope: str | None = None) -> tuple[Any, Any]:
    """TF-Slim's ``parallel_read``: ``(key, value)`` tensors of one record from
    ``data_sources``, read ``num_readers`` files at a time.

    ``dtypes`` and ``min_after_dequeue`` belonged to TF-Slim's queues and are accepted and
    ignored; ``capacity`` is the shuffle buffer.
    """
    del dtypes, min_after_dequeue  # queue settings without a tf.data counterpart
    files = get_data_files(data_sources)
    with tf1.name_scope(scope, "parallel_read"), tf.device("/cpu:0"):
        dataset = read_records(files, reader_class, reader_kwargs, num_readers, shuffle,
                               num_epochs, capacity, seed).prefetch(1)
        return iterate(dataset)
