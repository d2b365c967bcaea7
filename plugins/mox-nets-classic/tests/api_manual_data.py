"""Small generated data standing in for the folders the API manual's examples read.

The manual's examples read ``/export1/flowers/raw/split/...``, ``s3://bucket/mnist/`` and the
like; the tests of ``test_api_manual_*.py`` write the same layouts into ``tmp_path`` instead,
from images of a few classes told apart by a bright band (``mox_core.testing.band_images``).
"""

from __future__ import annotations

import io

import tensorflow.compat.v1 as tf
from PIL import Image

from mox_core.testing import band_images


def write_class_folders(base_dir, count, num_classes, seed):
    """A raw image-classification folder: ``base_dir/<class>/<n>.png``, RGB 28x28."""
    images, labels = band_images(count, num_classes, channels=3, seed=seed)
    for index, (image, label) in enumerate(zip(images, labels)):
        folder = base_dir / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index:04d}.png")
    return str(base_dir)


def write_mnist_tfrecords(dataset_dir, count):
    """TF-Slim's MNIST layout (``download_and_convert_mnist.py``): ``mnist_train.tfrecord`` and
    ``mnist_test.tfrecord`` of 28x28x1 PNGs with ``image/encoded``, ``image/format``,
    ``image/class/label``, ``image/height``, ``image/width``; and ``labels.txt``."""
    dataset_dir.mkdir()
    for split, seed in (("train", 10), ("test", 11)):
        images, labels = band_images(count, 10, seed=seed)
        with tf.io.TFRecordWriter(str(dataset_dir / f"mnist_{split}.tfrecord")) as writer:
            for image, label in zip(images, labels):
                png = io.BytesIO()
                Image.fromarray(image[:, :, 0]).save(png, format="PNG")
                feature = {
                    "image/encoded": _bytes_feature(png.getvalue()),
                    "image/format": _bytes_feature(b"png"),
                    "image/class/label": _int64_feature(int(label)),
                    "image/height": _int64_feature(28),
                    "image/width": _int64_feature(28),
                }
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    (dataset_dir / "labels.txt").write_text("".join(f"{i}:{i}\n" for i in range(10)))
    return str(dataset_dir)


def _bytes_feature(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int64_feature(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def checkpoint(log_dir):
    """A reader of the newest checkpoint in ``log_dir``."""
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))
