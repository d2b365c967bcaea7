"""Inception-ResNet v2 (Szegedy et al., 2016) as in TF-Slim's ``nets/inception_resnet_v2.py``.

A VALID stem (299 -> 35x35x192) and ``Mixed_5b`` (35x35x320), then residual Inception blocks:
ten 35x35 ``block35`` (scale 0.17), the ``Mixed_6a`` reduction to 17x17x1088, twenty 17x17
``block17`` (scale 0.10), the ``Mixed_7a`` reduction to 8x8x2080, nine 8x8 ``block8`` (scale
0.20) plus a last one without activation, and ``Conv2d_7b_1x1`` (1536). Each residual block
adds its branches' 1x1 projection (``Conv2d_1x1``: biases, no batch norm, no activation),
scaled, to its input. The blocks sit in ``Repeat``, ``Repeat_1``, ``Repeat_2`` scopes as
``slim.repeat`` names them. The head averages the 8x8 map, flattens, applies dropout (keep
0.8) and ends in the fully connected ``Logits/Logits``; the auxiliary head on the 17x17 map
(``PreAuxLogits``) is built in every mode, as slim does. Slim's own arg scope: batch norm
(decay 0.9997, epsilon 0.001, no gamma) and L2 decay on weights *and* biases.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_core.nets.net_utils import batch_norm_params
from mox_nets_classic.inception_utils import aux_logits, flat_logits

tf1 = tf.compat.v1


def _residual(net, mixed, scale: float, activation_fn, data_format: str):
    """``activation_fn(net + scale * Conv2d_1x1(mixed))``: the end of every residual block."""
    channels = net.shape[net_utils.channel_axis(data_format)]
    up = layers.conv2d(
        mixed, channels, 1, normalizer_fn=None, activation_fn=None, scope="Conv2d_1x1"
    )
    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
        # Clip to simulate a band-pass activation, as slim does for relu6.
        scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
    net += scaled_up
    if activation_fn:
        net = activation_fn(net)
    return net


def block35(net, scale=1.0, activation_fn=tf.nn.relu, data_format="NHWC", scope=None, reuse=None):
    """The 35x35 residual block: 1x1, 1x1 -> 3x3, 1x1 -> 3x3 -> 3x3 branches."""
    with tf1.variable_scope(scope, "Block35", [net], reuse=reuse):
        with tf1.variable_scope("Branch_0"):
            tower_conv = layers.conv2d(net, 32, 1, scope="Conv2d_1x1")
        with tf1.variable_scope("Branch_1"):
            tower_conv1_0 = layers.conv2d(net, 32, 1, scope="Conv2d_0a_1x1")
            tower_conv1_1 = layers.conv2d(tower_conv1_0, 32, 3, scope="Conv2d_0b_3x3")
        with tf1.variable_scope("Branch_2"):
            tower_conv2_0 = layers.conv2d(net, 32, 1, scope="Conv2d_0a_1x1")
            tower_conv2_1 = layers.conv2d(tower_conv2_0, 48, 3, scope="Conv2d_0b_3x3")
            tower_conv2_2 = layers.conv2d(tower_conv2_1, 64, 3, scope="Conv2d_0c_3x3")
        mixed = net_utils.concat_channels([tower_conv, tower_conv1_1, tower_conv2_2], data_format)
        return _residual(net, mixed, scale, activation_fn, data_format)


def block17(net, scale=1.0, activation_fn=tf.nn.relu, data_format="NHWC", scope=None, reuse=None):
    """The 17x17 residual block: 1x1 and 1x1 -> 1x7 -> 7x1 branches."""
    with tf1.variable_scope(scope, "Block17", [net], reuse=reuse):
        with tf1.variable_scope("Branch_0"):
            tower_conv = layers.conv2d(net, 192, 1, scope="Conv2d_1x1")
        with tf1.variable_scope("Branch_1"):
            tower_conv1_0 = layers.conv2d(net, 128, 1, scope="Conv2d_0a_1x1")
            tower_conv1_1 = layers.conv2d(tower_conv1_0, 160, [1, 7], scope="Conv2d_0b_1x7")
            tower_conv1_2 = layers.conv2d(tower_conv1_1, 192, [7, 1], scope="Conv2d_0c_7x1")
        mixed = net_utils.concat_channels([tower_conv, tower_conv1_2], data_format)
        return _residual(net, mixed, scale, activation_fn, data_format)


def block8(net, scale=1.0, activation_fn=tf.nn.relu, data_format="NHWC", scope=None, reuse=None):
    """The 8x8 residual block: 1x1 and 1x1 -> 1x3 -> 3x1 branches."""
    with tf1.variable_scope(scope, "Block8", [net], reuse=reuse):
        with tf1.variable_scope("Branch_0"):
            tower_conv = layers.conv2d(net, 192, 1, scope="Conv2d_1x1")
        with tf1.variable_scope("Branch_1"):
            tower_conv1_0 = layers.conv2d(net, 192, 1, scope="Conv2d_0a_1x1")
            tower_conv1_1 = layers.conv2d(tower_conv1_0, 224, [1, 3], scope="Conv2d_0b_1x3")
            tower_conv1_2 = layers.conv2d(tower_conv1_1, 256, [3, 1], scope="Conv2d_0c_3x1")
        mixed = net_utils.concat_channels([tower_conv, tower_conv1_2], data_format)
        return _residual(net, mixed, scale, activation_fn, data_format)


def inception_resnet_v2_base(
    net: tf.Tensor,
    data_format: str = "NHWC",
    scope: str = "InceptionResnetV2",
    activation_fn: Callable = tf.nn.relu,
):
    """The network up to ``Conv2d_7b_1x1`` on a ``data_format`` tensor: ``(net, end_points)``.

    TF-Slim's defaults: output stride 16 and VALID reductions (``align_feature_maps=False``).
    """
    end_points = {}
    padding = "VALID"
    with tf1.variable_scope(scope, "InceptionResnetV2", [net]):
        with layers.arg_scope(
            [layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"
        ):
            # 299 x 299 x 3 -> 35 x 35 x 192
            net = end_points["Conv2d_1a_3x3"] = layers.conv2d(
                net, 32, 3, stride=2, padding=padding, scope="Conv2d_1a_3x3"
            )
            net = end_points["Conv2d_2a_3x3"] = layers.conv2d(
                net, 32, 3, padding=padding, scope="Conv2d_2a_3x3"
            )
            net = end_points["Conv2d_2b_3x3"] = layers.conv2d(net, 64, 3, scope="Conv2d_2b_3x3")
            net = end_points["MaxPool_3a_3x3"] = layers.max_pool2d(
                net, 3, stride=2, padding=padding, scope="MaxPool_3a_3x3"
            )
            net = end_points["Conv2d_3b_1x1"] = layers.conv2d(
                net, 80, 1, padding=padding, scope="Conv2d_3b_1x1"
            )
            net = end_points["Conv2d_4a_3x3"] = layers.conv2d(
                net, 192, 3, padding=padding, scope="Conv2d_4a_3x3"
            )
            net = end_points["MaxPool_5a_3x3"] = layers.max_pool2d(
                net, 3, stride=2, padding=padding, scope="MaxPool_5a_3x3"
            )

            # 35 x 35 x 320
            with tf1.variable_scope("Mixed_5b"):
                with tf1.variable_scope("Branch_0"):
                    tower_conv = layers.conv2d(net, 96, 1, scope="Conv2d_1x1")
                with tf1.variable_scope("Branch_1"):
                    tower_conv1_0 = layers.conv2d(net, 48, 1, scope="Conv2d_0a_1x1")
                    tower_conv1_1 = layers.conv2d(tower_conv1_0, 64, 5, scope="Conv2d_0b_5x5")
                with tf1.variable_scope("Branch_2"):
                    tower_conv2_0 = layers.conv2d(net, 64, 1, scope="Conv2d_0a_1x1")
                    tower_conv2_1 = layers.conv2d(tower_conv2_0, 96, 3, scope="Conv2d_0b_3x3")
                    tower_conv2_2 = layers.conv2d(tower_conv2_1, 96, 3, scope="Conv2d_0c_3x3")
                with tf1.variable_scope("Branch_3"):
                    tower_pool = layers.avg_pool2d(
                        net, 3, stride=1, padding="SAME", scope="AvgPool_0a_3x3"
                    )
                    tower_pool_1 = layers.conv2d(tower_pool, 64, 1, scope="Conv2d_0b_1x1")
                net = end_points["Mixed_5b"] = net_utils.concat_channels(
                    [tower_conv, tower_conv1_1, tower_conv2_2, tower_pool_1], data_format
                )

            net = layers.repeat(
                net,
                10,
                block35,
                scale=0.17,
                activation_fn=activation_fn,
                data_format=data_format,
            )

            # 35 x 35 x 320 -> 17 x 17 x 1088
            with tf1.variable_scope("Mixed_6a"):
                with tf1.variable_scope("Branch_0"):
                    tower_conv = layers.conv2d(
                        net, 384, 3, stride=2, padding=padding, scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_1"):
                    tower_conv1_0 = layers.conv2d(net, 256, 1, scope="Conv2d_0a_1x1")
                    tower_conv1_1 = layers.conv2d(tower_conv1_0, 256, 3, scope="Conv2d_0b_3x3")
                    tower_conv1_2 = layers.conv2d(
                        tower_conv1_1, 384, 3, stride=2, padding=padding, scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_2"):
                    tower_pool = layers.max_pool2d(
                        net, 3, stride=2, padding=padding, scope="MaxPool_1a_3x3"
                    )
                net = end_points["Mixed_6a"] = net_utils.concat_channels(
                    [tower_conv, tower_conv1_2, tower_pool], data_format
                )

            net = layers.repeat(
                net,
                20,
                block17,
                scale=0.10,
                activation_fn=activation_fn,
                data_format=data_format,
            )
            end_points["PreAuxLogits"] = net

            # 17 x 17 x 1088 -> 8 x 8 x 2080
            with tf1.variable_scope("Mixed_7a"):
                with tf1.variable_scope("Branch_0"):
                    tower_conv = layers.conv2d(net, 256, 1, scope="Conv2d_0a_1x1")
                    tower_conv_1 = layers.conv2d(
                        tower_conv, 384, 3, stride=2, padding=padding, scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_1"):
                    tower_conv1 = layers.conv2d(net, 256, 1, scope="Conv2d_0a_1x1")
                    tower_conv1_1 = layers.conv2d(
                        tower_conv1, 288, 3, stride=2, padding=padding, scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_2"):
                    tower_conv2 = layers.conv2d(net, 256, 1, scope="Conv2d_0a_1x1")
                    tower_conv2_1 = layers.conv2d(tower_conv2, 288, 3, scope="Conv2d_0b_3x3")
                    tower_conv2_2 = layers.conv2d(
                        tower_conv2_1, 320, 3, stride=2, padding=padding, scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_3"):
                    tower_pool = layers.max_pool2d(
                        net, 3, stride=2, padding=padding, scope="MaxPool_1a_3x3"
                    )
                net = end_points["Mixed_7a"] = net_utils.concat_channels(
                    [tower_conv_1, tower_conv1_1, tower_conv2_2, tower_pool], data_format
                )

            net = layers.repeat(
                net,
                9,
                block8,
                scale=0.20,
                activation_fn=activation_fn,
                data_format=data_format,
            )
            net = block8(net, activation_fn=None, data_format=data_format)

            # 8 x 8 x 1536
            net = end_points["Conv2d_7b_1x1"] = layers.conv2d(net, 1536, 1, scope="Conv2d_7b_1x1")
    return net, end_points


def inception_resnet_v2_arg_scope(
    weight_decay: float = 0.00004,
    batch_norm_decay: float = 0.9997,
    batch_norm_epsilon: float = 0.001,
    activation_fn: Callable = tf.nn.relu,
    batch_norm_updates_collections: str | None = tf1.GraphKeys.UPDATE_OPS,
    batch_norm_scale: bool = False,
) -> dict:
    """TF-Slim's ``inception_resnet_v2_arg_scope``: batch norm, L2 decay on weights and biases."""
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        weights_regularizer=layers.l2_regularizer(weight_decay),
        biases_regularizer=layers.l2_regularizer(weight_decay),
    ):
        with layers.arg_scope(
            [layers.conv2d],
            activation_fn=activation_fn,
            normalizer_fn=layers.batch_norm,
            normalizer_params=batch_norm_params(
                batch_norm_decay,
                batch_norm_epsilon,
                scale=batch_norm_scale,
                updates_collections=batch_norm_updates_collections,
            ),
        ) as sc:
            return sc


