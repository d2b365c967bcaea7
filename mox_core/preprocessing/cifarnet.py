"""``cifarnet_preprocessing``: TF-Slim's CIFAR-10 pipeline (CifarNet, CIFAR ResNets, NASNet-CIFAR).

Training pads the image by ``padding`` (4) zero pixels on every side, takes a random
``output_height x output_width`` crop, flips it left-right with probability 1/2, changes its
brightness (by up to 63, in pixel units) and contrast (by a factor in ``[0.2, 1.8]``) at
random, and standardizes it (``tf.image.per_image_standardization``: zero mean, unit variance
per image). Evaluation (EVAL, PREDICT, EXPORT) centre-crops or zero-pads the image to the output
size and standardizes it. Pixel values keep the input's units until the standardization, so
uint8 and float input give the same result.

One deliberate difference from TF-Slim: its evaluation called
``resize_image_with_crop_or_pad(image, output_width, output_height)``, swapping height and
width; here a non-square output size comes out as asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.constants import CIFARNET as PIPELINE
from mox_core.preprocessing import _common

tf1 = tf.compat.v1

_DEFAULTS = {"padding": 4, "use_grayscale": False, "add_image_summaries": False}


def factory(
    run_mode: str,
    output_height: int | None = None,
    output_width: int | None = None,
    **kwargs: Any,
) -> Callable[[Any], tf.Tensor]:
    """A function of one ``[h, w, c]`` image giving a standardized float32
    ``[output_height, output_width, c]`` image, randomly cropped, flipped and distorted for
    TRAIN.

    Any number of channels works (CIFAR's 3, or 1). Options: ``padding`` (4; training only),
    ``use_grayscale`` (False; an RGB image becomes one channel), ``add_image_summaries``
    (False; TensorBoard images, in graph mode only).
    """
    training = _common.is_training(PIPELINE, run_mode)
    height, width = _common.output_size(PIPELINE, output_height, output_width)
    opts = _common.options(PIPELINE, kwargs, _DEFAULTS)
    padding = opts["padding"]
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"{PIPELINE}: padding must be an integer >= 0; got {padding!r}")
    summaries = opts["add_image_summaries"]

    def preprocess(image: Any) -> tf.Tensor:
        with tf.name_scope(PIPELINE):
            image = _common.as_image(PIPELINE, image, channels=3 if opts["use_grayscale"] else None)
            _common.image_summary(summaries, "image", image)
            image = tf.cast(image, tf.float32)
            if opts["use_grayscale"]:
                image = tf1.image.rgb_to_grayscale(image)
            channels = image.shape[-1]
            if training:
                if padding > 0:
                    image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
                image = _common.random_crop(PIPELINE, image, height, width)
                image = tf1.image.random_flip_left_right(image)
                _common.image_summary(summaries, "distorted_image", image)
                # These do not commute; TF-Slim applies them in this fixed order.
                image = tf1.image.random_brightness(image, max_delta=63)
                image = tf1.image.random_contrast(image, lower=0.2, upper=1.8)
            else:
                image = tf1.image.resize_image_with_crop_or_pad(image, height, width)
                _common.image_summary(summaries, "resized_image", image)
            image.set_shape([height, width, channels])
            return tf1.image.per_image_standardization(image)

    return preprocess
