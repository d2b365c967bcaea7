"""``moxing.tensorflow.utils.tf_util``: the TensorFlow version as a comparable tuple.

MoXing scripts branch on it (``if tf_util.version_info() > (1, 13, 0): ...``).
"""

from __future__ import annotations

import re


def version_info() -> tuple[int, int, int]:
    """TensorFlow's ``(major, minor, patch)``; a pre-release suffix (``2.21.0rc1``) is dropped."""
    import tensorflow as tf

    numbers = [int(re.match(r"\d*", part).group() or 0) for part in tf.__version__.split(".")[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]
