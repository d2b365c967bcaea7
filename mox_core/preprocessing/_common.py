"""What the five pipelines share: argument checks and TF-Slim's crop and resize steps.

Every pipeline module exposes ``factory(run_mode, output_height=None, output_width=None,
**kwargs)``. The factory checks its arguments in Python, once, so that a wrong size or a
misspelt option fails when the pipeline is chosen, naming the pipeline, rather than deep inside
a ``tf.data`` map. The function it returns builds only TensorFlow ops: all randomness comes
from TensorFlow's random ops, so each call of the graph (each element of a ``tf.data.Dataset``)
draws anew, and a graph-level seed makes runs reproducible.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from mox_core.constants import ModeKeys

tf1 = tf.compat.v1


def is_training(pipeline: str, run_mode: str) -> bool:
    """``True`` for TRAIN; ``False`` for EVAL, PREDICT and EXPORT, which all see eval images."""
    if run_mode not in ModeKeys.ALL:
        raise ValueError(
            f"{pipeline}: run_mode must be one of {', '.join(ModeKeys.ALL)}; got {run_mode!r}"
        )
    return run_mode == ModeKeys.TRAIN


def options(pipeline: str, kwargs: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict:
    """``defaults`` updated with ``kwargs``; an argument the pipeline lacks is a ``ValueError``.

    Silently ignoring a misspelt option (``fastmode=False``) would train with the wrong
    augmentation without anyone noticing, hence the strictness.
    """
    unknown = sorted(set(kwargs) - set(defaults))
    if unknown:
        accepted = ", ".join(sorted(defaults)) or "no extra argument"
        raise ValueError(
            f"{pipeline} got unknown argument(s) {', '.join(map(repr, unknown))}; "
            f"it accepts: {accepted}"
        )
    return {**defaults, **kwargs}


def positive_int(pipeline: str, name: str, value: Any) -> int:
    """``value`` as a Python int > 0, else a ``ValueError`` naming the pipeline and argument."""
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{pipeline}: {name} must be a positive integer; got {value!r}") from None
    if number <= 0 or isinstance(value, bool):
        raise ValueError(f"{pipeline}: {name} must be a positive integer; got {value!r}")
    return number


def output_size(
    pipeline: str, output_height: Any, output_width: Any, required: bool = True
) -> tuple[int, int] | None:
    """The checked ``(height, width)``; ``None`` when both are omitted and that is allowed.

    TF-Slim's pipelines have no default output size (it belongs to the network, not to the
    pipeline), so neither do these: a missing size is an error rather than a guess.
    """
    if output_height is None and output_width is None and not required:
        return None
    if output_height is None or output_width is None:
        raise ValueError(
            f"{pipeline} needs both output_height and output_width (e.g. the network's "
            f"default image size); got output_height={output_height!r}, "
            f"output_width={output_width!r}"
        )
    return (
        positive_int(pipeline, "output_height", output_height),
        positive_int(pipeline, "output_width", output_width),
    )


def as_image(pipeline: str, image: Any, channels: int | None = None) -> tf.Tensor:
    """``image`` as a tensor of rank 3, with ``channels`` channels when given.

    A statically wrong shape is a ``ValueError`` now; a shape unknown until run time is checked
    when the graph runs.
    """
    image = tf.convert_to_tensor(image, name="image")
    shape = image.shape
    if shape.rank is not None and shape.rank != 3:
        raise ValueError(
            f"{pipeline} maps one [height, width, channels] image; got shape {shape}"
        )
    if channels is not None:
        if shape.rank is not None and shape[-1] is not None and shape[-1] != channels:
            raise ValueError(
                f"{pipeline} needs {channels}-channel (RGB) images; got shape {shape}"
            )
        image = tf.ensure_shape(image, [None, None, channels])
    elif shape.rank is None:
        image = tf.ensure_shape(image, [None, None, None])
    return image


def image_summary(enabled: bool, name: str, image: tf.Tensor) -> None:
    """Add a ``tf.compat.v1`` image summary of one ``[h, w, c]`` (or batched) image.

    Skipped inside a traced function (a ``tf.data`` map, a ``tf.function``): summaries made
    there never reach the graph's summary collection, so they would only cost time.
    """
    if not enabled or tf.inside_function():
        return
    if image.shape.rank == 3:
        image = tf.expand_dims(image, 0)
    tf1.summary.image(name, image)


def crop(
    pipeline: str, image: tf.Tensor, offset_height: Any, offset_width: Any, height: int, width: int
) -> tf.Tensor:
    """The ``height x width`` window of ``image`` at the given offsets (TF-Slim's ``_crop``).

    ``tf.slice`` accepts tensor offsets, so one op serves random and central crops of images
    whose size is known only at run time.
    """
    shape = tf.shape(image)
    fits = tf1.Assert(
        tf.logical_and(shape[0] >= height, shape[1] >= width),
        [f"{pipeline}: crop size {height}x{width} is greater than the image size", shape],
    )
    with tf.control_dependencies([fits]):
        begin = tf.stack([offset_height, offset_width, 0])
        cropped = tf.slice(image, begin, tf.stack([height, width, shape[2]]))
    cropped.set_shape([height, width, image.shape[-1]])
    return cropped


def random_crop(pipeline: str, image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """A uniformly placed ``height x width`` window (TF-Slim's ``_random_crop``)."""
    shape = tf.shape(image)
    offset_height = tf1.random_uniform([], maxval=tf.maximum(shape[0] - height + 1, 1),
                                       dtype=tf.int32)
    offset_width = tf1.random_uniform([], maxval=tf.maximum(shape[1] - width + 1, 1),
                                      dtype=tf.int32)
    return crop(pipeline, image, offset_height, offset_width, height, width)


def central_crop(pipeline: str, image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """The central ``height x width`` window; odd margins leave the extra pixel at the end."""
    shape = tf.shape(image)
    return crop(pipeline, image, (shape[0] - height) // 2, (shape[1] - width) // 2, height, width)


def resize_bilinear(image: tf.Tensor, height: Any, width: Any) -> tf.Tensor:
    """Bilinear resize of one image to float32, as TF-Slim's ``resize_bilinear`` calls do.

    ``ResizeBilinear`` without aligned corners or half-pixel centres is the exact op behind
    TF-Slim's ``tf.image.resize_bilinear``, so images match those the public checkpoints were
    trained on (called as a raw op: the ``tf.compat.v1`` wrapper logs a deprecation warning).
    """
    channels = image.shape[-1]
    resized = tf.raw_ops.ResizeBilinear(
        images=tf.expand_dims(image, 0),
        size=tf.stack([height, width]),
        align_corners=False,
        half_pixel_centers=False,
    )
    resized = tf.squeeze(resized, [0])
    resized.set_shape([None, None, channels])
    return resized


def aspect_preserving_resize(image: tf.Tensor, smallest_side: Any) -> tf.Tensor:
    """Resize so that the smaller side is ``smallest_side``, keeping the aspect ratio.

    The larger side is ``floor(larger * smallest_side / smaller)`` computed in integers:
    TF-Slim's float32 ``scale`` could make a 37-pixel side come out as 255 instead of 256 and
    then fail the crop that follows.
    """
    shape = tf.shape(image, out_type=tf.int64)
    height, width = shape[0], shape[1]
    side = tf.cast(smallest_side, tf.int64)
    taller = height > width
    new_height = tf.where(taller, height * side // width, side)
    new_width = tf.where(taller, side, width * side // height)
    return resize_bilinear(image, tf.cast(new_height, tf.int32), tf.cast(new_width, tf.int32))


def covering_resize(image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Resize, keeping the aspect ratio, to the smallest size that covers ``height x width``.

    One side then equals its output size and the other is at least its own, so a
    ``height x width`` crop always fits and loses as little of the image as possible.
    """
    shape = tf.shape(image, out_type=tf.int64)
    in_height, in_width = shape[0], shape[1]
    # Height decides when height / in_height >= width / in_width (compared without division).
    by_height = height * in_width >= width * in_height
    new_height = tf.where(by_height, tf.constant(height, tf.int64),
                          (in_height * width + in_width - 1) // in_width)
    new_width = tf.where(by_height, (in_width * height + in_height - 1) // in_height,
                         tf.constant(width, tf.int64))
    return resize_bilinear(image, tf.cast(new_height, tf.int32), tf.cast(new_width, tf.int32))
