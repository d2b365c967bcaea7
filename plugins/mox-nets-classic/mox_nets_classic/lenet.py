"""LeNet as in TF-Slim's ``nets/lenet.py``: same layers, initializers, scopes and end points.

Two 5x5 SAME convolutions (32, 64 filters) each followed by 2x2/2 max pooling, a 1024-unit
fully connected layer, dropout, and the logits layer ``fc4``; variables under ``LeNet/`` so a
TF-Slim LeNet checkpoint loads. ``lenet_arg_scope(weight_decay)`` is slim's: truncated normal
(stddev 0.1) weights and L2 weight decay on every layer, logits included.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_core.nets.initializers import trunc_normal

tf1 = tf.compat.v1


def lenet_arg_scope(weight_decay: float = 0.0) -> dict:
    """TF-Slim's ``lenet_arg_scope``: truncated normal weights, L2 decay, ReLU."""
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        weights_regularizer=layers.l2_regularizer(weight_decay),
        weights_initializer=trunc_normal(0.1),
        activation_fn=tf.nn.relu,
    ) as sc:
        return sc


def lenet(
    images: tf.Tensor,
    num_classes: int = 10,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.5,
    prediction_fn: Callable = layers.softmax,
    scope: str = "LeNet",
):
    """Build LeNet on ``images`` (in the arg scope's layout); returns ``(logits, end_points)``.

    With ``data_format='NCHW'`` the convolutions and pools run in NCHW (their end points are
    NCHW) and the flatten reads NHWC order, so ``fc3`` holds the same weights in both layouts.
    """
    data_format = net_utils.current_data_format()
    end_points = {}
    with tf1.variable_scope(scope, "LeNet", [images]):
        net = end_points["conv1"] = layers.conv2d(images, 32, [5, 5], scope="conv1")
        net = end_points["pool1"] = layers.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = end_points["conv2"] = layers.conv2d(net, 64, [5, 5], scope="conv2")
        net = end_points["pool2"] = layers.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = end_points["Flatten"] = layers.flatten(net_utils.to_nhwc(net, data_format))
        net = end_points["fc3"] = layers.fully_connected(net, 1024, scope="fc3")
        net = end_points["dropout3"] = layers.dropout(
            net, dropout_keep_prob, is_training=is_training, scope="dropout3"
        )
        logits = end_points["Logits"] = layers.fully_connected(
            net, num_classes, activation_fn=None, scope="fc4"
        )
    end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points
