"""Data for the examples: real MNIST files when ``--data_url`` names them, else generated images.

``mnist(data_url, count)`` reads the four MNIST files (``train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ...) from ``data_url`` -- a local folder or any URL
``mox.file`` reads, such as ``obs://bucket/mnist/`` -- or, when ``data_url`` is empty, draws
``count`` 28x28 grey images of the demo's shapes (``mox_core.demo``), labelled 0-3 of 10.
"""

from __future__ import annotations

import gzip

import numpy as np

import mox_core as mox
from mox_core.demo import shape_images


def _idx(data_url: str, name: str) -> np.ndarray:
    raw = gzip.decompress(mox.file.read(data_url.rstrip("/") + "/" + name, binary=True))
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(data_url: str, count: int, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``[n, 784]`` float32 images in ``[0, 1]`` and int64 labels (``n <= count``)."""
    if data_url:
        prefix = "train" if split == "train" else "t10k"
        images = _idx(data_url, f"{prefix}-images-idx3-ubyte.gz")[:count]
        labels = _idx(data_url, f"{prefix}-labels-idx1-ubyte.gz")[:count]
    else:
        images, labels = shape_images(count, size=28, seed=0 if split == "train" else 1)
        images = images.mean(axis=3)
    flat = images.reshape(len(images), 784).astype(np.float32) / 255.0
    return flat, labels.astype(np.int64)
