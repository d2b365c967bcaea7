"""``pvanet_preprocessing``: MoXing's pipeline for PVANet (Kim et al., 2016).

TF-Slim has no PVANet pipeline, so this one follows what PVANet's weights were trained on in
its Caffe release (pva-faster-rcnn, built on py-faster-rcnn): images in OpenCV's BGR channel
order, in pixel units ``[0, 255]`` (not rescaled), minus py-faster-rcnn's ``PIXEL_MEANS``
``(102.9801, 115.9465, 122.7717)`` given in BGR order. The output is therefore float32 **BGR**,
around zero, so that Caffe-converted PVANet weights see the input they were trained on; the
input is RGB, as every mox reader decodes it (uint8, or floats in ``[0, 255]``).

Size: the image is resized bilinearly, keeping its aspect ratio, to the smallest size that
covers ``output_height x output_width`` (one side equals its output size, the other is at
least its own), then cropped to the output size, at a random place and flipped left-right with
probability 1/2 for TRAIN, centrally for EVAL, PREDICT and EXPORT. Resizing to cover, rather
than to a fixed side as VGG does, keeps as much of the image as a crop of that size can and
works for any output size without extra options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.constants import PVANET as PIPELINE
from mox_core.preprocessing import _common

tf1 = tf.compat.v1

#: py-faster-rcnn's ``cfg.PIXEL_MEANS``, in BGR order.
BGR_MEANS = (102.9801, 115.9465, 122.7717)


def factory(
    run_mode: str,
    output_height: int | None = None,
    output_width: int | None = None,
    **kwargs: Any,
) -> Callable[[Any], tf.Tensor]:
    """A function of one RGB ``[h, w, 3]`` image giving a float32 BGR ``[output_height,
    output_width, 3]`` mean-subtracted image, randomly cropped and flipped for TRAIN.

    The pipeline takes no extra option.
    """
    training = _common.is_training(PIPELINE, run_mode)
    height, width = _common.output_size(PIPELINE, output_height, output_width)
    _common.options(PIPELINE, kwargs, {})

    def preprocess(image: Any) -> tf.Tensor:
        with tf.name_scope(PIPELINE):
            image = _common.as_image(PIPELINE, image, channels=3)
            image = _common.covering_resize(image, height, width)
            if training:
                image = _common.random_crop(PIPELINE, image, height, width)
                image = tf1.image.random_flip_left_right(image)
            else:
                image = _common.central_crop(PIPELINE, image, height, width)
            bgr = tf.reverse(tf.cast(image, tf.float32), axis=[-1])
            return tf.subtract(bgr, tf.constant(BGR_MEANS, tf.float32), name="mean_subtraction")

    return preprocess
