"""The classifier heads TF-Slim's networks share: pool the features, then 1x1 logits.

Inception v1-v3 and MobileNet v1 end in an average pool over the last feature map (clipped to
a smaller map, or global), dropout and a 1x1 convolution to the classes; VGG, AlexNet,
OverFeat, the ResNets and PVANet end in the same 1x1 convolution. Only the scope names differ
between the families, and they stay TF-Slim's (its checkpoints and end points use them). The
logits that come out never depend on the layout: squeezed to ``[N, num_classes]``, or the NHWC
score map with ``spatial_squeeze=False``.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers, net_utils


def average_pool(
    net: tf.Tensor,
    end_points: dict,
    data_format: str,
    *,
    kernel_size: list[int],
    global_pool: bool = False,
    stride: int = 2,
    scope: str = "AvgPool_1a_{}x{}",
    end_point: str = "AvgPool_1a",
    global_pool_name: str = "global_pool",
) -> tf.Tensor:
    """The features pooled for the classifier, recorded in ``end_points``.

    ``global_pool``: the mean over height and width (``end_points['global_pool']``); else a
    ``VALID`` average pool of ``kernel_size``, clipped to a smaller feature map as slim's
    ``_reduced_kernel_size_for_small_input`` does, in the variable scope ``scope`` (formatted
    with the kernel's height and width) and stored as ``end_points[end_point]``.
    """
    if global_pool:
        net = net_utils.global_average_pool(net, data_format, global_pool_name)
        end_points["global_pool"] = net
        return net
    kernel_size = net_utils.reduced_kernel_size(net, kernel_size, data_format)
    net = layers.avg_pool2d(
        net, kernel_size, stride=stride, padding="VALID", scope=scope.format(*kernel_size)
    )
    end_points[end_point] = net
    return net


def squeeze_logits(
    logits: tf.Tensor, spatial_squeeze: bool, data_format: str, name: str = "SpatialSqueeze"
) -> tf.Tensor:
    """``[N, 1, 1, C]`` logits as ``[N, C]``; unsqueezed, the score map in NHWC.

    With ``spatial_squeeze=False`` a network of ``data_format='NCHW'`` still returns NHWC
    logits, so that what ``network_fn`` returns does not depend on the layout.
    """
    if spatial_squeeze:
        return net_utils.spatial_squeeze(logits, data_format, name=name)
    return net_utils.to_nhwc(logits, data_format)


def conv_logits(
    net: tf.Tensor,
    num_classes: int,
    data_format: str,
    *,
    spatial_squeeze: bool = True,
    scope: str = "Conv2d_1c_1x1",
    squeeze_name: str = "SpatialSqueeze",
    **conv_kwargs,
) -> tf.Tensor:
    """The linear 1x1 convolution to ``num_classes`` (no batch norm), then :func:`squeeze_logits`.

    ``conv_kwargs`` go to ``layers.conv2d`` (e.g. ``biases_initializer``).
    """
    logits = layers.conv2d(
        net,
        num_classes,
        [1, 1],
        activation_fn=None,
        normalizer_fn=None,
        scope=scope,
        **conv_kwargs,
    )
    return squeeze_logits(logits, spatial_squeeze, data_format, name=squeeze_name)


def pooled_logits(
    net: tf.Tensor,
    num_classes: int,
    end_points: dict,
    data_format: str,
    *,
    kernel_size: list[int],
    dropout_keep_prob: float,
    global_pool: bool = False,
    spatial_squeeze: bool = True,
    pool_stride: int = 2,
    pool_scope: str = "AvgPool_1a_{}x{}",
    pool_end_point: str = "AvgPool_1a",
    global_pool_name: str = "global_pool",
    dropout_scope: str = "Dropout_1b",
    prelogits: bool = True,
    logits_scope: str = "Conv2d_1c_1x1",
) -> tf.Tensor:
    """The head of Inception v1-v3 and MobileNet v1: :func:`average_pool`, dropout,
    :func:`conv_logits`. ``prelogits`` stores the dropout's output as
    ``end_points['PreLogits']``; the scope names default to Inception v3's."""
    net = average_pool(
        net, end_points, data_format, kernel_size=kernel_size, global_pool=global_pool,
        stride=pool_stride, scope=pool_scope, end_point=pool_end_point,
        global_pool_name=global_pool_name,
    )  # fmt: skip
    net = layers.dropout(net, keep_prob=dropout_keep_prob, scope=dropout_scope)
    if prelogits:
        end_points["PreLogits"] = net
    return conv_logits(
        net, num_classes, data_format, spatial_squeeze=spatial_squeeze, scope=logits_scope
    )
