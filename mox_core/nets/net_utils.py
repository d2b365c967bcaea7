"""What every network family shares: the data layout, slim's padding, batch-norm settings.

The networks take NHWC images (the ``get_model_fn`` contract) and compute in the
``data_format`` they are asked for. TF-Slim's nets mostly hard-code NHWC (``axis=3``,
``[1, 2]``, ``shape[3]``); the ported code asks these helpers instead, so one definition serves
both layouts with the same variables and the same numbers. Each network plugin depends on
mox-core only, so the helpers live here rather than in one of the plugins.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers

tf1 = tf.compat.v1

NHWC = layers.NHWC
NCHW = layers.NCHW

#: Batch renormalization's clipping when ``batch_renorm`` is on: the limits Ioffe (2017) relaxes
#: ``r`` and ``d`` to (``rmax`` 3, ``dmax`` 5); a layer knows no global step to schedule them by.
RENORM_CLIPPING = {"rmin": 1.0 / 3.0, "rmax": 3.0, "dmax": 5.0}


def to_data_format(images, data_format: str) -> tf.Tensor:
    """The NHWC network input in the layout the network computes in (a transpose for NCHW)."""
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"the network needs a 4-D [N, H, W, C] batch, got shape {images.shape}")
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


def depth(net: tf.Tensor, data_format: str) -> int:
    """The static number of channels of a 4-D tensor."""
    value = net.shape[channel_axis(data_format)]
    if value is None:
        raise ValueError(f"the number of channels must be known, got shape {net.shape}")
    return int(value)


def spatial_squeeze(net: tf.Tensor, data_format: str, name: str | None = None) -> tf.Tensor:
    """``[N, 1, 1, C]`` (or ``[N, C, 1, 1]``) -> ``[N, C]``: TF-Slim's ``spatial_squeeze``."""
    return tf.squeeze(net, spatial_axes(data_format), name=name)


def global_average_pool(net: tf.Tensor, data_format: str, name: str) -> tf.Tensor:
    """Mean over height and width, keeping them as 1x1 (slim's ``global_pool`` option)."""
    return tf.reduce_mean(net, spatial_axes(data_format), keepdims=True, name=name)


def reduced_kernel_size(net: tf.Tensor, kernel_size: list[int], data_format: str) -> list[int]:
    """TF-Slim's ``_reduced_kernel_size_for_small_input``: the kernel, clipped to the input.

    Inception v2/v3 and MobileNet v1 pool their last feature map with a fixed window; an input
    smaller than the default size gives a smaller map, which the window must not exceed.
    Unknown sizes keep the full kernel, as slim does.
    """
    height, width = spatial_shape(net, data_format)
    if height is None or width is None:
        return list(kernel_size)
    return [min(height, kernel_size[0]), min(width, kernel_size[1])]


def fixed_padding(inputs: tf.Tensor, kernel_size, data_format: str, rate: int = 1) -> tf.Tensor:
    """Pad so that a ``VALID`` convolution gives ``SAME``'s output size, whatever the input size.

    ``(k_eff - 1) // 2`` zeros before and the rest after, ``k_eff`` the dilated kernel size:
    TF-Slim's ``conv2d_same`` (ResNets, at stride > 1) and ``_fixed_padding`` (the MobileNets'
    ``use_explicit_padding``). A strided ``SAME`` convolution pads differently for even and odd
    inputs; this padding does not, which is what makes slim's checkpoints give slim's numbers.
    """
    kernel = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    paddings = [[0, 0], [0, 0], [0, 0], [0, 0]]
    for axis, size in zip(spatial_axes(data_format), kernel):
        total = size + (size - 1) * (rate - 1) - 1
        paddings[axis] = [total // 2, total - total // 2]
    return tf.pad(inputs, paddings)


def batch_norm_params(
    decay: float,
    epsilon: float,
    *,
    fused: bool | None,
    renorm: bool,
    center: bool = True,
    scale: bool = True,
    updates_collections: str | None = tf1.GraphKeys.UPDATE_OPS,
) -> dict:
    """The ``batch_norm`` arguments of a family's arg scope, plus ``get_model_fn``'s switches.

    ``decay`` and ``epsilon`` are the family's (slim's arg scopes differ: 0.997 / 1e-5 for the
    ResNets, 0.9997 / 0.001 for Inception, ...). Slim's ``fused=None`` (fused whenever
    possible) becomes ``batch_norm_fused``: the fused and the plain kernels compute the same
    normalization. ``renorm`` turns on batch renormalization with :data:`RENORM_CLIPPING`; it
    adds the renorm statistics as variables, which TF-Slim's checkpoints do not have.
    """
    params = {
        "decay": decay,
        "epsilon": epsilon,
        "center": center,
        "scale": scale,
        "updates_collections": updates_collections,
        "fused": fused,
    }
    if renorm:
        params.update(renorm=True, renorm_clipping=dict(RENORM_CLIPPING))
    return params


def layout_arg_scope(data_format: str):
    """An ``arg_scope`` giving ``data_format`` to every layer that has one."""
    return layers.arg_scope(
        [
            layers.conv2d,
            layers.separable_conv2d,
            layers.max_pool2d,
            layers.avg_pool2d,
            layers.batch_norm,
        ],
        data_format=data_format,
    )
