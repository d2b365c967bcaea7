"""TF-Slim's layers (``slim.layers``): mox's own layer module, plus ``one_hot_encoding``.

The layers themselves (``conv2d``, ``fully_connected``, ``batch_norm``, pools, ``arg_scope``,
...) are :mod:`mox_core.nets.layers`, the module mox's networks are built with, re-exported here
under TF-Slim's names so that ``slim.conv2d`` and a network from ``mox.get_model_fn`` create the
same variables (``<scope>/weights``, ``<scope>/biases``, ``BatchNorm/...``) and share one
``arg_scope`` machinery. This module adds the few layer-level names TF-Slim had that the network
module does not need: ``one_hot_encoding``, and the aliases ``convolution2d``,
``separable_convolution2d`` and ``linear``.
"""

from __future__ import annotations

import functools
from typing import Any

import tensorflow as tf

from mox_core.nets.layers import (
    add_arg_scope,
    arg_scope,
    avg_pool2d,
    batch_norm,
    collect_named_outputs,
    conv2d,
    convert_collection_to_dict,
    current_arg_scope,
    dropout,
    flatten,
    fully_connected,
    has_arg_scope,
    l2_regularizer,
    max_pool2d,
    repeat,
    separable_conv2d,
    softmax,
    stack,
)

tf1 = tf.compat.v1

__all__ = [
    "add_arg_scope",
    "arg_scope",
    "avg_pool2d",
    "batch_norm",
    "collect_named_outputs",
    "conv2d",
    "convert_collection_to_dict",
    "convolution2d",
    "current_arg_scope",
    "dropout",
    "flatten",
    "fully_connected",
    "has_arg_scope",
    "l2_regularizer",
    "linear",
    "max_pool2d",
    "one_hot_encoding",
    "repeat",
    "separable_conv2d",
    "separable_convolution2d",
    "softmax",
    "stack",
]

#: TF-Slim's long names of the same layers.
convolution2d = conv2d
separable_convolution2d = separable_conv2d

#: ``fully_connected`` without activation, as TF-Slim defines it. An ``arg_scope`` over
#: ``fully_connected`` applies to it too (it is the same function underneath).
linear = functools.partial(fully_connected, activation_fn=None)


@add_arg_scope
def one_hot_encoding(labels: Any, num_classes: int, on_value: float = 1.0,
                     off_value: float = 0.0, outputs_collections: Any = None,
                     scope: str | None = None) -> tf.Tensor:
    """One-hot ``labels`` (integers in ``[0, num_classes)``) to float32 vectors of ``num_classes``.

    As TF-Slim's: ``int32`` labels are widened to ``int64`` first, the op lives under the name
    scope ``OneHotEncoding`` (or ``scope``), and the output is added to ``outputs_collections``.
    A label of shape ``[N]`` gives ``[N, num_classes]``; a ``[N, 1]`` label (``FixedLenFeature([1])``
    batched) gives ``[N, 1, num_classes]``, exactly as TF-Slim does. Labels outside the range give
    a row of ``off_value``. Non-integer labels or a non-positive ``num_classes`` are an error here.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"one_hot_encoding: num_classes must be a positive int, got "
                         f"{num_classes!r}")
    with tf1.name_scope(scope, "OneHotEncoding", [labels]) as name:
        labels = tf.convert_to_tensor(labels)
        if not labels.dtype.is_integer:
            raise TypeError(f"one_hot_encoding: labels must be integers, got {labels.dtype.name} "
                            f"tensor {labels.name}; cast them with tf.cast(labels, tf.int64)")
        if labels.dtype == tf.int32:
            labels = tf.cast(labels, tf.int64)
        outputs = tf.one_hot(labels, num_classes, on_value=on_value, off_value=off_value)
        return collect_named_outputs(outputs_collections, name, outputs)
