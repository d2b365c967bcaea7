"""``tiny_preprocessing``: the pipeline ``tiny_convnet`` names as its default.

``factory(run_mode, output_height, output_width, flip=True)`` checks its arguments once, when
the pipeline is chosen, and returns a function of one ``[h, w, c]`` image (uint8, or float in
``[0, 255]``) giving float32 ``[output_height, output_width, c]`` in ``[-1, 1]``. In TRAIN mode
the image is also flipped left-right at random (``flip``) and its brightness jittered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

PIPELINE = "tiny_preprocessing"
RUN_MODES = ("TRAIN", "EVAL", "PREDICT", "EXPORT")


def factory(
    run_mode: str, output_height: int | None = None, output_width: int | None = None,
    flip: bool = True,
) -> Callable[[Any], tf.Tensor]:
    if run_mode not in RUN_MODES:
        raise ValueError(f"{PIPELINE}: run_mode must be one of {', '.join(RUN_MODES)}; "
                         f"got {run_mode!r}")
    for what, value in (("output_height", output_height), ("output_width", output_width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{PIPELINE} needs {what} as a positive int (e.g. the network's "
                             f"default image size); got {value!r}")
    training = run_mode == "TRAIN"

    def preprocess(image: Any) -> tf.Tensor:
        with tf.name_scope(PIPELINE):
            image = tf.convert_to_tensor(image)
            if image.shape.rank != 3:
                raise ValueError(f"{PIPELINE} maps one [height, width, channels] image; got "
                                 f"shape {image.shape}")
            image = tf.cast(image, tf.float32) / 255.0
            image = tf.image.resize(image, [output_height, output_width], method="bilinear")
            if training:
                if flip:
                    image = tf.image.random_flip_left_right(image)
                image = tf.clip_by_value(tf.image.random_brightness(image, 0.1), 0.0, 1.0)
            return image * 2.0 - 1.0

    return preprocess
