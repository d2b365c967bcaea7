"""What the mobile families share: the layout and batch-norm helpers, and slim's variants.

The layout, padding and batch-norm helpers are every family's, so they live in mox-core
(:mod:`mox_core.nets.net_utils`) and are named here for the modules of this plugin; this plugin
needs mox-core only, not mox-nets-classic.
"""

from __future__ import annotations

import functools

from mox_core.nets.net_utils import (  # noqa: F401  (the plugin's modules use them as _ops.*)
    NCHW,
    NHWC,
    RENORM_CLIPPING,
    batch_norm_params,
    channel_axis,
    depth,
    fixed_padding,
    layout_arg_scope,
    reduced_kernel_size,
    spatial_axes,
    spatial_shape,
    spatial_squeeze,
    to_data_format,
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
