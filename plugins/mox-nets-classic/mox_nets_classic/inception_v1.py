"""Inception v1 (GoogLeNet, Szegedy et al., 2014) as in TF-Slim's ``nets/inception_v1.py``.

The stem (7x7/2 convolution, 3x3/2 max pool, 1x1 and 3x3 convolutions, 3x3/2 max pool) and
nine Inception modules (``Mixed_3b`` ... ``Mixed_5c``) with max pools between the stages, all
SAME; each module concatenates a 1x1 branch, a 1x1 -> 3x3 branch, a 1x1 -> 3x3 branch (slim's
GoogLeNet uses 3x3 where the paper has 5x5) and a 3x3 max pool -> 1x1 branch. Batch norm after
every convolution (``inception_utils.inception_arg_scope``), then a 7x7 average pool, dropout
(keep 0.8) and the 1x1 ``Logits/Conv2d_0c_1x1`` convolution. No auxiliary heads, as slim's.
Variable names, including slim's ``Mixed_5b/Branch_2/Conv2d_0a_3x3``, match TF-Slim so its
checkpoint loads.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import trunc_normal

tf1 = tf.compat.v1

# Module -> (1x1, (3x3 reduce, 3x3), (second 3x3 reduce, second 3x3), pool projection).
_MODULES = {
    "Mixed_3b": (64, (96, 128), (16, 32), 32),
    "Mixed_3c": (128, (128, 192), (32, 96), 64),
    "Mixed_4b": (192, (96, 208), (16, 48), 64),
    "Mixed_4c": (160, (112, 224), (24, 64), 64),
    "Mixed_4d": (128, (128, 256), (24, 64), 64),
    "Mixed_4e": (112, (144, 288), (32, 64), 64),
    "Mixed_4f": (256, (160, 320), (32, 128), 128),
    "Mixed_5b": (256, (160, 320), (32, 128), 128),
    "Mixed_5c": (384, (192, 384), (48, 128), 128),
}


def _inception_module(net: tf.Tensor, end_point: str, data_format: str) -> tf.Tensor:
    depth_0, (reduce_1, depth_1), (reduce_2, depth_2), depth_3 = _MODULES[end_point]
    # TF-Slim names this one layer Conv2d_0a_3x3; its checkpoint keeps the name.
    name_2 = "Conv2d_0a_3x3" if end_point == "Mixed_5b" else "Conv2d_0b_3x3"
    with tf1.variable_scope(end_point):
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, depth_0, [1, 1], scope="Conv2d_0a_1x1")
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(net, reduce_1, [1, 1], scope="Conv2d_0a_1x1")
            branch_1 = layers.conv2d(branch_1, depth_1, [3, 3], scope="Conv2d_0b_3x3")
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.conv2d(net, reduce_2, [1, 1], scope="Conv2d_0a_1x1")
            branch_2 = layers.conv2d(branch_2, depth_2, [3, 3], scope=name_2)
        with tf1.variable_scope("Branch_3"):
            branch_3 = layers.max_pool2d(net, [3, 3], scope="MaxPool_0a_3x3")
            branch_3 = layers.conv2d(branch_3, depth_3, [1, 1], scope="Conv2d_0b_1x1")
        return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def inception_v1_base(net: tf.Tensor, data_format: str = "NHWC", scope: str = "InceptionV1"):
    """The network up to ``Mixed_5c`` on a ``data_format`` tensor: ``(net, end_points)``."""
    end_points = {}
    with tf1.variable_scope(scope, "InceptionV1", [net]):
        with layers.arg_scope(
            [layers.conv2d, layers.fully_connected], weights_initializer=trunc_normal(0.01)
        ):
            with layers.arg_scope([layers.conv2d, layers.max_pool2d], stride=1, padding="SAME"):
                net = end_points["Conv2d_1a_7x7"] = layers.conv2d(
                    net, 64, [7, 7], stride=2, scope="Conv2d_1a_7x7"
                )
                net = end_points["MaxPool_2a_3x3"] = layers.max_pool2d(
                    net, [3, 3], stride=2, scope="MaxPool_2a_3x3"
                )
                net = end_points["Conv2d_2b_1x1"] = layers.conv2d(
                    net, 64, [1, 1], scope="Conv2d_2b_1x1"
                )
                net = end_points["Conv2d_2c_3x3"] = layers.conv2d(
                    net, 192, [3, 3], scope="Conv2d_2c_3x3"
                )
                net = end_points["MaxPool_3a_3x3"] = layers.max_pool2d(
                    net, [3, 3], stride=2, scope="MaxPool_3a_3x3"
                )
                for end_point in ("Mixed_3b", "Mixed_3c"):
                    net = end_points[end_point] = _inception_module(net, end_point, data_format)
                net = end_points["MaxPool_4a_3x3"] = layers.max_pool2d(
                    net, [3, 3], stride=2, scope="MaxPool_4a_3x3"
                )
                for end_point in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
                    net = end_points[end_point] = _inception_module(net, end_point, data_format)
                net = end_points["MaxPool_5a_2x2"] = layers.max_pool2d(
                    net, [2, 2], stride=2, scope="MaxPool_5a_2x2"
                )
                for end_point in ("Mixed_5b", "Mixed_5c"):
                    net = end_points[end_point] = _inception_module(net, end_point, data_format)
    return net, end_points


def inception_v1(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.8,
    prediction_fn: Callable = layers.softmax,
    spatial_squeeze: bool = True,
    global_pool: bool = False,
    scope: str = "InceptionV1",
):
    """Build Inception v1 on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    End points are keyed as slim's (``Mixed_4c``, ``AvgPool_0a_7x7``, ``Logits``,
    ``Predictions``, ...) and hold tensors in the layers' layout. The 7x7 average pool fits the
    default 224x224 input (smaller maps get a smaller window); ``global_pool=True`` pools any
    size to 1x1.
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "InceptionV1", [images]) as sc:
        net, end_points = inception_v1_base(images, data_format, scope=sc)
        with tf1.variable_scope("Logits"):
            logits = end_points["Logits"] = heads.pooled_logits(
                net, num_classes, end_points, data_format, kernel_size=[7, 7],
                dropout_keep_prob=dropout_keep_prob, global_pool=global_pool,
                spatial_squeeze=spatial_squeeze, pool_stride=1, pool_scope="AvgPool_0a_7x7",
                pool_end_point="AvgPool_0a_7x7", dropout_scope="Dropout_0b", prelogits=False,
                logits_scope="Conv2d_0c_1x1",
            )  # fmt: skip
            end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points
