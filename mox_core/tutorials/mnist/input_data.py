"""TensorFlow 1.x's ``tensorflow.examples.tutorials.mnist.input_data``, reading local copies.

MoXing's MNIST scripts start with ``input_data.read_data_sets(FLAGS.data_url, one_hot=True)``
and then call ``mnist.train.next_batch(50)``; TensorFlow 2 no longer ships that module. This one
reads the same four gzipped idx files with numpy, through ``mox_core.file`` so that a registered
URL (``obs://...``) works like a local folder, and returns the same ``DataSets`` with the same
``next_batch`` semantics (shuffle on the first call and at every epoch end, a batch that spans
two epochs takes the rest of the old one and the start of the new one).

It never downloads: ModelArts jobs get their data through ``data_url`` and the machines here
have no internet. A missing file is an error naming it and the four names expected. Shuffling
uses a generator of its own seeded with ``seed`` (TensorFlow's reseeded numpy's global one), so
the order differs from TensorFlow's for the same seed, and a script's own ``np.random`` calls
are left alone.
"""

from __future__ import annotations

import collections
import gzip
import os
import posixpath
import zlib
from typing import Any

import numpy as np

import mox_core.file

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
DEFAULT_SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


def _join(folder: str, name: str) -> str:
    if "://" in folder:
        return posixpath.join(folder, name)
    return os.path.join(folder, name)


def _read_idx(path: str, magic: int, what: str) -> np.ndarray:
    """The uint8 array of one gzipped idx file, its shape from the header: ``[n, rows, cols]``
    for images (magic 2051), ``[n]`` for labels (magic 2049)."""
    try:
        with mox_core.file.File(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
            data = stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable gzip file of MNIST {what} ({exc})") from None
    rank = 3 if magic == IMAGES_MAGIC else 1
    header = 4 * (1 + rank)
    if len(data) < header:
        raise ValueError(f"{path}: only {len(data)} bytes, too short for an idx header")
    found, *shape = np.frombuffer(data[:header], dtype=">u4").tolist()
    if found != magic:
        raise ValueError(f"{path}: invalid magic number {found} in MNIST {what} file "
                         f"(expected {magic}); is it one of the four MNIST files?")
    size = int(np.prod(shape))
    if len(data) - header < size:
        raise ValueError(f"{path}: truncated, the header announces {shape[0]} {what} "
                         f"({size} bytes) but only {len(data) - header} bytes follow")
    return np.frombuffer(data, dtype=np.uint8, count=size, offset=header).reshape(shape)


def dense_to_one_hot(labels_dense: np.ndarray, num_classes: int) -> np.ndarray:
    """Class indices ``[n]`` to one-hot float64 rows ``[n, num_classes]`` (as TensorFlow's)."""
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense.ravel()] = 1
    return one_hot


def extract_images(path: str) -> np.ndarray:
    """uint8 images ``[n, rows, cols, 1]`` of an idx3 file."""
    return _read_idx(path, IMAGES_MAGIC, "images")[..., np.newaxis]


def extract_labels(path: str, one_hot: bool = False, num_classes: int = 10) -> np.ndarray:
    """uint8 labels ``[n]`` of an idx1 file, or one-hot ``[n, num_classes]``."""
    labels = _read_idx(path, LABELS_MAGIC, "labels")
    return dense_to_one_hot(labels, num_classes) if one_hot else labels


def _numpy_dtype(dtype: Any) -> np.dtype:
    """``tf.float32``, ``np.float32`` or ``'float32'`` alike, as a numpy dtype."""
    dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
    if dtype not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise TypeError(f"Invalid image dtype {dtype}, expected uint8 or float32")
    return dtype


