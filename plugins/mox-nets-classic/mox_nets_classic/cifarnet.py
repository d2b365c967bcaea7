"""CifarNet as in TF-Slim's ``nets/cifarnet.py``: same layers, LRN, initializers and end points.

Two 5x5 SAME convolutions of 64 filters with 2x2/2 max pooling and local response
normalization (pool -> LRN after conv1, LRN -> pool after conv2), fully connected layers of 384
and 192 units with dropout between them, and the ``logits`` layer; variables under
``CifarNet/`` so a TF-Slim CifarNet checkpoint loads. ``cifarnet_arg_scope(weight_decay)`` is
slim's: truncated normal weights (stddev 5e-2 conv, 0.04 fully connected, 1/192 logits), biases
0.1 on the fully connected layers and 0 on the logits, L2 weight decay on the fully connected
layers only (not the convolutions, not the logits). Slim defaults ``weight_decay`` to 0.004;
here it comes from ``get_model_fn``.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_core.nets.initializers import trunc_normal

tf1 = tf.compat.v1


def cifarnet_arg_scope(weight_decay: float = 0.004) -> dict:
    """TF-Slim's ``cifarnet_arg_scope``: ReLU, truncated normal weights, L2 decay on the fully
    connected layers."""
    with layers.arg_scope(
        [layers.conv2d],
        weights_initializer=trunc_normal(5e-2),
        activation_fn=tf.nn.relu,
    ):
        with layers.arg_scope(
            [layers.fully_connected],
            biases_initializer=tf1.constant_initializer(0.1),
            weights_initializer=trunc_normal(0.04),
            weights_regularizer=layers.l2_regularizer(weight_decay),
            activation_fn=tf.nn.relu,
        ) as sc:
            return sc


def _lrn(net: tf.Tensor, data_format: str, name: str) -> tf.Tensor:
    """Slim's ``tf.nn.lrn(net, 4, bias=1.0, alpha=0.001/9.0, beta=0.75)``, on the channel axis.

    ``tf.nn.lrn`` normalizes across the last axis only, so NCHW goes through NHWC.
    """
    net = net_utils.to_nhwc(net, data_format)
    net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name=name)
    return net_utils.to_data_format(net, data_format)


def cifarnet(
    images: tf.Tensor,
    num_classes: int = 10,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.5,
    prediction_fn: Callable = layers.softmax,
    scope: str = "CifarNet",
):
    """Build CifarNet on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    With ``data_format='NCHW'`` the convolutions and pools run in NCHW (their end points are
    NCHW) and the flatten reads NHWC order, so ``fc3`` holds the same weights in both layouts.
    """
    data_format = net_utils.current_data_format()
    end_points = {}
    with tf1.variable_scope(scope, "CifarNet", [images]):
        net = end_points["conv1"] = layers.conv2d(images, 64, [5, 5], scope="conv1")
        net = end_points["pool1"] = layers.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = _lrn(net, data_format, name="norm1")
        net = end_points["conv2"] = layers.conv2d(net, 64, [5, 5], scope="conv2")
        net = _lrn(net, data_format, name="norm2")
        net = end_points["pool2"] = layers.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = end_points["Flatten"] = layers.flatten(net_utils.to_nhwc(net, data_format))
        net = end_points["fc3"] = layers.fully_connected(net, 384, scope="fc3")
        net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout3")
        net = end_points["fc4"] = layers.fully_connected(net, 192, scope="fc4")
        logits = end_points["Logits"] = layers.fully_connected(
            net,
            num_classes,
            biases_initializer=tf1.zeros_initializer(),
            weights_initializer=trunc_normal(1 / 192.0),
            weights_regularizer=None,
            activation_fn=None,
            scope="logits",
        )
        end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points
