"""What the Inception networks share: TF-Slim's ``inception_arg_scope`` and two heads.

:func:`inception_arg_scope`: every convolution is followed by batch normalization (no conv
biases; beta only, no gamma, moving averages with decay 0.9997 and epsilon 0.001) and ReLU;
weights are He-initialized and L2-regularized. ``get_model_fn`` enters this scope with its ``weight_decay`` and adds the run's
options (layout, ``is_training``, fused kernel, batch renormalization) on top.

:func:`aux_logits` and :func:`flat_logits` are the auxiliary and the main classifier of
Inception v4 and Inception-ResNet v2 (v1-v3 end in :mod:`mox_core.nets.heads`' pooled 1x1
convolution instead); the two TF-Slim files give their layers different scope names, which the
arguments keep.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_core.nets.initializers import variance_scaling
from mox_core.nets.net_utils import batch_norm_params

tf1 = tf.compat.v1


def inception_arg_scope(
    weight_decay: float = 0.00004,
    use_batch_norm: bool = True,
    batch_norm_decay: float = 0.9997,
    batch_norm_epsilon: float = 0.001,
    activation_fn: Callable = tf.nn.relu,
    batch_norm_updates_collections: str | None = tf1.GraphKeys.UPDATE_OPS,
    batch_norm_scale: bool = False,
) -> dict:
    """TF-Slim's ``inception_arg_scope``."""
    normalizer_fn = layers.batch_norm if use_batch_norm else None
    normalizer_params = {}
    if use_batch_norm:
        normalizer_params = batch_norm_params(
            batch_norm_decay,
            batch_norm_epsilon,
            scale=batch_norm_scale,
            updates_collections=batch_norm_updates_collections,
        )
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        weights_regularizer=layers.l2_regularizer(weight_decay),
    ):
        with layers.arg_scope(
            [layers.conv2d],
            weights_initializer=variance_scaling(),
            activation_fn=activation_fn,
            normalizer_fn=normalizer_fn,
            normalizer_params=normalizer_params,
        ) as sc:
            return sc


def aux_logits(
    net: tf.Tensor, num_classes: int, data_format: str, *, pool_scope: str, conv_scope: str,
    logits_scope: str,
) -> tf.Tensor:  # fmt: skip
    """The auxiliary classifier on the 17x17 map: 5x5/3 average pool, 1x1 convolution (128),
    a convolution over the whole map (768), fully connected logits."""
    aux = layers.avg_pool2d(net, [5, 5], stride=3, padding="VALID", scope=pool_scope)
    aux = layers.conv2d(aux, 128, [1, 1], scope="Conv2d_1b_1x1")
    aux = layers.conv2d(
        aux, 768, net_utils.spatial_shape(aux, data_format), padding="VALID", scope=conv_scope
    )
    aux = layers.flatten(aux)
    return layers.fully_connected(aux, num_classes, activation_fn=None, scope=logits_scope)


def flat_logits(
    net: tf.Tensor, num_classes: int, end_points: dict, data_format: str, *, pool_scope: str,
    dropout_keep_prob: float, dropout_scope: str,
) -> tf.Tensor:  # fmt: skip
    """The main classifier: average pool over the whole map (global when its size is not
    static), dropout, flatten, fully connected ``Logits``; adds ``global_pool``,
    ``PreLogitsFlatten``, ``Logits`` and ``Predictions`` to ``end_points``."""
    kernel_size = net_utils.spatial_shape(net, data_format)
    if None not in kernel_size:
        net = layers.avg_pool2d(net, kernel_size, padding="VALID", scope=pool_scope)
    else:
        net = net_utils.global_average_pool(net, data_format, name="global_pool")
    end_points["global_pool"] = net
    net = layers.dropout(net, dropout_keep_prob, scope=dropout_scope)
    net = end_points["PreLogitsFlatten"] = layers.flatten(net, scope="PreLogitsFlatten")
    logits = end_points["Logits"] = layers.fully_connected(
        net, num_classes, activation_fn=None, scope="Logits"
    )
    end_points["Predictions"] = tf.nn.softmax(logits, name="Predictions")
    return logits
