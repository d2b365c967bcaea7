"""``vgg_preprocessing``: TF-Slim's VGG/ResNet pipeline (Simonyan and Zisserman, 2014).

Training resizes the image, keeping its aspect ratio, so that its smaller side is a random
integer in ``[resize_side_min, resize_side_max]`` (256 and 512), takes a random
``output_height x output_width`` crop, flips it left-right with probability 1/2 and subtracts
the ImageNet RGB means. Evaluation (EVAL, PREDICT, EXPORT) resizes the smaller side to
``resize_side_min`` and takes the central crop. The result is float32 RGB around zero, in the
units of the input: uint8 images (or floats in ``[0, 255]``) give what the public TF-Slim
VGG and ResNet checkpoints expect.

At output sizes other than TF-Slim's 224, the resize sides not given scale with the output
(``256 / 224`` and ``512 / 224`` of its larger side: 73 and 146 for 64): a small crop then
sees as much of the image as a 224 crop of TF-Slim's, where the fixed 256-512 would hand a 64
crop an eighth of a digit to learn from. At 224 nothing changes.

Other differences from TF-Slim, all about failing clearly instead of wrongly: the output size must
fit into ``resize_side_min`` (TF-Slim failed only at run time, and in training only on some
draws); the resized larger side is computed in integers (TF-Slim's float32 scale could lose a
pixel); ``use_grayscale`` is not offered, because TF-Slim's version could not subtract three
channel means from one channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.constants import VGG as PIPELINE
from mox_core.preprocessing import _common

tf1 = tf.compat.v1

_R_MEAN = 123.68
_G_MEAN = 116.78
_B_MEAN = 103.94
MEANS = (_R_MEAN, _G_MEAN, _B_MEAN)

_DEFAULTS = {"resize_side_min": 256, "resize_side_max": 512}
#: the crop TF-Slim's resize sides are for
_SLIM_CROP = 224


def _scaled_defaults(height: int, width: int) -> dict[str, int]:
    """The resize sides for a ``height x width`` crop: TF-Slim's, in proportion to the crop."""
    size = max(height, width)
    return {name: max(size, round(side * size / _SLIM_CROP)) for name, side in _DEFAULTS.items()}


def _subtract_means(image: tf.Tensor) -> tf.Tensor:
    return tf.subtract(image, tf.constant(MEANS, tf.float32), name="mean_subtraction")


def factory(
    run_mode: str,
    output_height: int | None = None,
    output_width: int | None = None,
    **kwargs: Any,
) -> Callable[[Any], tf.Tensor]:
    """A function of one RGB ``[h, w, 3]`` image giving a float32 ``[output_height,
    output_width, 3]`` mean-subtracted image, randomly cropped and flipped for TRAIN.

    Options: ``resize_side_min`` (the eval resize side) and ``resize_side_max``: 256 and 512
    for a 224 crop, in proportion for other sizes (:func:`_scaled_defaults`).
    """
    training = _common.is_training(PIPELINE, run_mode)
    height, width = _common.output_size(PIPELINE, output_height, output_width)
    opts = _common.options(PIPELINE, kwargs, _scaled_defaults(height, width))
    side_min = _common.positive_int(PIPELINE, "resize_side_min", opts["resize_side_min"])
    side_max = _common.positive_int(PIPELINE, "resize_side_max", opts["resize_side_max"])
    if side_max < side_min:
        raise ValueError(
            f"{PIPELINE}: resize_side_max ({side_max}) is smaller than resize_side_min "
            f"({side_min})"
        )
    if max(height, width) > side_min:
        raise ValueError(
            f"{PIPELINE}: a {height}x{width} crop does not fit an image whose smaller side is "
            f"resized to resize_side_min={side_min}; pass resize_side_min >= {max(height, width)}"
        )

    def preprocess(image: Any) -> tf.Tensor:
        with tf.name_scope(PIPELINE):
            image = _common.as_image(PIPELINE, image, channels=3)
            if training:
                side = tf1.random_uniform([], minval=side_min, maxval=side_max + 1,
                                          dtype=tf.int32)
                image = _common.aspect_preserving_resize(image, side)
                image = _common.random_crop(PIPELINE, image, height, width)
                image = tf1.image.random_flip_left_right(image)
            else:
                image = _common.aspect_preserving_resize(image, side_min)
                image = _common.central_crop(PIPELINE, image, height, width)
            return _subtract_means(tf.cast(image, tf.float32))

    return preprocess
