"""Inception v3 (Szegedy et al., 2015, "Rethinking...") as in TF-Slim's ``nets/inception_v3.py``.

A VALID stem (3x3 convolutions, max pools, 1x1 and 3x3 convolutions: 299 -> 35x35x192), three
35x35 modules (``Mixed_5b``-``5d``), a grid reduction to 17x17 (``Mixed_6a``), four 17x17
modules with factorized 1x7 / 7x1 convolutions (``Mixed_6b``-``6e``), a reduction to 8x8
(``Mixed_7a``) and two 8x8 modules with split 1x3 / 3x1 branches (``Mixed_7b``, ``7c``); batch
norm after every convolution. The head: an 8x8 average pool, dropout (keep 0.8) and the 1x1
``Logits/Conv2d_1c_1x1`` convolution. The auxiliary head on ``Mixed_6e`` (5x5/3 average pool,
1x1 and 5x5 convolutions, 1x1 logits) is built in every mode, as slim does, so a slim
checkpoint restores completely; its logits are ``end_points['AuxLogits']``. The layer names
keep slim's irregular ones (``Mixed_5c/Branch_1/Conv_1_0c_5x5``, ``Mixed_6a/.../Conv2d_1a_1x1``
on a 3x3 kernel, ``Mixed_7b/Branch_1/Conv2d_0b_3x1``) so its checkpoint loads.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import trunc_normal

tf1 = tf.compat.v1


def _module_35(net, end_point: str, pool_depth: int, depth: Callable, data_format: str):
    """A 35x35 module: 1x1, 1x1 -> 5x5, 1x1 -> 3x3 -> 3x3, avg pool -> 1x1."""
    # Mixed_5c names its 5x5 branch differently in slim's checkpoint.
    names_1 = (
        ("Conv2d_0b_1x1", "Conv_1_0c_5x5")
        if end_point == "Mixed_5c"
        else ("Conv2d_0a_1x1", "Conv2d_0b_5x5")
    )
    with tf1.variable_scope(end_point):
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, depth(64), [1, 1], scope="Conv2d_0a_1x1")
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(net, depth(48), [1, 1], scope=names_1[0])
            branch_1 = layers.conv2d(branch_1, depth(64), [5, 5], scope=names_1[1])
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.conv2d(net, depth(64), [1, 1], scope="Conv2d_0a_1x1")
            branch_2 = layers.conv2d(branch_2, depth(96), [3, 3], scope="Conv2d_0b_3x3")
            branch_2 = layers.conv2d(branch_2, depth(96), [3, 3], scope="Conv2d_0c_3x3")
        with tf1.variable_scope("Branch_3"):
            branch_3 = layers.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
            branch_3 = layers.conv2d(branch_3, depth(pool_depth), [1, 1], scope="Conv2d_0b_1x1")
        return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def _module_17(net, end_point: str, width: int, depth: Callable, data_format: str):
    """A 17x17 module with 7x7 convolutions factorized into 1x7 and 7x1 ones."""
    with tf1.variable_scope(end_point):
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, depth(192), [1, 1], scope="Conv2d_0a_1x1")
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(net, depth(width), [1, 1], scope="Conv2d_0a_1x1")
            branch_1 = layers.conv2d(branch_1, depth(width), [1, 7], scope="Conv2d_0b_1x7")
            branch_1 = layers.conv2d(branch_1, depth(192), [7, 1], scope="Conv2d_0c_7x1")
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.conv2d(net, depth(width), [1, 1], scope="Conv2d_0a_1x1")
            branch_2 = layers.conv2d(branch_2, depth(width), [7, 1], scope="Conv2d_0b_7x1")
            branch_2 = layers.conv2d(branch_2, depth(width), [1, 7], scope="Conv2d_0c_1x7")
            branch_2 = layers.conv2d(branch_2, depth(width), [7, 1], scope="Conv2d_0d_7x1")
            branch_2 = layers.conv2d(branch_2, depth(192), [1, 7], scope="Conv2d_0e_1x7")
        with tf1.variable_scope("Branch_3"):
            branch_3 = layers.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
            branch_3 = layers.conv2d(branch_3, depth(192), [1, 1], scope="Conv2d_0b_1x1")
        return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def _module_8(net, end_point: str, depth: Callable, data_format: str):
    """An 8x8 module whose 3x3 branches end in parallel 1x3 and 3x1 convolutions."""
    # Mixed_7b names the 3x1 half of branch 1 Conv2d_0b_3x1 in slim's checkpoint.
    name_1 = "Conv2d_0b_3x1" if end_point == "Mixed_7b" else "Conv2d_0c_3x1"
    with tf1.variable_scope(end_point):
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, depth(320), [1, 1], scope="Conv2d_0a_1x1")
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(net, depth(384), [1, 1], scope="Conv2d_0a_1x1")
            branch_1 = net_utils.concat_channels(
                [
                    layers.conv2d(branch_1, depth(384), [1, 3], scope="Conv2d_0b_1x3"),
                    layers.conv2d(branch_1, depth(384), [3, 1], scope=name_1),
                ],
                data_format,
            )
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.conv2d(net, depth(448), [1, 1], scope="Conv2d_0a_1x1")
            branch_2 = layers.conv2d(branch_2, depth(384), [3, 3], scope="Conv2d_0b_3x3")
            branch_2 = net_utils.concat_channels(
                [
                    layers.conv2d(branch_2, depth(384), [1, 3], scope="Conv2d_0c_1x3"),
                    layers.conv2d(branch_2, depth(384), [3, 1], scope="Conv2d_0d_3x1"),
                ],
                data_format,
            )
        with tf1.variable_scope("Branch_3"):
            branch_3 = layers.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
            branch_3 = layers.conv2d(branch_3, depth(192), [1, 1], scope="Conv2d_0b_1x1")
        return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def inception_v3_base(
    net: tf.Tensor,
    min_depth: int = 16,
    depth_multiplier: float = 1.0,
    data_format: str = "NHWC",
    scope: str = "InceptionV3",
):
    """The network up to ``Mixed_7c`` on a ``data_format`` tensor: ``(net, end_points)``."""
    depth = net_utils.depth_fn(depth_multiplier, min_depth)
    end_points = {}
    with tf1.variable_scope(scope, "InceptionV3", [net]):
        pools = [layers.conv2d, layers.max_pool2d, layers.avg_pool2d]
        with layers.arg_scope(pools, stride=1, padding="VALID"):
            # 299 x 299 x 3 -> 35 x 35 x 192
            net = end_points["Conv2d_1a_3x3"] = layers.conv2d(
                net, depth(32), [3, 3], stride=2, scope="Conv2d_1a_3x3"
            )
            net = end_points["Conv2d_2a_3x3"] = layers.conv2d(
                net, depth(32), [3, 3], scope="Conv2d_2a_3x3"
            )
            net = end_points["Conv2d_2b_3x3"] = layers.conv2d(
                net, depth(64), [3, 3], padding="SAME", scope="Conv2d_2b_3x3"
            )
            net = end_points["MaxPool_3a_3x3"] = layers.max_pool2d(
                net, [3, 3], stride=2, scope="MaxPool_3a_3x3"
            )
            net = end_points["Conv2d_3b_1x1"] = layers.conv2d(
                net, depth(80), [1, 1], scope="Conv2d_3b_1x1"
            )
            net = end_points["Conv2d_4a_3x3"] = layers.conv2d(
                net, depth(192), [3, 3], scope="Conv2d_4a_3x3"
            )
            net = end_points["MaxPool_5a_3x3"] = layers.max_pool2d(
                net, [3, 3], stride=2, scope="MaxPool_5a_3x3"
            )

        with layers.arg_scope(pools, stride=1, padding="SAME"):
            for end_point, pool_depth in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
                net = end_points[end_point] = _module_35(
                    net, end_point, pool_depth, depth, data_format
                )

            # 35 x 35 x 288 -> 17 x 17 x 768
            with tf1.variable_scope("Mixed_6a"):
                with tf1.variable_scope("Branch_0"):
                    branch_0 = layers.conv2d(
                        net, depth(384), [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_1x1"
                    )
                with tf1.variable_scope("Branch_1"):
                    branch_1 = layers.conv2d(net, depth(64), [1, 1], scope="Conv2d_0a_1x1")
                    branch_1 = layers.conv2d(branch_1, depth(96), [3, 3], scope="Conv2d_0b_3x3")
                    branch_1 = layers.conv2d(
                        branch_1,
                        depth(96),
                        [3, 3],
                        stride=2,
                        padding="VALID",
                        scope="Conv2d_1a_1x1",
                    )
                with tf1.variable_scope("Branch_2"):
                    branch_2 = layers.max_pool2d(
                        net, [3, 3], stride=2, padding="VALID", scope="MaxPool_1a_3x3"
                    )
                net = end_points["Mixed_6a"] = net_utils.concat_channels(
                    [branch_0, branch_1, branch_2], data_format
                )

            for end_point, width in (
                ("Mixed_6b", 128),
                ("Mixed_6c", 160),
                ("Mixed_6d", 160),
                ("Mixed_6e", 192),
            ):
                net = end_points[end_point] = _module_17(net, end_point, width, depth, data_format)

            # 17 x 17 x 768 -> 8 x 8 x 1280
            with tf1.variable_scope("Mixed_7a"):
                with tf1.variable_scope("Branch_0"):
                    branch_0 = layers.conv2d(net, depth(192), [1, 1], scope="Conv2d_0a_1x1")
                    branch_0 = layers.conv2d(
                        branch_0,
                        depth(320),
                        [3, 3],
                        stride=2,
                        padding="VALID",
                        scope="Conv2d_1a_3x3",
                    )
                with tf1.variable_scope("Branch_1"):
                    branch_1 = layers.conv2d(net, depth(192), [1, 1], scope="Conv2d_0a_1x1")
                    branch_1 = layers.conv2d(branch_1, depth(192), [1, 7], scope="Conv2d_0b_1x7")
                    branch_1 = layers.conv2d(branch_1, depth(192), [7, 1], scope="Conv2d_0c_7x1")
                    branch_1 = layers.conv2d(
                        branch_1,
                        depth(192),
                        [3, 3],
                        stride=2,
                        padding="VALID",
                        scope="Conv2d_1a_3x3",
                    )
                with tf1.variable_scope("Branch_2"):
                    branch_2 = layers.max_pool2d(
                        net, [3, 3], stride=2, padding="VALID", scope="MaxPool_1a_3x3"
                    )
                net = end_points["Mixed_7a"] = net_utils.concat_channels(
                    [branch_0, branch_1, branch_2], data_format
                )

            for end_point in ("Mixed_7b", "Mixed_7c"):
                net = end_points[end_point] = _module_8(net, end_point, depth, data_format)
    return net, end_points


def inception_v3(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.8,
    min_depth: int = 16,
    depth_multiplier: float = 1.0,
    prediction_fn: Callable = layers.softmax,
    spatial_squeeze: bool = True,
    create_aux_logits: bool = True,
    global_pool: bool = False,
    scope: str = "InceptionV3",
):
    """Build Inception v3 on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    End points are keyed as slim's (``Mixed_6e``, ``AuxLogits``, ``AvgPool_1a``, ``PreLogits``,
    ``Logits``, ``Predictions``, ...) and hold tensors in the layers' layout. The fixed pools
    shrink for small inputs, as slim's: the smallest input is 107x107 (the auxiliary head's
    5x5/3 pool needs a 17x17 map of at least 5x5), 75x75 with ``create_aux_logits=False``,
    which leaves out the auxiliary head and its variables.
    """
    depth = net_utils.depth_fn(depth_multiplier, min_depth)
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "InceptionV3", [images]) as sc:
        net, end_points = inception_v3_base(
            images, min_depth, depth_multiplier, data_format, scope=sc
        )
        if create_aux_logits:
            with layers.arg_scope(
                [layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"
            ):
                with tf1.variable_scope("AuxLogits"):
                    aux = layers.avg_pool2d(
                        end_points["Mixed_6e"], [5, 5], stride=3, padding="VALID",
                        scope="AvgPool_1a_5x5",
                    )  # fmt: skip
                    aux = layers.conv2d(aux, depth(128), [1, 1], scope="Conv2d_1b_1x1")
                    kernel_size = net_utils.reduced_kernel_size(aux, [5, 5], data_format)
                    aux = layers.conv2d(
                        aux, depth(768), kernel_size, weights_initializer=trunc_normal(0.01),
                        padding="VALID", scope="Conv2d_2a_{}x{}".format(*kernel_size),
                    )  # fmt: skip
                    end_points["AuxLogits"] = heads.conv_logits(
                        aux, num_classes, data_format, spatial_squeeze=spatial_squeeze,
                        weights_initializer=trunc_normal(0.001), scope="Conv2d_2b_1x1",
                    )  # fmt: skip

        with tf1.variable_scope("Logits"):
            logits = heads.pooled_logits(
                net, num_classes, end_points, data_format, kernel_size=[8, 8],
                dropout_keep_prob=dropout_keep_prob, global_pool=global_pool,
                spatial_squeeze=spatial_squeeze, global_pool_name="GlobalPool",
            )  # fmt: skip
        end_points["Logits"] = logits
        end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points
