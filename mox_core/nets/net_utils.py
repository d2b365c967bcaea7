"""What every network family shares: the layout, slim's padding, and how a network is built.

``get_model_fn`` builds a registered network through :func:`build_network`, the one place
where its run options meet the network: the record's ``arg_scope`` (the family's
initializers, weight decay and batch-norm settings) is entered, :func:`options_scope` adds
the options of the run on top (``data_format`` on every layer, ``is_training``,
``batch_norm_fused`` and ``batch_renorm``), the NHWC images are transposed once to
``data_format``, and the builder is called with ``(images, num_classes, is_training=...,
**arch)``. A builder reads the layout with :func:`current_data_format`; TF-Slim's nets
hard-code NHWC (``axis=3``, ``[1, 2]``, ``shape[3]``) where the ported code asks the helpers
below, so one definition serves both layouts with the same variables and the same numbers.
Every network plugin depends on mox-core only, so these helpers live here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

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


def depth_fn(depth_multiplier: float, min_depth: int) -> Callable[[int], int]:
    """TF-Slim's ``depth = lambda d: max(int(d * depth_multiplier), min_depth)``: the number of
    channels of a layer of ``d`` channels in a network thinned (or widened) by
    ``depth_multiplier``."""
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")

    def depth(d: int) -> int:
        return max(int(d * depth_multiplier), min_depth)

    return depth


def concat_channels(values: list[tf.Tensor], data_format: str, name: str | None = None):
    """Feature maps concatenated along the channel axis (TF-Slim's nets write ``axis=3``)."""
    return tf.concat(values, axis=channel_axis(data_format), name=name)


def batch_norm_params(
    decay: float,
    epsilon: float,
    *,
    center: bool = True,
    scale: bool = True,
    updates_collections: str | None = tf1.GraphKeys.UPDATE_OPS,
) -> dict:
    """A family's ``batch_norm`` settings for its arg scope (``normalizer_params``).

    ``decay`` and ``epsilon`` are the family's (slim's arg scopes differ: 0.997 / 1e-5 for the
    ResNets, 0.9997 / 0.001 for Inception, ...). The options of the run (``is_training``,
    ``data_format``, ``fused``, ``renorm``) are not among them: :func:`options_scope` sets
    those on ``batch_norm`` itself, and ``normalizer_params`` given to a layer would override
    it.
    """
    return {
        "decay": decay,
        "epsilon": epsilon,
        "center": center,
        "scale": scale,
        "updates_collections": updates_collections,
    }


@layers.add_arg_scope
def current_data_format(data_format: str = NHWC) -> str:
    """The layout the layers compute in: the one :func:`options_scope` gives them (else NHWC).

    A builder calls ``net_utils.current_data_format()`` once for the axes it needs
    (:func:`channel_axis`, :func:`spatial_axes`, ...), instead of receiving the layout as an
    argument: the arg scope is its one source.
    """
    return data_format


#: The layer functions that take a ``data_format``.
_LAYOUT_LAYERS = (
    layers.conv2d,
    layers.separable_conv2d,
    layers.max_pool2d,
    layers.avg_pool2d,
    layers.batch_norm,
    current_data_format,
)


@contextlib.contextmanager
def options_scope(
    *, is_training, data_format: str, batch_norm_fused: bool | None, batch_renorm: bool
):
    """The arg scope of ``get_model_fn``'s own options, entered inside the family's.

    ``data_format`` reaches every layer that has one (and :func:`current_data_format`),
    ``is_training`` every ``batch_norm`` and ``dropout``; ``batch_norm_fused`` picks the fused
    kernel (slim's ``fused=None``, fused whenever possible, computes the same normalization) and
    ``batch_renorm`` turns on batch renormalization with :data:`RENORM_CLIPPING`, which adds
    renorm statistics as variables (TF-Slim's checkpoints do not have them).
    """
    renorm = {"renorm": True, "renorm_clipping": dict(RENORM_CLIPPING)} if batch_renorm else {}
    with layers.arg_scope(list(_LAYOUT_LAYERS), data_format=data_format):
        with layers.arg_scope([layers.dropout], is_training=is_training):
            with layers.arg_scope(
                [layers.batch_norm], is_training=is_training, fused=batch_norm_fused, **renorm
            ) as scope:
                yield scope


def build_network(
    builder: Callable,
    arg_scope: Callable[..., dict],
    images,
    num_classes: int,
    *,
    is_training,
    weight_decay: float,
    data_format: str,
    batch_norm_fused: bool | None,
    batch_renorm: bool,
    **arch,
):
    """``builder``'s ``(logits, end_points)`` on the NHWC ``images``, with the run's options.

    Enters ``arg_scope(weight_decay=weight_decay)`` (the family's saved scope, TF-Slim's
    ``nets_factory`` convention) and :func:`options_scope`, transposes ``images`` to
    ``data_format`` and calls ``builder(images, num_classes, is_training=..., **arch)``.
    """
    with layers.arg_scope(arg_scope(weight_decay=weight_decay)):
        with options_scope(
            is_training=is_training,
            data_format=data_format,
            batch_norm_fused=batch_norm_fused,
            batch_renorm=batch_renorm,
        ):
            images = to_data_format(images, data_format)
            return builder(images, num_classes, is_training=is_training, **arch)
