"""Inception v2 (BN-Inception, Ioffe & Szegedy, 2015) as in TF-Slim's ``nets/inception_v2.py``.

The stem starts with a 7x7/2 separable convolution (depthwise multiplier 8, with biases and no
batch norm: slim's Inception arg scope normalizes ``conv2d`` only), then 3x3/2 max pool, 1x1
and 3x3 convolutions, 3x3/2 max pool. Ten mixed blocks follow: Inception modules whose 5x5
branch is two 3x3 convolutions and whose pool branch averages (max in ``Mixed_5c``), and the
grid reductions ``Mixed_4a`` / ``Mixed_5a`` (stride-2 branches and a max pool). Then a 7x7
average pool (smaller for small inputs), dropout (keep 0.8) and the 1x1
``Logits/Conv2d_1c_1x1`` convolution. ``depth_multiplier`` / ``min_depth`` thin every layer
as slim's do. Names and initializers are slim's, so its checkpoint loads.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import trunc_normal

tf1 = tf.compat.v1

# Inception module -> (1x1, (3x3 reduce, 3x3), (double-3x3 reduce, 3x3, 3x3), (pool, proj)).
_MODULES = {
    "Mixed_3b": (64, (64, 64), (64, 96, 96), ("avg", 32)),
    "Mixed_3c": (64, (64, 96), (64, 96, 96), ("avg", 64)),
    "Mixed_4b": (224, (64, 96), (96, 128, 128), ("avg", 128)),
    "Mixed_4c": (192, (96, 128), (96, 128, 128), ("avg", 128)),
    "Mixed_4d": (160, (128, 160), (128, 160, 160), ("avg", 96)),
    "Mixed_4e": (96, (128, 192), (160, 192, 192), ("avg", 96)),
    "Mixed_5b": (352, (192, 320), (160, 224, 224), ("avg", 128)),
    "Mixed_5c": (352, (192, 320), (192, 224, 224), ("max", 128)),
}
# Grid reduction -> ((reduce, 3x3/2), (reduce, 3x3, 3x3/2)); the third branch is a max pool.
_REDUCTIONS = {
    "Mixed_4a": ((128, 160), (64, 96, 96)),
    "Mixed_5a": ((128, 192), (192, 256, 256)),
}
_ORDER = (
    "Mixed_3b",
    "Mixed_3c",
    "Mixed_4a",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_5a",
    "Mixed_5b",
    "Mixed_5c",
)


def _inception_module(net, end_point: str, depth: Callable, data_format: str) -> tf.Tensor:
    depth_0, (reduce_1, depth_1), (reduce_2, depth_2a, depth_2b), (pool, depth_3) = _MODULES[
        end_point
    ]
    with tf1.variable_scope(end_point):
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, depth(depth_0), [1, 1], scope="Conv2d_0a_1x1")
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(
                net,
                depth(reduce_1),
                [1, 1],
                weights_initializer=trunc_normal(0.09),
                scope="Conv2d_0a_1x1",
            )
            branch_1 = layers.conv2d(branch_1, depth(depth_1), [3, 3], scope="Conv2d_0b_3x3")
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.conv2d(
                net,
                depth(reduce_2),
                [1, 1],
                weights_initializer=trunc_normal(0.09),
                scope="Conv2d_0a_1x1",
            )
            branch_2 = layers.conv2d(branch_2, depth(depth_2a), [3, 3], scope="Conv2d_0b_3x3")
            branch_2 = layers.conv2d(branch_2, depth(depth_2b), [3, 3], scope="Conv2d_0c_3x3")
        with tf1.variable_scope("Branch_3"):
            if pool == "max":
                branch_3 = layers.max_pool2d(net, [3, 3], scope="MaxPool_0a_3x3")
            else:
                branch_3 = layers.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
            branch_3 = layers.conv2d(
                branch_3,
                depth(depth_3),
                [1, 1],
                weights_initializer=trunc_normal(0.1),
                scope="Conv2d_0b_1x1",
            )
        return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def _grid_reduction(net, end_point: str, depth: Callable, data_format: str) -> tf.Tensor:
    (reduce_0, depth_0), (reduce_1, depth_1a, depth_1b) = _REDUCTIONS[end_point]
    with tf1.variable_scope(end_point):
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(
                net,
                depth(reduce_0),
                [1, 1],
                weights_initializer=trunc_normal(0.09),
                scope="Conv2d_0a_1x1",
            )
            branch_0 = layers.conv2d(
                branch_0, depth(depth_0), [3, 3], stride=2, scope="Conv2d_1a_3x3"
            )
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(
                net,
                depth(reduce_1),
                [1, 1],
                weights_initializer=trunc_normal(0.09),
                scope="Conv2d_0a_1x1",
            )
            branch_1 = layers.conv2d(branch_1, depth(depth_1a), [3, 3], scope="Conv2d_0b_3x3")
            branch_1 = layers.conv2d(
                branch_1, depth(depth_1b), [3, 3], stride=2, scope="Conv2d_1a_3x3"
            )
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.max_pool2d(net, [3, 3], stride=2, scope="MaxPool_1a_3x3")
        return net_utils.concat_channels([branch_0, branch_1, branch_2], data_format)


def inception_v2_base(
    net: tf.Tensor,
    min_depth: int = 16,
    depth_multiplier: float = 1.0,
    data_format: str = "NHWC",
    scope: str = "InceptionV2",
):
    """The network up to ``Mixed_5c`` on a ``data_format`` tensor: ``(net, end_points)``."""
    depth = net_utils.depth_fn(depth_multiplier, min_depth)
    end_points = {}
    with tf1.variable_scope(scope, "InceptionV2", [net]):
        with layers.arg_scope(
            [layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"
        ):
            # The depthwise stage may not have more outputs than the pointwise one has.
            depthwise_multiplier = min(int(depth(64) / 3), 8)
            net = end_points["Conv2d_1a_7x7"] = layers.separable_conv2d(
                net,
                depth(64),
                [7, 7],
                depth_multiplier=depthwise_multiplier,
                stride=2,
                padding="SAME",
                weights_initializer=trunc_normal(1.0),
                scope="Conv2d_1a_7x7",
            )
            net = end_points["MaxPool_2a_3x3"] = layers.max_pool2d(
                net, [3, 3], stride=2, scope="MaxPool_2a_3x3"
            )
            net = end_points["Conv2d_2b_1x1"] = layers.conv2d(
                net,
                depth(64),
                [1, 1],
                weights_initializer=trunc_normal(0.1),
                scope="Conv2d_2b_1x1",
            )
            net = end_points["Conv2d_2c_3x3"] = layers.conv2d(
                net, depth(192), [3, 3], scope="Conv2d_2c_3x3"
            )
            net = end_points["MaxPool_3a_3x3"] = layers.max_pool2d(
                net, [3, 3], stride=2, scope="MaxPool_3a_3x3"
            )
            for end_point in _ORDER:
                block = _grid_reduction if end_point in _REDUCTIONS else _inception_module
                net = end_points[end_point] = block(net, end_point, depth, data_format)
    return net, end_points


def inception_v2(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.8,
    min_depth: int = 16,
    depth_multiplier: float = 1.0,
    prediction_fn: Callable = layers.softmax,
    spatial_squeeze: bool = True,
    global_pool: bool = False,
    scope: str = "InceptionV2",
):
    """Build Inception v2 on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    End points are keyed as slim's (``Mixed_4a``, ``AvgPool_1a``, ``PreLogits``, ``Logits``,
    ``Predictions``, ...) and hold tensors in the layers' layout. Any input of at least 32x32
    works: the final average pool shrinks to the feature map (``global_pool=True`` averages it
    all).
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "InceptionV2", [images]) as sc:
        net, end_points = inception_v2_base(
            images, min_depth, depth_multiplier, data_format, scope=sc
        )
        with tf1.variable_scope("Logits"):
            logits = heads.pooled_logits(
                net, num_classes, end_points, data_format, kernel_size=[7, 7],
                dropout_keep_prob=dropout_keep_prob, global_pool=global_pool,
                spatial_squeeze=spatial_squeeze,
            )  # fmt: skip
        end_points["Logits"] = logits
        end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points
