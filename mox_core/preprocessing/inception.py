"""``inception_preprocessing``: TF-Slim's Inception pipeline (also MobileNet, NASNet, PNASNet).

Images are first converted to float32 in ``[0, 1]`` (``tf.image.convert_image_dtype``: uint8 is
divided by 255, float input is taken to be in ``[0, 1]`` already), and the result is scaled to
``[-1, 1]``, the range the public Inception-family checkpoints expect.

Training: a random crop covering 5-100 % of the image with an aspect ratio in
``[0.75, 1.33]`` (``tf.image.sample_distorted_bounding_box`` around the optional ``bbox``, else
the whole image), resized to ``output_height x output_width`` (bilinear in ``fast_mode``; one of
four methods drawn at random otherwise), a random left-right flip, and a random colour
distortion (brightness and saturation in ``fast_mode``; also hue and contrast, in one of four
orders, otherwise). Evaluation (EVAL, PREDICT, EXPORT): the central ``central_fraction``
(0.875) of the image, resized bilinearly when an output size is given. This follows the current
TF-Slim, where ``fast_mode`` also uses a single colour ordering.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.constants import INCEPTION as PIPELINE
from mox_core.preprocessing import _common

tf1 = tf.compat.v1

_DEFAULTS = {
    "fast_mode": True,
    "central_fraction": 0.875,
    "crop_image": True,
    "use_grayscale": False,
    "add_image_summaries": False,
}

#: ``tf.compat.v1.image.ResizeMethod`` values, in TF-Slim's order of the random selector.
_RESIZE_METHODS = (
    tf1.image.ResizeMethod.BILINEAR,
    tf1.image.ResizeMethod.NEAREST_NEIGHBOR,
    tf1.image.ResizeMethod.BICUBIC,
    tf1.image.ResizeMethod.AREA,
)


def apply_with_random_selector(
    x: tf.Tensor, func: Callable[[tf.Tensor, int], tf.Tensor], num_cases: int
) -> tf.Tensor:
    """``func(x, case)`` for a ``case`` drawn uniformly from ``range(num_cases)`` at run time.

    ``tf.switch_case`` runs only the drawn branch, as TF-Slim's switch/merge did, and works in
    ``tf.data`` functions and plain graphs alike.
    """
    if num_cases == 1:
        return func(x, 0)
    selector = tf1.random_uniform([], maxval=num_cases, dtype=tf.int32)
    branches = [lambda case=case: func(x, case) for case in range(num_cases)]
    return tf.switch_case(selector, branches)


def _brightness(image: tf.Tensor) -> tf.Tensor:
    return tf1.image.random_brightness(image, max_delta=32.0 / 255.0)


def _saturation(image: tf.Tensor) -> tf.Tensor:
    return tf1.image.random_saturation(image, lower=0.5, upper=1.5)


def _hue(image: tf.Tensor) -> tf.Tensor:
    return tf1.image.random_hue(image, max_delta=0.2)


def _contrast(image: tf.Tensor) -> tf.Tensor:
    return tf1.image.random_contrast(image, lower=0.5, upper=1.5)


#: TF-Slim's colour orderings: ``fast_mode`` skips the slower hue and contrast distortions.
_FAST_ORDERS = ((_brightness, _saturation), (_saturation, _brightness))
_FULL_ORDERS = (
    (_brightness, _saturation, _hue, _contrast),
    (_saturation, _brightness, _contrast, _hue),
    (_contrast, _hue, _brightness, _saturation),
    (_hue, _saturation, _contrast, _brightness),
)


def distort_color(image: tf.Tensor, color_ordering: int = 0, fast_mode: bool = True) -> tf.Tensor:
    """Randomly distort the colours of an RGB image in ``[0, 1]`` (TF-Slim's ``distort_color``).

    The distortions do not commute, so ``color_ordering`` (0-3) picks one of four orders (in
    ``fast_mode``, 0 is brightness first and any other value saturation first).
    """
    if color_ordering not in range(4):
        raise ValueError(f"color_ordering must be in [0, 3]; got {color_ordering!r}")
    with tf.name_scope("distort_color"):
        if fast_mode:
            order = _FAST_ORDERS[0 if color_ordering == 0 else 1]
        else:
            order = _FULL_ORDERS[color_ordering]
        for distortion in order:
            image = distortion(image)
        # The random_* ops do not clamp.
        return tf.clip_by_value(image, 0.0, 1.0)


def _to_unit_float(image: tf.Tensor) -> tf.Tensor:
    if image.dtype != tf.float32:
        image = tf1.image.convert_image_dtype(image, dtype=tf.float32)
    return image


def _to_signed(image: tf.Tensor) -> tf.Tensor:
    """``[0, 1]`` -> ``[-1, 1]``."""
    return tf.multiply(tf.subtract(image, 0.5), 2.0)


def _preprocess_for_train(image, bbox, height, width, opts):
    summaries = opts["add_image_summaries"]
    fast_mode = opts["fast_mode"]
    image = _to_unit_float(image)
    if bbox is None:
        bbox = tf.constant([0.0, 0.0, 1.0, 1.0], dtype=tf.float32, shape=[1, 1, 4])
    else:
        bbox = tf.reshape(tf.cast(bbox, tf.float32), [1, -1, 4])
    if summaries and not tf.inside_function():
        boxed = tf1.image.draw_bounding_boxes(tf.expand_dims(image, 0), bbox)
        _common.image_summary(True, "image_with_bounding_boxes", boxed)

    if opts["crop_image"]:
        # The raw op with tf.compat.v1's seeding (the graph-level seed makes it reproducible);
        # tf.compat.v1.image.sample_distorted_bounding_box logs a deprecation warning.
        seed, seed2 = tf1.get_seed(None)
        begin, size, distorted_bbox = tf.raw_ops.SampleDistortedBoundingBoxV2(
            image_size=tf.shape(image),
            bounding_boxes=bbox,
            min_object_covered=tf.constant(0.1),
            seed=seed or 0,
            seed2=seed2 or 0,
            aspect_ratio_range=[0.75, 1.33],
            area_range=[0.05, 1.0],
            max_attempts=100,
            use_image_if_no_bounding_boxes=True,
        )
        distorted = tf.slice(image, begin, size)
        distorted.set_shape([None, None, 3])
        if summaries and not tf.inside_function():
            boxed = tf1.image.draw_bounding_boxes(tf.expand_dims(image, 0), distorted_bbox)
            _common.image_summary(True, "images_with_distorted_bounding_box", boxed)
    else:
        distorted = image

    distorted = apply_with_random_selector(
        distorted,
        lambda x, method: tf1.image.resize_images(x, [height, width], _RESIZE_METHODS[method]),
        num_cases=1 if fast_mode else len(_RESIZE_METHODS),
    )
    distorted.set_shape([height, width, 3])
    _common.image_summary(summaries, "cropped_resized_image", distorted)

    distorted = tf1.image.random_flip_left_right(distorted)
    distorted = apply_with_random_selector(
        distorted,
        lambda x, ordering: distort_color(x, ordering, fast_mode),
        num_cases=1 if fast_mode else 4,
    )
    if opts["use_grayscale"]:
        distorted = tf1.image.rgb_to_grayscale(distorted)
    _common.image_summary(summaries, "final_distorted_image", distorted)
    return _to_signed(distorted)


def _preprocess_for_eval(image, size, opts):
    image = _to_unit_float(image)
    if opts["use_grayscale"]:
        image = tf1.image.rgb_to_grayscale(image)
    if opts["crop_image"] and opts["central_fraction"]:
        image = tf1.image.central_crop(image, central_fraction=opts["central_fraction"])
    if size is not None:
        image = _common.resize_bilinear(image, size[0], size[1])
        image.set_shape([size[0], size[1], image.shape[-1]])
    return _to_signed(image)


def factory(
    run_mode: str,
    output_height: int | None = None,
    output_width: int | None = None,
    **kwargs: Any,
) -> Callable[..., tf.Tensor]:
    """A function ``fn(image, bbox=None)`` of one RGB ``[h, w, 3]`` image giving float32 in
    ``[-1, 1]``.

    The output size is required for TRAIN; for evaluation it may be omitted (both sizes), and
    the central crop is then returned at its own size. ``bbox`` (``[n, 4]`` or
    ``[1, n, 4]``, ``[ymin, xmin, ymax, xmax]`` in ``[0, 1]``) guides the training crop and is
    ignored in evaluation, as in TF-Slim.

    Options: ``fast_mode`` (True), ``central_fraction`` (0.875), ``crop_image`` (True; False
    skips the random crop in training and the central crop in evaluation), ``use_grayscale``
    (False; one output channel), ``add_image_summaries`` (False; TensorBoard images of each
    training step, in graph mode only).
    """
    training = _common.is_training(PIPELINE, run_mode)
    size = _common.output_size(PIPELINE, output_height, output_width, required=training)
    opts = _common.options(PIPELINE, kwargs, _DEFAULTS)
    fraction = opts["central_fraction"]
    if fraction is not None and not (
        isinstance(fraction, int | float) and not isinstance(fraction, bool) and 0 < fraction <= 1
    ):
        raise ValueError(f"{PIPELINE}: central_fraction must be in (0, 1]; got {fraction!r}")

    def preprocess(image: Any, bbox: Any = None) -> tf.Tensor:
        with tf.name_scope(PIPELINE):
            image = _common.as_image(PIPELINE, image, channels=3)
            if training:
                return _preprocess_for_train(image, bbox, size[0], size[1], opts)
            return _preprocess_for_eval(image, size, opts)

    return preprocess
