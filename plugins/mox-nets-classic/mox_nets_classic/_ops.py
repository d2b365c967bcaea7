"""The layout helpers the classic families use, from mox-core.

Where an NHWC-only TF-Slim network writes ``axis=3`` or ``[1, 2]``, the ported code asks for
:func:`channel_axis` or :func:`spatial_axes`, so one definition serves both layouts with the
same variables and the same numbers. They are every family's (the mobile plugin's too), so
they live in :mod:`mox_core.nets.net_utils`; this module names them for the classic families.
"""

from mox_core.nets.net_utils import (  # noqa: F401  (the family modules use them as _ops.*)
    NCHW,
    NHWC,
    channel_axis,
    global_average_pool,
    reduced_kernel_size,
    spatial_axes,
    spatial_shape,
    spatial_squeeze,
    to_data_format,
    to_nhwc,
)