class DataSet:
    """Images and labels with ``next_batch``: float32 images are scaled to [0, 1], ``reshape``
    flattens ``[n, 28, 28, 1]`` to ``[n, 784]``."""

    def __init__(self, images: Any, labels: Any, fake_data: bool = False, one_hot: bool = False,
                 dtype: Any = np.float32, reshape: bool = True, seed: int | None = None) -> None:
        dtype = _numpy_dtype(dtype)
        self._rng = np.random.RandomState(seed)
        self.one_hot = one_hot
        if fake_data:
            self._num_examples = 10000
        else:
            images, labels = np.asarray(images), np.asarray(labels)
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"images.shape: {images.shape} labels.shape: {labels.shape}")
            self._num_examples = images.shape[0]
            if reshape:
                if images.ndim != 4 or images.shape[3] != 1:
                    raise ValueError(f"reshape=True needs images [n, rows, cols, 1], got "
                                     f"{images.shape}")
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == np.float32:
                images = images.astype(np.float32) * np.float32(1.0 / 255.0)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self) -> np.ndarray:
        return self._images

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    def _shuffle(self) -> None:
        order = self._rng.permutation(self._num_examples)
        self._images = self._images[order]
        self._labels = self._labels[order]

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True):
        """The next ``batch_size`` examples as ``(images, labels)``; at the end of an epoch the
        batch is completed from the start of the next (reshuffled) epoch."""
        if fake_data:
            fake_image = [1] * 784
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return [fake_image] * batch_size, [fake_label] * batch_size
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch += batch_size
            return (self._images[start:self._index_in_epoch],
                    self._labels[start:self._index_in_epoch])
        self._epochs_completed += 1
        images_rest = self._images[start:self._num_examples]
        labels_rest = self._labels[start:self._num_examples]
        if shuffle:
            self._shuffle()
        self._index_in_epoch = batch_size - (self._num_examples - start)
        end = self._index_in_epoch
        return (np.concatenate((images_rest, self._images[:end]), axis=0),
                np.concatenate((labels_rest, self._labels[:end]), axis=0))


def read_data_sets(train_dir: str, fake_data: bool = False, one_hot: bool = False,
                   dtype: Any = np.float32, reshape: bool = True, validation_size: int = 5000,
                   seed: int | None = None, source_url: str = DEFAULT_SOURCE_URL) -> Datasets:
    """``Datasets(train, validation, test)`` from the four MNIST files in ``train_dir`` (a
    local folder or a registered URL); the first ``validation_size`` training examples are the
    validation set. ``source_url`` is accepted for TensorFlow's signature and never used."""
    del source_url  # nothing is downloaded: the files must be in train_dir
    _numpy_dtype(dtype)  # a bad dtype fails before the files are read
    if fake_data:
        def fake() -> DataSet:
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)

        return Datasets(train=fake(), validation=fake(), test=fake())
    paths = {name: _join(train_dir, name) for name in FILE_NAMES}
    missing = [path for path in paths.values() if not mox_core.file.exists(path)]
    if missing:
        raise FileNotFoundError(
            f"MNIST file {missing[0]} not found ({len(missing)} of 4 missing); {train_dir!r} "
            f"must hold {', '.join(FILE_NAMES)}. mox never downloads them: copy them there "
            f"(on ModelArts, pass their OBS folder as --data_url)")
    train_images = extract_images(paths[TRAIN_IMAGES])
    train_labels = extract_labels(paths[TRAIN_LABELS], one_hot=one_hot)
    test_images = extract_images(paths[TEST_IMAGES])
    test_labels = extract_labels(paths[TEST_LABELS], one_hot=one_hot)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. "
                         f"Received: {validation_size}.")
    options = {"dtype": dtype, "reshape": reshape, "seed": seed}
    return Datasets(
        train=DataSet(train_images[validation_size:], train_labels[validation_size:], **options),
        validation=DataSet(train_images[:validation_size], train_labels[:validation_size],
                           **options),
        test=DataSet(test_images, test_labels, **options),
    )


def load_mnist(train_dir: str = "MNIST-data") -> Datasets:
    """TensorFlow's shortcut: ``read_data_sets(train_dir)``."""
    return read_data_sets(train_dir)
