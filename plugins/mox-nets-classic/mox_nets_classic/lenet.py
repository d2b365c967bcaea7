"""LeNet as in TF-Slim's ``nets/lenet.py``: same layers, initializers, scopes and end points.

Two 5x5 SAME convolutions (32, 64 filters) each followed by 2x2/2 max pooling, a 1024-unit
fully connected layer, dropout, and the logits layer ``fc4``; variables under ``LeNet/`` so a
TF-Slim LeNet checkpoint loads. ``lenet_arg_scope(weight_decay)`` is slim's: truncated normal
(stddev 0.1) weights and L2 weight decay on every layer, logits included.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers

tf1 = tf.compat.v1


def lenet_arg_scope(weight_decay: float = 0.0, data_format: str = "NHWC") -> dict:
    """TF-Slim's ``lenet_arg_scope``, plus the data format of the convolutions and pools."""
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        weights_regularizer=layers.l2_regularizer(weight_decay),
        weights_initializer=tf1.truncated_normal_initializer(stddev=0.1),
        activation_fn=tf.nn.relu,
    ):
        with layers.arg_scope([layers.conv2d, layers.max_pool2d], data_format=data_format) as sc:
            return sc


def lenet(
    images: tf.Tensor,
    num_classes: int = 10,
    *,
    is_training: bool,
    weight_decay: float = 0.0,
    data_format: str = "NHWC",
    batch_norm_fused: bool = False,
    batch_renorm: bool = False,
    dropout_keep_prob: float = 0.5,
    prediction_fn: Callable = layers.softmax,
    scope: str = "LeNet",
):
    """Build LeNet on NHWC ``images``; returns ``(logits, end_points)``.

    ``data_format='NCHW'`` runs the convolutions and pools in NCHW (their end points are NCHW)
    and flattens in NHWC order, so ``fc3`` holds the same weights in both layouts.
    ``batch_norm_fused`` / ``batch_renorm`` are accepted for the common network contract;
    LeNet has no batch normalization.
    """
    del batch_norm_fused, batch_renorm  # no batch normalization in LeNet
    end_points = {}
    with layers.arg_scope(lenet_arg_scope(weight_decay, data_format)):
        with tf1.variable_scope(scope, "LeNet", [images]):
            net = images if data_format == "NHWC" else tf.transpose(images, [0, 3, 1, 2])
            net = end_points["conv1"] = layers.conv2d(net, 32, [5, 5], scope="conv1")
            net = end_points["pool1"] = layers.max_pool2d(net, [2, 2], 2, scope="pool1")
            net = end_points["conv2"] = layers.conv2d(net, 64, [5, 5], scope="conv2")
            net = end_points["pool2"] = layers.max_pool2d(net, [2, 2], 2, scope="pool2")
            if data_format == "NCHW":
                net = tf.transpose(net, [0, 2, 3, 1])
            net = end_points["Flatten"] = layers.flatten(net)
            net = end_points["fc3"] = layers.fully_connected(net, 1024, scope="fc3")
            net = end_points["dropout3"] = layers.dropout(
                net, dropout_keep_prob, is_training=is_training, scope="dropout3"
            )
            logits = end_points["Logits"] = layers.fully_connected(
                net, num_classes, activation_fn=None, scope="fc4"
            )
        end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


lenet.default_image_size = 28
