"""A small TF-Slim-like layer module for the networks (``conv2d``, ``fully_connected``, pools, ...).

TensorFlow 2.16+ ships Keras 3, so neither ``tf.compat.v1.layers`` nor tf-slim works any more.
These layers are plain functions on ``tf.compat.v1.get_variable``, ``variable_scope`` and
``tf.nn`` that create exactly the variables TF-Slim creates (``<scope>/weights``,
``<scope>/biases``, ``BatchNorm/gamma|beta|moving_mean|moving_variance``, with slim's default
scope names), so the public TF-Slim checkpoints load into networks built with them. Callers use
this package as one module, as TF-Slim's ``slim.conv2d``: ``from mox_core.nets import layers``,
``layers.conv2d(...)``. Inside, one module per idea:

- :mod:`.arg_scope`: ``arg_scope`` / ``add_arg_scope``, default arguments per layer function;
- :mod:`.layers`: the convolutions, ``fully_connected``, pools, ``dropout``, ``flatten``,
  ``softmax``, ``repeat`` and ``stack``;
- :mod:`.normalization`: ``batch_norm`` (fused or not, batch renormalization);
- :mod:`.utils`: what they are all built from: data formats, argument checks, model variables,
  ``l2_regularizer`` and the ``end_points`` collections.
"""

from mox_core.nets.layers.arg_scope import (
    add_arg_scope,
    arg_scope,
    current_arg_scope,
    has_arg_scope,
)
from mox_core.nets.layers.layers import (
    avg_pool2d,
    conv2d,
    dropout,
    flatten,
    fully_connected,
    max_pool2d,
    repeat,
    separable_conv2d,
    softmax,
    stack,
)
from mox_core.nets.layers.normalization import batch_norm
from mox_core.nets.layers.utils import (
    NCHW,
    NHWC,
    collect_named_outputs,
    convert_collection_to_dict,
    l2_regularizer,
)

__all__ = [
    "NCHW",
    "NHWC",
    "add_arg_scope",
    "arg_scope",
    "avg_pool2d",
    "batch_norm",
    "collect_named_outputs",
    "conv2d",
    "convert_collection_to_dict",
    "current_arg_scope",
    "dropout",
    "flatten",
    "fully_connected",
    "has_arg_scope",
    "l2_regularizer",
    "max_pool2d",
    "repeat",
    "separable_conv2d",
    "softmax",
    "stack",
]