def inception_resnet_v2(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.8,
    create_aux_logits: bool = True,
    activation_fn: Callable = tf.nn.relu,
    scope: str = "InceptionResnetV2",
):
    """Build Inception-ResNet v2 on ``images`` (in the arg scope's layout); returns
    ``(logits, end_points)``.

    End points are keyed as slim's (``Mixed_6a``, ``PreAuxLogits``, ``AuxLogits``,
    ``global_pool``, ``PreLogitsFlatten``, ``Logits``, ``Predictions``, ...) and hold tensors in
    the layers' layout. The smallest input is 107x107 (the 17x17 map must hold the auxiliary
    head's 5x5 pool), 75x75 with ``create_aux_logits=False``, which leaves that head and its
    variables out. ``activation_fn`` is the blocks' (the arg scope's is slim's ReLU).
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "InceptionResnetV2", [images]) as sc:
        net, end_points = inception_resnet_v2_base(
            images, data_format, scope=sc, activation_fn=activation_fn
        )
        if create_aux_logits:
            with tf1.variable_scope("AuxLogits"):
                end_points["AuxLogits"] = aux_logits(
                    end_points["PreAuxLogits"], num_classes, data_format,
                    pool_scope="Conv2d_1a_3x3", conv_scope="Conv2d_2a_5x5", logits_scope="Logits",
                )  # fmt: skip
        with tf1.variable_scope("Logits"):
            logits = flat_logits(
                net, num_classes, end_points, data_format, pool_scope="AvgPool_1a_8x8",
                dropout_keep_prob=dropout_keep_prob, dropout_scope="Dropout",
            )  # fmt: skip
    return logits, end_points
