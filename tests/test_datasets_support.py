"""Builders shared by the dataset tests (this module holds no test).

Tiny real image files written with Pillow, class folders of them, TF-Slim-style TFRecords, and
``collect``: build a dataset's tensors in a fresh ``tf.Graph`` and drain them in a
``tf.compat.v1.Session`` until ``OutOfRangeError``, with a run timeout so that a pipeline that
hangs fails the test instead of stalling CI.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

tf1 = tf.compat.v1

#: One colour per class index, far apart so that JPEG noise never confuses them.
COLORS = [(230, 20, 20), (20, 200, 30), (30, 40, 220), (240, 240, 30), (200, 30, 220),
          (20, 220, 220), (128, 128, 128), (250, 150, 60)]

RUN_TIMEOUT_MS = 60_000


def encode(color: Sequence[int] = (200, 30, 30), size: tuple[int, int] = (12, 16),
           fmt: str = "JPEG", mode: str = "RGB", **save_args) -> bytes:
    """An image of one colour, ``size`` = (height, width), in ``mode``, encoded as ``fmt``."""
    image = Image.new("RGB", (size[1], size[0]), tuple(color))
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **save_args)
    return out.getvalue()


def save_image(path: str | Path, color: Sequence[int] = (200, 30, 30),
               size: tuple[int, int] = (12, 16), fmt: str = "JPEG", mode: str = "RGB",
               **save_args) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(color, size, fmt, mode, **save_args))
    return path


def make_class_folders(root: str | Path, counts: dict[str, int],
                       size: tuple[int, int] = (12, 16)) -> dict[str, list[Path]]:
    """``root/<class>/<i>.jpg`` for each class, class ``k`` (in sorted order) in ``COLORS[k]``."""
    files: dict[str, list[Path]] = {}
    for index, name in enumerate(sorted(counts)):
        files[name] = [save_image(Path(root) / name / f"{i}.jpg", COLORS[index], size)
                       for i in range(counts[name])]
    return files


def color_class(image: np.ndarray) -> int:
    """The index in ``COLORS`` nearest to an image's mean colour."""
    mean = np.asarray(image, np.float64).reshape(-1, image.shape[-1]).mean(axis=0)
    return int(np.argmin([np.abs(mean - np.array(c)).sum() for c in COLORS]))


def slim_example(encoded: bytes, label: int | list[int], image_format: bytes = b"jpg",
                 height: int = 12, width: int = 16, **extra) -> bytes:
    """A TF-Slim ``image_to_tfexample`` record, plus ``extra`` bytes/int64/float features."""
    def feature(value):
        if isinstance(value, bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        values = value if isinstance(value, list) else [value]
        if isinstance(values[0], float):
            return tf.train.Feature(float_list=tf.train.FloatList(value=values))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    features = {"image/encoded": feature(encoded), "image/format": feature(image_format),
                "image/class/label": feature(label), "image/height": feature(height),
                "image/width": feature(width)}
    features.update({key.replace("__", "/"): feature(v) for key, v in extra.items()})
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def write_records(path: str | Path, records: list[bytes]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return path


def collect(make_dataset: Callable, keys: Sequence[str], max_runs: int = 1000) -> dict:
    """Per-sample values of ``keys`` (batches are split), drained until the end of the data.

    ``make_dataset()`` is called inside the fresh graph (as an ``input_fn`` would be).
    """
    with tf.Graph().as_default():
        dataset = make_dataset()
        tensors = dataset.get(list(keys))
        results = drain(tensors, max_runs)
    batched = getattr(dataset, "batch_size", None) is not None
    out: dict = {key: [] for key in keys}
    for run in results:
        for key, value in zip(keys, run):
            if batched:
                out[key].extend(list(value))
            else:
                out[key].append(value)
    out["_runs"] = results
    return out


def drain(tensors, max_runs: int = 1000) -> list:
    """Run ``tensors`` in a new session until ``OutOfRangeError`` (at most ``max_runs`` runs)."""
    options = tf1.RunOptions(timeout_in_ms=RUN_TIMEOUT_MS)
    results = []
    with tf1.Session() as session:
        session.run(tf1.tables_initializer())
        for _ in range(max_runs):
            try:
                results.append(session.run(tensors, options=options))
            except tf.errors.OutOfRangeError:
                break
    return results


def names(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def folder_of(path: bytes | str) -> str:
    return os.path.basename(os.path.dirname(path.decode() if isinstance(path, bytes) else path))
