"""``moxing.tensorflow.datasets.tfrecord_common``: TFRecords of any schema.

Published ModelArts samples (the iceberg v2 script) subclass ``BaseTFRecordDataset`` to read
records that are not images::

    class IcebergDataset(BaseTFRecordDataset):
        def _build_features(self, band_1, band_2, angle, label):
            self._add_feature('image', tf.stack([tf.reshape(band_1, [75, 75]),
                                                 tf.reshape(band_2, [75, 75])], axis=2))
            self._add_feature('angle', angle)
            self._add_feature('label', label)

    dataset = IcebergDataset(ImageClassificationTFRecordMetadata(data_url, 'train-*.tfrecord'),
                             feature_keys=['band_1', 'band_2', 'angle', 'label'],
                             feature_values=[tf.FixedLenFeature((5625,), tf.float32), ...])
    image, label = dataset.get(['image', 'label'])

Each record is parsed with ``feature_keys`` / ``feature_values``; ``_build_features`` receives
the parsed values in ``feature_keys`` order and names what ``get`` answers with
``_add_feature`` (the default adds each parsed feature under its own key). ``get`` returns one
example's tensors (``mox.run`` batches them with ``batch_size``, so give them static shapes).
The image datasets of this path are re-exported here, where MoXing keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mox_core.datasets.tfrecord import (
    ImageClassificationTFRecordDataset,
    ImageClassificationTFRecordMetadata,
)

__all__ = ["BaseTFRecordDataset", "ImageClassificationTFRecordDataset",
           "ImageClassificationTFRecordMetadata"]


class BaseTFRecordDataset:
    """Records of ``metadata.files`` parsed by ``feature_keys`` / ``feature_values``.

    ``shuffle`` reads the files in a new order each epoch, ``num_parallel`` at a time, through a
    ``shuffle_buffer_size`` buffer (otherwise file after file, in order); ``num_epochs=None``
    reads forever. ``metadata`` is an :class:`ImageClassificationTFRecordMetadata` (its files,
    ``redirect_dir`` and ``num_samples``).
    """

    def __init__(self, metadata: ImageClassificationTFRecordMetadata,
                 feature_keys: Sequence[str], feature_values: Sequence[Any],
                 shuffle: bool = True, num_parallel: int = 8, num_epochs: int | None = None,
                 shuffle_buffer_size: int = 1024, seed: int | None = None) -> None:
        if not isinstance(metadata, ImageClassificationTFRecordMetadata):
            raise TypeError(f"metadata must be an ImageClassificationTFRecordMetadata, got "
                            f"{type(metadata).__name__}")
        keys, values = list(feature_keys or []), list(feature_values or [])
        if not keys or len(keys) != len(values):
            raise ValueError(f"feature_keys ({len(keys)}) and feature_values ({len(values)}) must "
                             f"pair up, one tf.io feature description per key, at least one")
        if len(set(keys)) != len(keys):
            raise ValueError(f"feature_keys names a feature twice: {keys}")
        self.metadata = metadata
        self.feature_keys = keys
        self.feature_values = values
        self.shuffle = bool(shuffle)
        self.num_parallel = num_parallel
        self.num_epochs = num_epochs
        self.shuffle_buffer_size = shuffle_buffer_size
        self.seed = seed
        root = metadata.redirect_dir or metadata.base_dir
        from mox_core.datasets import fs

        self._read_files = [fs.join(root, rel) for rel in metadata.relative_files]
        self._features: dict[str, Any] | None = None
        self._outputs: dict[Any, dict[str, Any]] = {}

    @property
    def total_num_samples(self) -> int:
        return self.metadata.num_samples

    def _build_features(self, *values: Any) -> None:
        """Override to make the tensors ``get`` answers from the parsed ``values`` (in
        ``feature_keys`` order), naming each with ``_add_feature``. By default every parsed
        feature is answered under its own key."""
        for key, value in zip(self.feature_keys, values):
            self._add_feature(key, value)

    def _add_feature(self, key: str, tensor: Any) -> None:
        """Name ``tensor`` ``key`` for ``get``; only inside ``_build_features``."""
        if self._features is None:
            raise RuntimeError("_add_feature is called from _build_features, while a record "
                               "is parsed")
        if key in self._features:
            raise ValueError(f"feature {key!r} is added twice in _build_features")
        self._features[key] = tensor

    def _parse(self, key: Any, record: Any) -> dict[str, Any]:
        import tensorflow as tf

        del key
        parsed = tf.io.parse_single_example(record, dict(zip(self.feature_keys,
                                                             self.feature_values)))
        self._features = {}
        try:
            self._build_features(*[parsed[k] for k in self.feature_keys])
            built = self._features
        finally:
            self._features = None
        if not built:
            raise ValueError(f"{type(self).__name__}._build_features added no feature: call "
                             f"self._add_feature(name, tensor) for what get() should answer")
        return built

    def _tensors(self) -> dict[str, Any]:
        import tensorflow as tf

        from mox_core.slim import parallel_reader

        graph = tf.compat.v1.get_default_graph()
        if graph not in self._outputs:
            with tf.name_scope("mox_dataset"), tf.device("/cpu:0"):
                records = parallel_reader.read_records(
                    self._read_files, None, None, self.num_parallel, self.shuffle,
                    self.num_epochs, self.shuffle_buffer_size, self.seed)
                parsed = records.map(self._parse, num_parallel_calls=self.num_parallel,
                                     deterministic=not self.shuffle)
                self._outputs = {graph: parallel_reader.iterate(
                    parsed.prefetch(tf.data.AUTOTUNE))}
        return self._outputs[graph]

    @property
    def keys(self) -> list[str]:
        """What ``get`` answers: the names ``_build_features`` adds (parses one record's graph)."""
        return list(self._tensors())

    def get(self, keys: str | Sequence[str]) -> Any:
        """One example's tensors for ``keys``, in that order (one name: its tensor alone)."""
        single = isinstance(keys, str)
        wanted = [keys] if single else list(keys)
        tensors = self._tensors()
        unknown = [k for k in wanted if k not in tensors]
        if unknown:
            raise ValueError(f"{type(self).__name__} has no feature "
                             f"{', '.join(map(repr, unknown))}; _build_features adds "
                             f"{', '.join(map(repr, tensors))}")
        values = [tensors[k] for k in wanted]
        return values[0] if single else values
