"""Image classification from TFRecord files in TF-Slim's layout.

Each record is a ``tf.train.Example`` with TF-Slim's image keys (``dataset_utils.image_to_tfexample``):
``image/encoded`` (the encoded file), ``image/format``, ``image/class/label`` (int64),
``image/height``, ``image/width``; ``image/filename`` and ``image/class/text``, written by
``build_imagenet_data.py`` and by mox's converter, are used when present (``image_name``,
``label_desc``). Other features are read with ``custom_feature_keys`` / ``custom_feature_values``.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mox_core.aliases import aliased
from mox_core.datasets import fs, logs
from mox_core.datasets.cache import cache_files, resolve_cache_dir
from mox_core.datasets.labels import parse_labels
from mox_core.datasets.pipeline import BASE_KEYS, ImageDatasetBase
from mox_core.datasets.raw import check_base_dir, labels_file_path
from mox_core.datasets.tfrecord_checks import RecordChecks

COUNTING_MESSAGE = (
    "Automatically extracting num_samples from tfrecord. If the dataset is large, it may take "
    "some time..."
)


def count_records(path: str, checked_when_read: bool = False) -> int:
    """Records in one TFRecord file, read from the record framing alone (no parsing, no CRC).

    A record is ``uint64 length, uint32 crc, data, uint32 crc``; seeking over the data makes
    counting a 100 MB shard a matter of milliseconds. A file that ends inside a record is an
    error naming it, unless the dataset reading it checks its records (``checked_when_read``:
    it then stops there with such an error, or skips the rest of the file when it skips corrupt
    data): its complete records are counted, with a warning.
    """
    size = fs.size(path)
    handle = fs.open_binary(path)
    count, position, start = 0, 0, 0
    try:
        while position < size:
            header = handle.read(12)
            if len(header) < 12:
                break
            (length,) = struct.unpack("<Q", header[:8])
            start, position = position, position + 12 + length + 4
            if position > size:
                break
            handle.seek(position)
            count += 1
    finally:
        handle.close()
    if position != size:
        if count and checked_when_read:
            logs.warning("TFRecord file %s is truncated: it ends inside record %d (at byte %d); "
                         "counting its %d complete records", path, count + 1, start, count)
            return count
        from mox_core.errors import DataError

        raise DataError(path, f"it ends inside record {count + 1} (at byte {start}), so it is "
                        f"truncated or not a TFRecord file", subject="corrupt TFRecord file",
                        action="Restore the file or convert the dataset again")
    return count


#: a shard's name as TF-Slim's converters and ``mox convert`` write it: ``<name>-00002-of-00004``
_SHARD = re.compile(r"^(?P<stem>.*?)(?P<index>\d+)-of-(?P<total>\d+)(?P<suffix>[^/]*)$")


def match_files(base_dir: str, file_pattern: str) -> list[str]:
    """The files matching ``file_pattern`` in ``base_dir``, sorted; an error naming both when
    there is none, and a :class:`~mox_core.errors.DataError` naming the missing shards when a
    numbered shard set (``flowers_train_00001-of-00004.tfrecord``) is incomplete: a shard lost
    to a failed copy or conversion would otherwise train on part of the data without a word.
    """
    files = [f for f in fs.glob(fs.join(base_dir, file_pattern)) if not fs.isdir(f)]
    if not files:
        raise ValueError(f"no file in {base_dir!r} matches the pattern {file_pattern!r}")
    check_shard_sets(base_dir, files)
    return files


def check_shard_sets(base_dir: str, files: list[str]) -> None:
    """A ``DataError`` naming ``base_dir`` and each missing shard of the numbered shard sets
    among ``files`` (grouped by name and total)."""
    sets: dict[tuple[str, str, str], set[int]] = {}
    widths: dict[tuple[str, str, str], int] = {}
    for path in files:
        match = _SHARD.match(path.rsplit("/", 1)[-1])
        if match:
            key = (match["stem"], match["total"], match["suffix"])
            sets.setdefault(key, set()).add(int(match["index"]))
            widths[key] = len(match["index"])
    missing = [f"{stem}{index:0{widths[key]}d}-of-{total}{suffix}"
               for key, found in sorted(sets.items())
               for stem, total, suffix in [key]
               for index in range(int(total)) if index not in found]
    if missing:
        from mox_core.errors import DataError

        raise DataError(
            base_dir, f"{len(missing)} shard(s) of the set are missing: {logs.first_few(missing)}",
            subject="incomplete TFRecord shard set in",
            action="Restore the missing shards or convert the dataset again")


def count_samples(files: list[str], base_dir: str, file_pattern: str,
                  num_samples: int | None, checked_when_read: bool = False) -> int:
    """``num_samples``, or the records of ``files`` counted (MoXing's log lines either way);
    ``checked_when_read`` as for :func:`count_records`."""
    if num_samples is None:
        logs.info(COUNTING_MESSAGE)
        with ThreadPoolExecutor(max_workers=8) as pool:
            num_samples = sum(pool.map(
                lambda path: count_records(path, checked_when_read), files))
    logs.info("Total %d files found in %s matching %s ; Total number of samples is %d",
              len(files), base_dir, file_pattern, int(num_samples))
    return int(num_samples)


class ImageClassificationTFRecordMetadata:
    """The TFRecord files of one split, their sample count and the class names.

    ``file_pattern`` (e.g. ``'flowers_train_*.tfrecord'``) is matched inside ``base_dir``;
    ``num_samples`` is counted from the files when not given (a quick scan of the record
    framing); ``labels_to_names`` comes from ``label_map_file`` in ``base_dir`` (``0:daisy``
    lines as TF-Slim writes them, or one name per line); ``num_classes`` defaults to the number
    of names there. ``redirect_dir``: files matched under ``base_dir`` are read from the same
    relative paths under ``redirect_dir``. ``file_patterns`` is an alias of ``file_pattern``
    (MoXing's examples spell it so).

    ``channels`` (3) and ``image_shape`` (``None``: any) describe the decoded images; the named
    datasets set them (MNIST: 1 channel, ``[28, 28, 1]``).
    """

    def __init__(self, base_dir: str, file_pattern: str | None = None,
                 num_samples: int | None = None, redirect_dir: str | None = None,
                 num_classes: int = 0, label_map_file: str = "labels.txt", *,
                 file_patterns: str | None = None) -> None:
        file_pattern = aliased("ImageClassificationTFRecordMetadata", "file_pattern",
                               file_pattern, "file_patterns", file_patterns)
        check_base_dir(base_dir)
        if not file_pattern:
            raise ValueError("file_pattern must name the TFRecord files, e.g. '*train*.tfrecord'")
        self.base_dir = base_dir
        self.file_pattern = file_pattern
        self.redirect_dir = redirect_dir or None
        self.files = match_files(base_dir, file_pattern)
        self.channels = 3
        self.image_shape: tuple[int, int, int] | None = None
        labels_path = labels_file_path(base_dir, label_map_file)
        names = (parse_labels(fs.read_text(labels_path, "label map file"), labels_path)
                 if labels_path else [])
        self.labels_to_names: dict[int, str] = dict(enumerate(names))
        self.num_classes = int(num_classes) if num_classes else len(names)
        # the image datasets check every record as they read it (RecordChecks)
        self.num_samples = count_samples(self.files, base_dir, file_pattern, num_samples,
                                         checked_when_read=True)
        #: whether ``num_samples`` was counted from the files (not given, maybe wrong)
        self.num_samples_counted = num_samples is None

    @property
    def total_num_samples(self) -> int:
        return self.num_samples

    @property
    def relative_files(self) -> list[str]:
        prefix = self.base_dir.rstrip("/") + "/"
        return [f[len(prefix):] if f.startswith(prefix) else os.path.basename(f)
                for f in self.files]

    def __repr__(self) -> str:
        return (f"ImageClassificationTFRecordMetadata(base_dir={self.base_dir!r}, "
                f"file_pattern={self.file_pattern!r}, num_samples={self.num_samples}, "
                f"num_classes={self.num_classes})")


_FEATURE_TYPES = ("FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature",
                  "RaggedFeature")


class ImageClassificationTFRecordDataset(ImageDatasetBase):
    """Images and labels of TF-Slim-style TFRecords as graph tensors.

    Keys of ``get``: ``image`` (decoded to ``[h, w, 3]`` uint8, resized to ``image_size`` with
    nearest neighbour when given, then ``augmentation_fn``), ``label`` (int64; float32 one-hot
    with ``label_one_hot``), ``label_desc`` (from the label map, else ``image/class/text``),
    ``image_name`` (``image/filename``, often empty), ``image_buf``, and every key of
    ``custom_feature_keys``, parsed with the matching ``custom_feature_values``
    (``tf.io.FixedLenFeature`` and friends).

    Files are read ``num_parallel`` at a time (interleaved; in a new order each epoch when
    ``shuffle``), records pass a ``shuffle_buffer_size`` shuffle buffer, and ``num_parallel``
    records are parsed and decoded in parallel. The other arguments are those of
    :class:`~mox_core.datasets.raw.ImageClassificationRawDataset`: ``preprocess_fn`` gets
    ``(image_name, image_buf, label, label_desc)``, batched; ``cache_dir`` copies the TFRecord
    files to a local folder first; ``skip_corrupt`` skips records whose image does not decode.
    ``meta`` is an alias of ``metadata`` (MoXing's example spells it so).
    """

    def __init__(
        self,
        metadata: ImageClassificationTFRecordMetadata | None = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        shuffle_buffer_size: int = 6400,
        num_parallel: int = 8,
        num_epochs: int | None = None,
        cache_dir: str | None = None,
        preprocess_fn: Callable | None = None,
        image_size: Any = None,
        remove_cache_on_finish: bool = True,
        private_num_threads: int = 0,
        custom_feature_keys: Sequence[str] | None = None,
        custom_feature_values: Sequence[Any] | None = None,
        drop_remainder: bool = False,
        augmentation_fn: Callable | None = None,
        label_one_hot: bool = False,
        skip_corrupt: bool = False,
        *,
        meta: ImageClassificationTFRecordMetadata | None = None,
    ) -> None:
        metadata = aliased("ImageClassificationTFRecordDataset", "metadata", metadata, "meta",
                           meta, required=True)
        if not isinstance(metadata, ImageClassificationTFRecordMetadata):
            raise TypeError(
                "metadata must be an ImageClassificationTFRecordMetadata, got "
                f"{type(metadata).__name__}"
            )
        if num_parallel < 1:
            raise ValueError(f"num_parallel must be at least 1, got {num_parallel}")
        self.channels = metadata.channels
        fixed_shape = metadata.image_shape is not None
        super().__init__(
            batch_size=batch_size, num_epochs=num_epochs, shuffle=shuffle,
            shuffle_buffer_size=shuffle_buffer_size, preprocess_fn=preprocess_fn,
            preprocess_threads=num_parallel,
            image_size=image_size if image_size is not None or not fixed_shape else None,
            private_num_threads=private_num_threads, drop_remainder=drop_remainder,
            augmentation_fn=augmentation_fn, label_one_hot=label_one_hot,
            num_classes=metadata.num_classes, skip_corrupt=skip_corrupt,
            fixed_image_shape=metadata.image_shape,
        )
        self.metadata = metadata
        self.num_parallel = num_parallel
        self._custom = self._custom_features(custom_feature_keys, custom_feature_values)
        root = metadata.redirect_dir or metadata.base_dir
        relative = metadata.relative_files
        #: the shards named in messages (not their cached copies)
        self._shard_names = [fs.join(root, rel) for rel in relative]
        cache_root = resolve_cache_dir(cache_dir)
        if cache_root is not None:
            self._cache = cache_files(root, relative, cache_root, remove_cache_on_finish)
            root = self._cache.root
        self._read_files = [fs.join(root, rel) for rel in relative]
        self._checks = RecordChecks(self.skip_corrupt, self._shard_names, self._features,
                                    metadata.num_classes)
        if metadata.num_samples_counted:
            self._policy.expect(metadata.base_dir, metadata.num_samples)

    @staticmethod
    def _custom_features(keys: Sequence[str] | None, values: Sequence[Any] | None) -> dict:
        keys, values = list(keys or []), list(values or [])
        if len(keys) != len(values):
            raise ValueError(
                f"custom_feature_keys ({len(keys)}) and custom_feature_values ({len(values)}) "
                f"must pair up, one feature description per key"
            )
        for key, value in zip(keys, values):
            if key in BASE_KEYS:
                raise ValueError(f"custom feature key {key!r} clashes with the dataset's own key")
            if type(value).__name__ not in _FEATURE_TYPES:
                raise TypeError(
                    f"custom feature {key!r} must be described by tf.io.FixedLenFeature, "
                    f"VarLenFeature, FixedLenSequenceFeature, SparseFeature or RaggedFeature; "
                    f"got {value!r}"
                )
        return dict(zip(keys, values))

    def _extra_keys(self) -> tuple[str, ...]:
        return tuple(self._custom)

    def _features(self) -> dict:
        import tensorflow as tf

        features = {
            "image/encoded": tf.io.FixedLenFeature((), tf.string, default_value=""),
            "image/class/label": tf.io.FixedLenFeature((), tf.int64),
            "image/filename": tf.io.FixedLenFeature((), tf.string, default_value=""),
            "image/class/text": tf.io.FixedLenFeature((), tf.string, default_value=""),
        }
        features.update(self._custom)
        return features

    def _parse(self, element: dict) -> dict:
        import tensorflow as tf

        parsed = tf.io.parse_single_example(element["record"], self._features())
        label = parsed["image/class/label"]
        names = self.metadata.labels_to_names
        if names:
            last = max(names)
            table = tf.constant([names.get(i, "") for i in range(last + 1)])
            inside = tf.logical_and(label >= 0, label <= last)
            desc = tf.where(inside, tf.gather(table, tf.clip_by_value(label, 0, last)),
                            parsed["image/class/text"])
        else:
            desc = parsed["image/class/text"]
        name = parsed["image/filename"]
        source = tf.where(tf.strings.length(name) > 0, name, tf.strings.join(
            ["the record at byte ", tf.strings.as_string(element["offset"]), " of ",
             element["file"]]))
        label_ok = self._checks.label_ok(label, element)
        if not self.skip_corrupt:  # a label out of range has stopped the pipeline
            with tf.control_dependencies([label_ok]):
                label = tf.identity(label)
        out = {"image_buf": parsed["image/encoded"], "label": label, "label_desc": desc,
               "image_name": name, "source": source, "label_ok": label_ok}
        out.update({key: parsed[key] for key in self._custom})
        return out

    def _watch(self, graph: Any, scope: str) -> None:
        self._checks.watch(graph, scope)

    def _elements(self, shuffle: bool) -> Any:
        import tensorflow as tf

        files = tf.data.Dataset.from_tensor_slices(
            (self._read_files, self._shard_names, tf.constant(self._checks.sizes, tf.int64)))
        if shuffle:
            files = files.shuffle(len(self._read_files), reshuffle_each_iteration=True)
        cycle = min(self.num_parallel, len(self._read_files))
        remote = fs.served_by_mox_file(self._read_files[0])  # one folder: one scheme
        records = files.interleave(
            lambda path, name, size: self._checks.records(path, name, size, remote),
            cycle_length=cycle, block_length=1, num_parallel_calls=cycle,
            deterministic=not shuffle,
        )
        records = self._shuffle_buffer(records, shuffle)
        if self.skip_corrupt:  # a record that does not parse is named and left out
            records = records.filter(self._checks.parses)
        parsed = records.map(self._parse, num_parallel_calls=self.num_parallel,
                             deterministic=not shuffle)
        return parsed.filter(lambda element: element["label_ok"]) if self.skip_corrupt \
            else parsed
