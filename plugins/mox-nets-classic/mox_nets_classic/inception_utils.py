"""What the Inception networks share: TF-Slim's ``inception_arg_scope``, plus the layout.

Every convolution is followed by batch normalization (no conv biases; beta only, no gamma,
moving averages with decay 0.9997 and epsilon 0.001) and ReLU; weights are He-initialized and
L2-regularized. ``get_model_fn``'s ``batch_norm_fused`` and ``batch_renorm`` reach every batch
norm through this scope, ``is_training`` is set by each network as slim's do (an ``arg_scope``
on ``batch_norm`` and ``dropout``), and ``data_format`` is set on every layer that has one.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers
from mox_core.nets.net_utils import batch_norm_params, layout_arg_scope

tf1 = tf.compat.v1


def trunc_normal(stddev: float):
    return tf1.truncated_normal_initializer(0.0, stddev)


def he_initializer():
    """slim's ``variance_scaling_initializer()``: truncated normal, 2 / fan_in."""
    return tf1.variance_scaling_initializer(
        scale=2.0, mode="fan_in", distribution="truncated_normal"
    )


def inception_arg_scope(
    weight_decay: float = 0.00004,
    use_batch_norm: bool = True,
    batch_norm_decay: float = 0.9997,
    batch_norm_epsilon: float = 0.001,
    activation_fn: Callable = tf.nn.relu,
    batch_norm_updates_collections: str | None = tf1.GraphKeys.UPDATE_OPS,
    batch_norm_scale: bool = False,
    *,
    batch_norm_fused: bool = False,
    batch_renorm: bool = False,
    data_format: str = "NHWC",
) -> dict:
    """TF-Slim's ``inception_arg_scope`` with ``get_model_fn``'s batch-norm switches and layout.

    Slim's ``fused=None`` (fused whenever possible) becomes ``batch_norm_fused``: the fused and
    the plain kernels compute the same normalization.
    """
    if use_batch_norm:
        normalizer_fn = layers.batch_norm
        normalizer_params = batch_norm_params(
            batch_norm_decay,
            batch_norm_epsilon,
            scale=batch_norm_scale,
            fused=batch_norm_fused,
            renorm=batch_renorm,
            updates_collections=batch_norm_updates_collections,
        )
    else:
        normalizer_fn = None
        normalizer_params = {}
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        weights_regularizer=layers.l2_regularizer(weight_decay),
    ):
        with layers.arg_scope(
            [layers.conv2d],
            weights_initializer=he_initializer(),
            activation_fn=activation_fn,
            normalizer_fn=normalizer_fn,
            normalizer_params=normalizer_params,
        ):
            with layout_arg_scope(data_format) as sc:
                return sc

