"""What the mobile families share: the layout and batch-norm helpers, and slim's variants.

The layout, padding and batch-norm helpers are every family's, so they live in mox-core
(:mod:`mox_core.nets.net_utils`) and are named here for the modules of this plugin; this plugin
needs mox-core only, not mox-nets-classic.
"""

from __future__ import annotations

import functools

from mox_core.nets import layers
from mox_core.nets.net_utils import (  # noqa: F401  (the plugin's modules use them as _ops.*)
    NCHW,
    NHWC,
    RENORM_CLIPPING,
    batch_norm_params,
    channel_axis,
    depth,
    fixed_padding,
    global_average_pool,
    layout_arg_scope,
    reduced_kernel_size,
    spatial_axes,
    spatial_shape,
    spatial_squeeze,
    to_data_format,
    to_nhwc,
)


def variant(builder, name: str, doc: str, **fixed):
    """``builder`` with some arguments fixed (slim's ``wrapped_partial``), named ``name``.

    A ``functools.partial`` keeps the builder's signature (``get_model_fn`` checks model kwargs
    against it), with the fixed arguments as keyword defaults.
    """
    partial = functools.partial(builder, **fixed)
    vars(partial).update(vars(builder))  # default_image_size, as slim's wrapped_partial
    partial.__name__ = name
    partial.__qualname__ = name
    partial.__doc__ = doc
    partial.__module__ = builder.__module__
    return partial


def atrous_strides(strides: list[int], output_stride: int | None) -> list[tuple[int, int]]:
    """Each layer's ``(stride, atrous rate)`` under slim's ``output_stride`` (the MobileNets').

    Layers keep their strides until the product of the strides so far reaches
    ``output_stride``; from there on they run with stride 1, and the strides they skip become
    the atrous rate of the layers after them, so that the feature map stays denser.
    """
    current_stride = 1
    rate = 1
    schedule = []
    for stride in strides:
        if output_stride is not None and current_stride == output_stride:
            schedule.append((1, rate))
            rate *= stride
        else:
            schedule.append((stride, 1))
            current_stride *= stride
    return schedule


def conv2d_logits(net, num_classes: int, **kwargs):
    """The MobileNets' classifier: the linear 1x1 convolution ``Conv2d_1c_1x1`` (no batch norm)."""
    return layers.conv2d(
        net,
        num_classes,
        [1, 1],
        activation_fn=None,
        normalizer_fn=None,
        scope="Conv2d_1c_1x1",
        **kwargs,
    )
