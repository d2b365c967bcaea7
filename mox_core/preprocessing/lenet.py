"""``lenet_preprocessing``: TF-Slim's LeNet (MNIST) pipeline.

The same in every run mode, as in TF-Slim: no augmentation, the image is centre-cropped or
zero-padded to ``output_height x output_width`` and mapped to ``(x - 128) / 128``, about
``[-1, 1]`` for uint8 (or ``[0, 255]`` float) input.

One deliberate difference from TF-Slim: it called ``resize_image_with_crop_or_pad(image,
output_width, output_height)``, swapping height and width; here a non-square output size comes
out as asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.constants import LENET as PIPELINE
from mox_core.preprocessing import _common

tf1 = tf.compat.v1

_DEFAULTS = {"use_grayscale": False}


def factory(
    run_mode: str,
    output_height: int | None = None,
    output_width: int | None = None,
    **kwargs: Any,
) -> Callable[[Any], tf.Tensor]:
    """A function of one ``[h, w, c]`` image (any channel count, e.g. MNIST's 1) giving float32
    ``[output_height, output_width, c]`` scaled to ``(x - 128) / 128``.

    Options: ``use_grayscale`` (False; an RGB image becomes one channel).
    """
    _common.is_training(PIPELINE, run_mode)  # checks run_mode; every mode preprocesses alike
    height, width = _common.output_size(PIPELINE, output_height, output_width)
    opts = _common.options(PIPELINE, kwargs, _DEFAULTS)

    def preprocess(image: Any) -> tf.Tensor:
        with tf.name_scope(PIPELINE):
            image = _common.as_image(PIPELINE, image, channels=3 if opts["use_grayscale"] else None)
            image = tf.cast(image, tf.float32)
            if opts["use_grayscale"]:
                image = tf1.image.rgb_to_grayscale(image)
            image = tf1.image.resize_image_with_crop_or_pad(image, height, width)
            return tf.divide(tf.subtract(image, 128.0), 128.0)

    return preprocess
