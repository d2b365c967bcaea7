"""Inception v4 (Szegedy et al., 2016) as in TF-Slim's ``nets/inception_v4.py``.

The stem (3x3 convolutions and the mixed ``Mixed_3a`` / ``4a`` / ``5a`` blocks: 299 ->
35x35x384), four Inception-A blocks (``Mixed_5b``-``5e``), Reduction-A (``Mixed_6a``), seven
Inception-B blocks (``Mixed_6b``-``6h``), Reduction-B (``Mixed_7a``) and three Inception-C
blocks (``Mixed_7b``-``7d``), batch norm after every convolution. The head averages the last
feature map (``global_pool``), applies dropout (keep 0.8), flattens (``PreLogitsFlatten``) and
ends in the fully connected ``Logits/Logits``. The auxiliary head on ``Mixed_6h`` (5x5/3
average pool, 1x1 and full-size convolutions, fully connected ``AuxLogits/Aux_logits``) is
built in every mode, as slim does, so a slim checkpoint restores completely.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_nets_classic.inception_utils import aux_logits, flat_logits

tf1 = tf.compat.v1


def block_inception_a(inputs, data_format: str = "NHWC", scope=None, reuse=None):
    """Inception-A (35x35): 1x1, 1x1 -> 3x3, 1x1 -> 3x3 -> 3x3, avg pool -> 1x1; 96 each."""
    with layers.arg_scope(
        [layers.conv2d, layers.avg_pool2d, layers.max_pool2d], stride=1, padding="SAME"
    ):
        with tf1.variable_scope(scope, "BlockInceptionA", [inputs], reuse=reuse):
            with tf1.variable_scope("Branch_0"):
                branch_0 = layers.conv2d(inputs, 96, [1, 1], scope="Conv2d_0a_1x1")
            with tf1.variable_scope("Branch_1"):
                branch_1 = layers.conv2d(inputs, 64, [1, 1], scope="Conv2d_0a_1x1")
                branch_1 = layers.conv2d(branch_1, 96, [3, 3], scope="Conv2d_0b_3x3")
            with tf1.variable_scope("Branch_2"):
                branch_2 = layers.conv2d(inputs, 64, [1, 1], scope="Conv2d_0a_1x1")
                branch_2 = layers.conv2d(branch_2, 96, [3, 3], scope="Conv2d_0b_3x3")
                branch_2 = layers.conv2d(branch_2, 96, [3, 3], scope="Conv2d_0c_3x3")
            with tf1.variable_scope("Branch_3"):
                branch_3 = layers.avg_pool2d(inputs, [3, 3], scope="AvgPool_0a_3x3")
                branch_3 = layers.conv2d(branch_3, 96, [1, 1], scope="Conv2d_0b_1x1")
            return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def block_reduction_a(inputs, data_format: str = "NHWC", scope=None, reuse=None):
    """Reduction-A (35 -> 17): 3x3/2, 1x1 -> 3x3 -> 3x3/2, 3x3/2 max pool."""
    with layers.arg_scope(
        [layers.conv2d, layers.avg_pool2d, layers.max_pool2d], stride=1, padding="SAME"
    ):
        with tf1.variable_scope(scope, "BlockReductionA", [inputs], reuse=reuse):
            with tf1.variable_scope("Branch_0"):
                branch_0 = layers.conv2d(
                    inputs, 384, [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_3x3"
                )
            with tf1.variable_scope("Branch_1"):
                branch_1 = layers.conv2d(inputs, 192, [1, 1], scope="Conv2d_0a_1x1")
                branch_1 = layers.conv2d(branch_1, 224, [3, 3], scope="Conv2d_0b_3x3")
                branch_1 = layers.conv2d(
                    branch_1, 256, [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_3x3"
                )
            with tf1.variable_scope("Branch_2"):
                branch_2 = layers.max_pool2d(
                    inputs, [3, 3], stride=2, padding="VALID", scope="MaxPool_1a_3x3"
                )
            return net_utils.concat_channels([branch_0, branch_1, branch_2], data_format)


def block_inception_b(inputs, data_format: str = "NHWC", scope=None, reuse=None):
    """Inception-B (17x17): 7x7 convolutions factorized into 1x7 and 7x1 ones."""
    with layers.arg_scope(
        [layers.conv2d, layers.avg_pool2d, layers.max_pool2d], stride=1, padding="SAME"
    ):
        with tf1.variable_scope(scope, "BlockInceptionB", [inputs], reuse=reuse):
            with tf1.variable_scope("Branch_0"):
                branch_0 = layers.conv2d(inputs, 384, [1, 1], scope="Conv2d_0a_1x1")
            with tf1.variable_scope("Branch_1"):
                branch_1 = layers.conv2d(inputs, 192, [1, 1], scope="Conv2d_0a_1x1")
                branch_1 = layers.conv2d(branch_1, 224, [1, 7], scope="Conv2d_0b_1x7")
                branch_1 = layers.conv2d(branch_1, 256, [7, 1], scope="Conv2d_0c_7x1")
            with tf1.variable_scope("Branch_2"):
                branch_2 = layers.conv2d(inputs, 192, [1, 1], scope="Conv2d_0a_1x1")
                branch_2 = layers.conv2d(branch_2, 192, [7, 1], scope="Conv2d_0b_7x1")
                branch_2 = layers.conv2d(branch_2, 224, [1, 7], scope="Conv2d_0c_1x7")
                branch_2 = layers.conv2d(branch_2, 224, [7, 1], scope="Conv2d_0d_7x1")
                branch_2 = layers.conv2d(branch_2, 256, [1, 7], scope="Conv2d_0e_1x7")
            with tf1.variable_scope("Branch_3"):
                branch_3 = layers.avg_pool2d(inputs, [3, 3], scope="AvgPool_0a_3x3")
                branch_3 = layers.conv2d(branch_3, 128, [1, 1], scope="Conv2d_0b_1x1")
            return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def block_reduction_b(inputs, data_format: str = "NHWC", scope=None, reuse=None):
    """Reduction-B (17 -> 8): 1x1 -> 3x3/2, 1x1 -> 1x7 -> 7x1 -> 3x3/2, 3x3/2 max pool."""
    with layers.arg_scope(
        [layers.conv2d, layers.avg_pool2d, layers.max_pool2d], stride=1, padding="SAME"
    ):
        with tf1.variable_scope(scope, "BlockReductionB", [inputs], reuse=reuse):
            with tf1.variable_scope("Branch_0"):
                branch_0 = layers.conv2d(inputs, 192, [1, 1], scope="Conv2d_0a_1x1")
                branch_0 = layers.conv2d(
                    branch_0, 192, [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_3x3"
                )
            with tf1.variable_scope("Branch_1"):
                branch_1 = layers.conv2d(inputs, 256, [1, 1], scope="Conv2d_0a_1x1")
                branch_1 = layers.conv2d(branch_1, 256, [1, 7], scope="Conv2d_0b_1x7")
                branch_1 = layers.conv2d(branch_1, 320, [7, 1], scope="Conv2d_0c_7x1")
                branch_1 = layers.conv2d(
                    branch_1, 320, [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_3x3"
                )
            with tf1.variable_scope("Branch_2"):
                branch_2 = layers.max_pool2d(
                    inputs, [3, 3], stride=2, padding="VALID", scope="MaxPool_1a_3x3"
                )
            return net_utils.concat_channels([branch_0, branch_1, branch_2], data_format)


def block_inception_c(inputs, data_format: str = "NHWC", scope=None, reuse=None):
    """Inception-C (8x8): 3x3 branches end in parallel 1x3 and 3x1 convolutions."""
    with layers.arg_scope(
        [layers.conv2d, layers.avg_pool2d, layers.max_pool2d], stride=1, padding="SAME"
    ):
        with tf1.variable_scope(scope, "BlockInceptionC", [inputs], reuse=reuse):
            with tf1.variable_scope("Branch_0"):
                branch_0 = layers.conv2d(inputs, 256, [1, 1], scope="Conv2d_0a_1x1")
            with tf1.variable_scope("Branch_1"):
                branch_1 = layers.conv2d(inputs, 384, [1, 1], scope="Conv2d_0a_1x1")
                branch_1 = net_utils.concat_channels(
                    [
                        layers.conv2d(branch_1, 256, [1, 3], scope="Conv2d_0b_1x3"),
                        layers.conv2d(branch_1, 256, [3, 1], scope="Conv2d_0c_3x1"),
                    ],
                    data_format,
                )
            with tf1.variable_scope("Branch_2"):
                branch_2 = layers.conv2d(inputs, 384, [1, 1], scope="Conv2d_0a_1x1")
                branch_2 = layers.conv2d(branch_2, 448, [3, 1], scope="Conv2d_0b_3x1")
                branch_2 = layers.conv2d(branch_2, 512, [1, 3], scope="Conv2d_0c_1x3")
                branch_2 = net_utils.concat_channels(
                    [
                        layers.conv2d(branch_2, 256, [1, 3], scope="Conv2d_0d_1x3"),
                        layers.conv2d(branch_2, 256, [3, 1], scope="Conv2d_0e_3x1"),
                    ],
                    data_format,
                )
            with tf1.variable_scope("Branch_3"):
                branch_3 = layers.avg_pool2d(inputs, [3, 3], scope="AvgPool_0a_3x3")
                branch_3 = layers.conv2d(branch_3, 256, [1, 1], scope="Conv2d_0b_1x1")
            return net_utils.concat_channels([branch_0, branch_1, branch_2, branch_3], data_format)


def inception_v4_base(net: tf.Tensor, data_format: str = "NHWC", scope: str = "InceptionV4"):
    """The network up to ``Mixed_7d`` on a ``data_format`` tensor: ``(net, end_points)``."""
    end_points = {}
    with tf1.variable_scope(scope, "InceptionV4", [net]):
        with layers.arg_scope(
            [layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"
        ):
            # 299 x 299 x 3 -> 147 x 147 x 64
            net = end_points["Conv2d_1a_3x3"] = layers.conv2d(
                net, 32, [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_3x3"
            )
            net = end_points["Conv2d_2a_3x3"] = layers.conv2d(
                net, 32, [3, 3], padding="VALID", scope="Conv2d_2a_3x3"
            )
            net = end_points["Conv2d_2b_3x3"] = layers.conv2d(
                net, 64, [3, 3], scope="Conv2d_2b_3x3"
            )
            with tf1.variable_scope("Mixed_3a"):
                with tf1.variable_scope("Branch_0"):
                    branch_0 = layers.max_pool2d(
                        net, [3, 3], stride=2, padding="VALID", scope="MaxPool_0a_3x3"
                    )
                with tf1.variable_scope("Branch_1"):
                    branch_1 = layers.conv2d(
                        net, 96, [3, 3], stride=2, padding="VALID", scope="Conv2d_0a_3x3"
                    )
                net = end_points["Mixed_3a"] = net_utils.concat_channels(
                    [branch_0, branch_1], data_format
                )
            # 73 x 73 x 160
            with tf1.variable_scope("Mixed_4a"):
                with tf1.variable_scope("Branch_0"):
                    branch_0 = layers.conv2d(net, 64, [1, 1], scope="Conv2d_0a_1x1")
                    branch_0 = layers.conv2d(
                        branch_0, 96, [3, 3], padding="VALID", scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_1"):
                    branch_1 = layers.conv2d(net, 64, [1, 1], scope="Conv2d_0a_1x1")
                    branch_1 = layers.conv2d(branch_1, 64, [1, 7], scope="Conv2d_0b_1x7")
                    branch_1 = layers.conv2d(branch_1, 64, [7, 1], scope="Conv2d_0c_7x1")
                    branch_1 = layers.conv2d(
                        branch_1, 96, [3, 3], padding="VALID", scope="Conv2d_1a_3x3"
                    )
                net = end_points["Mixed_4a"] = net_utils.concat_channels(
                    [branch_0, branch_1], data_format
                )
            # 71 x 71 x 192
            with tf1.variable_scope("Mixed_5a"):
                with tf1.variable_scope("Branch_0"):
                    branch_0 = layers.conv2d(
                        net, 192, [3, 3], stride=2, padding="VALID", scope="Conv2d_1a_3x3"
                    )
                with tf1.variable_scope("Branch_1"):
                    branch_1 = layers.max_pool2d(
                        net, [3, 3], stride=2, padding="VALID", scope="MaxPool_1a_3x3"
                    )
                net = end_points["Mixed_5a"] = net_utils.concat_channels(
                    [branch_0, branch_1], data_format
                )

            # 35 x 35 x 384 -> 8 x 8 x 1536
            stages = [
                (block_inception_a, ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_5e"]),
                (block_reduction_a, ["Mixed_6a"]),
                (block_inception_b, [f"Mixed_6{letter}" for letter in "bcdefgh"]),
                (block_reduction_b, ["Mixed_7a"]),
                (block_inception_c, ["Mixed_7b", "Mixed_7c", "Mixed_7d"]),
            ]
            for block, end_points_of_stage in stages:
                for end_point in end_points_of_stage:
                    net = end_points[end_point] = block(net, data_format, scope=end_point)
    return net, end_points


def inception_v4(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.8,
    create_aux_logits: bool = True,
    scope: str = "InceptionV4",
):
    """Build Inception v4 on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    End points are keyed as slim's (``Mixed_6h``, ``AuxLogits``, ``global_pool``,
    ``PreLogitsFlatten``, ``Logits``, ``Predictions``, ...) and hold tensors in the layers'
    layout. The smallest input is 107x107 (the auxiliary head's 5x5/3 pool needs a 17x17 map of
    at least 5x5), 75x75 with ``create_aux_logits=False``, which leaves out the auxiliary head
    and its variables.
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "InceptionV4", [images]) as sc:
        net, end_points = inception_v4_base(images, data_format, scope=sc)
        with layers.arg_scope(
            [layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"
        ):
            if create_aux_logits:
                with tf1.variable_scope("AuxLogits"):
                    end_points["AuxLogits"] = aux_logits(
                        end_points["Mixed_6h"], num_classes, data_format,
                        pool_scope="AvgPool_1a_5x5", conv_scope="Conv2d_2a",
                        logits_scope="Aux_logits",
                    )  # fmt: skip
            with tf1.variable_scope("Logits"):
                logits = flat_logits(
                    net, num_classes, end_points, data_format, pool_scope="AvgPool_1a",
                    dropout_keep_prob=dropout_keep_prob, dropout_scope="Dropout_1b",
                )  # fmt: skip
    return logits, end_points
