"""``mox_core.tutorials.mnist.input_data``: TensorFlow 1.x's MNIST tutorial reader, on real idx
files written here (a few images, not the real MNIST), never downloading anything."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from mox_core.tutorials.mnist import input_data


def write_idx(path, magic, array):
    """A gzipped idx file: big-endian magic, one big-endian size per dimension, uint8 data."""
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(">I", magic))
        handle.write(b"".join(struct.pack(">I", size) for size in array.shape))
        handle.write(array.astype(np.uint8).tobytes())


def write_mnist(folder, train=60, test=20, seed=0):
    """The four MNIST files with ``train`` / ``test`` images whose pixel [0, 0] is the label."""
    rng = np.random.default_rng(seed)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 256, (count, 28, 28))
        images[:, 0, 0] = labels
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051, images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, labels)


def test_read_data_sets_splits_validation_off_the_training_images(tmp_path):
    write_mnist(tmp_path)
    mnist = input_data.read_data_sets(str(tmp_path), one_hot=True, validation_size=10)
    assert (mnist.train.num_examples, mnist.validation.num_examples,
            mnist.test.num_examples) == (50, 10, 20)
    assert mnist.train.images.shape == (50, 784) and mnist.train.images.dtype == np.float32
    assert 0.0 <= mnist.train.images.min() and mnist.train.images.max() <= 1.0
    assert mnist.train.labels.shape == (50, 10) and set(mnist.train.labels.sum(1)) == {1.0}
    # pixel [0, 0] holds the label: images and labels stay paired
    labels = np.argmax(mnist.test.labels, 1)
    np.testing.assert_allclose(mnist.test.images[:, 0] * 255, labels, atol=1e-3)


def test_uint8_unreshaped_images_keep_their_pixels(tmp_path):
    write_mnist(tmp_path)
    mnist = input_data.read_data_sets(str(tmp_path), dtype=np.uint8, reshape=False,
                                      validation_size=0)
    assert mnist.train.images.shape == (60, 28, 28, 1) and mnist.train.images.dtype == np.uint8
    np.testing.assert_array_equal(mnist.train.images[:, 0, 0, 0], mnist.train.labels)
    with pytest.raises(TypeError, match="expected uint8 or float32"):
        input_data.read_data_sets(str(tmp_path), dtype=np.int32)


def test_next_batch_completes_the_last_batch_of_an_epoch_from_the_next(tmp_path):
    write_mnist(tmp_path, train=12)
    train = input_data.read_data_sets(str(tmp_path), validation_size=2, seed=1).train
    first_epoch = train.labels.copy()  # shuffled by the first next_batch call
    seen = []
    for _ in range(2):
        images, labels = train.next_batch(4)
        seen.extend(labels)
        np.testing.assert_allclose(images[:, 0] * 255, labels, atol=1e-3)
    assert train.epochs_completed == 0
    images, labels = train.next_batch(4)  # 2 left in epoch 1, 2 from epoch 2
    assert train.epochs_completed == 1 and len(labels) == 4
    assert sorted([*seen, *labels[:2]]) == sorted(first_epoch.tolist())
    unshuffled = input_data.read_data_sets(str(tmp_path), validation_size=2).train
    expected = unshuffled.labels.copy()
    np.testing.assert_array_equal(unshuffled.next_batch(10, shuffle=False)[1], expected)


def test_fake_data_needs_no_files():
    mnist = input_data.read_data_sets("nowhere", fake_data=True, one_hot=True)
    images, labels = mnist.train.next_batch(3, fake_data=True)
    assert len(images) == 3 and len(images[0]) == 784 and labels[0] == [1] + [0] * 9


def test_a_missing_file_is_named_with_the_four_expected_names(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        input_data.read_data_sets(str(tmp_path))
    message = str(info.value)
    assert str(tmp_path / "t10k-labels-idx1-ubyte.gz") in message
    assert all(name in message for name in input_data.FILE_NAMES)
    assert "never downloads" in message


def test_a_wrong_magic_number_names_the_file(tmp_path):
    write_mnist(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    write_idx(labels, 2051, np.zeros(60))  # an images magic number in the labels file
    with pytest.raises(ValueError, match=f"{labels}: invalid magic number 2051"):
        input_data.read_data_sets(str(tmp_path))


def test_truncated_and_non_gzip_files_name_the_file(tmp_path):
    write_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(images, "wb") as handle:
        handle.write(struct.pack(">IIII", 2051, 60, 28, 28) + b"\0" * 100)
    with pytest.raises(ValueError, match=f"{images}: truncated"):
        input_data.read_data_sets(str(tmp_path))
    images.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=f"{images}: not a readable gzip file"):
        input_data.read_data_sets(str(tmp_path))
