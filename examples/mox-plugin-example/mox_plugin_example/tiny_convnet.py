"""``tiny_convnet``: a network small enough to train in seconds on a CPU.

Two 3x3 convolutions with batch normalization and 2x2 max pooling, global average pooling,
dropout and a fully connected ``logits`` layer, built with mox's slim-like layers
(``mox_core.nets.layers``) so the variables have TF-Slim's names
(``TinyConvNet/conv1/weights``, ``TinyConvNet/conv1/BatchNorm/moving_mean``, ...).
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers

tf1 = tf.compat.v1


def tiny_convnet(
    images: tf.Tensor,
    num_classes: int,
    *,
    is_training: bool,
    weight_decay: float = 0.0,
    data_format: str = "NHWC",
    batch_norm_fused: bool = False,
    batch_renorm: bool = False,
    width: int = 16,
    dropout_keep_prob: float = 0.8,
    scope: str = "TinyConvNet",
):
    """Build the network on an NHWC float batch; returns ``(logits, end_points)``.

    The arguments up to ``batch_renorm`` are mox's network contract (``get_model_fn`` passes
    them); ``width`` (channels of the first convolution), ``dropout_keep_prob`` and ``scope``
    are this network's own, given as ``get_model_fn(..., width=8)``.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"tiny_convnet: width must be a positive int, got {width!r}")
    batch_norm_params = {
        "is_training": is_training,
        "scale": True,
        "fused": batch_norm_fused,
        "renorm": batch_renorm,
        "data_format": data_format,
    }
    spatial_axes = [1, 2] if data_format == "NHWC" else [2, 3]
    end_points = {}
    with layers.arg_scope(
        [layers.conv2d],
        normalizer_fn=layers.batch_norm,
        normalizer_params=batch_norm_params,
        weights_regularizer=layers.l2_regularizer(weight_decay),
    ), layers.arg_scope([layers.conv2d, layers.max_pool2d], data_format=data_format):
        with tf1.variable_scope(scope, "TinyConvNet", [images]):
            net = images if data_format == "NHWC" else tf.transpose(images, [0, 3, 1, 2])
            net = end_points["conv1"] = layers.conv2d(net, width, [3, 3], scope="conv1")
            net = end_points["pool1"] = layers.max_pool2d(net, [2, 2], 2, scope="pool1")
            net = end_points["conv2"] = layers.conv2d(net, 2 * width, [3, 3], scope="conv2")
            net = end_points["pool2"] = layers.max_pool2d(net, [2, 2], 2, scope="pool2")
            net = end_points["global_pool"] = tf.reduce_mean(net, spatial_axes, name="global_pool")
            net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout")
            logits = end_points["Logits"] = layers.fully_connected(
                net,
                num_classes,
                activation_fn=None,
                weights_regularizer=layers.l2_regularizer(weight_decay),
                scope="logits",
            )
        end_points["Predictions"] = layers.softmax(logits, scope="Predictions")
    return logits, end_points


tiny_convnet.default_image_size = 32
