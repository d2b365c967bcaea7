"""Small helpers the network families share: data layout, squeezes and pools.

The networks take NHWC images (the ``get_model_fn`` contract) and compute in the
``data_format`` they are asked for. These helpers keep the layout in one place: where an
NHWC-only TF-Slim network writes ``axis=3`` or ``[1, 2]``, the ported code asks for
:func:`channel_axis` or :func:`spatial_axes`, so one definition serves both layouts with the
same variables and the same numbers.
"""

from __future__ import annotations

import tensorflow as tf

tf1 = tf.compat.v1

NHWC = "NHWC"
NCHW = "NCHW"


def to_data_format(images: tf.Tensor, data_format: str) -> tf.Tensor:
    """The NHWC ``images`` in ``data_format`` (a transpose for NCHW)."""
    if data_format == NCHW:
        return tf.transpose(images, [0, 3, 1, 2], name="to_NCHW")
    return images


def to_nhwc(net: tf.Tensor, data_format: str) -> tf.Tensor:
    """A 4-D tensor of ``data_format`` in NHWC, so that outputs do not depend on the layout."""
    if data_format == NCHW:
        return tf.transpose(net, [0, 2, 3, 1], name="to_NHWC")
    return net


def channel_axis(data_format: str) -> int:
    """The axis to concatenate feature maps along (TF-Slim's nets hard-code 3)."""
    return 1 if data_format == NCHW else 3


def spatial_axes(data_format: str) -> list[int]:
    """The height and width axes (TF-Slim's nets hard-code ``[1, 2]``)."""
    return [2, 3] if data_format == NCHW else [1, 2]


def spatial_shape(net: tf.Tensor, data_format: str) -> list[int | None]:
    """``[height, width]`` of ``net`` as static Python values (``None`` where unknown)."""
    shape = net.shape.as_list()
    return [shape[axis] for axis in spatial_axes(data_format)]


def spatial_squeeze(net: tf.Tensor, data_format: str, name: str) -> tf.Tensor:
    """``[N, 1, 1, C]`` (or ``[N, C, 1, 1]``) -> ``[N, C]``: TF-Slim's ``spatial_squeeze``."""
    return tf.squeeze(net, spatial_axes(data_format), name=name)


def global_average_pool(net: tf.Tensor, data_format: str, name: str) -> tf.Tensor:
    """Mean over height and width, keeping them as 1x1 (slim's ``global_pool`` option)."""
    return tf.reduce_mean(net, spatial_axes(data_format), keepdims=True, name=name)


def reduced_kernel_size(net: tf.Tensor, kernel_size: list[int], data_format: str) -> list[int]:
    """TF-Slim's ``_reduced_kernel_size_for_small_input``: the kernel, clipped to the input.

    Inception v2/v3 pool their last feature map with a fixed window; an input smaller than the
    default size gives a smaller map, which the window must not exceed. Unknown sizes keep the
    full kernel, as slim does.
    """
    height, width = spatial_shape(net, data_format)
    if height is None or width is None:
        return list(kernel_size)
    return [min(height, kernel_size[0]), min(width, kernel_size[1])]
