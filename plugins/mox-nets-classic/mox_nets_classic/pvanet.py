"""PVANet (Kim et al., 2016, "PVANET: Deep but Lightweight Neural Networks for Real-time Object
Detection", arXiv:1608.08021) as an ImageNet classifier. TF-Slim has no PVANet.

The feature extractor is the paper's Table 1, layer for layer ("less channels with more
layers"):

- ``conv1_1``: 7x7/2 convolution with 16 filters and C.ReLU (32 channels), ``pool1_1``: 3x3/2
  max pool;
- ``conv2_1``-``conv2_3`` (64 channels) and ``conv3_1``-``conv3_4`` (128, the first one with
  stride 2): residual C.ReLU blocks, 1x1 (24 / 48) -> 3x3 (24 / 48) with C.ReLU -> 1x1;
- ``conv4_1``-``conv4_4`` (256) and ``conv5_1``-``conv5_4`` (384), the first of each with
  stride 2: residual Inception blocks with a 1x1 branch (64), a 1x1 -> 3x3 branch (48 / 64 /
  96 -> 128 / 192), a 1x1 -> 3x3 -> 3x3 branch (24 / 32 -> 48 / 64 -> 48 / 64; the 5x5 of
  GoogLeNet as two 3x3) and, in the strided blocks, a 3x3/2 max pool -> 1x1 (128) branch,
  concatenated and projected by a 1x1 convolution to the block's width;
- the multi-scale ("hyper") feature: ``downscale`` (3x3/2 max pool of conv3_4), conv4_4 and
  ``upscale`` (4x4/2 bilinear deconvolution of conv5_4) concatenated at 1/16 of the input
  (768 channels) and merged by ``convf``, a 1x1 convolution with 512 filters.

Its convolution kernels hold 3,277,552 weights, the paper's 3.28M, and cost 7.9 GMAC on its
1056x640 input (tested). C.ReLU is ``relu(concat(x, -x))`` with its own scale and shift per
half (the paper's "modified" C.ReLU); here the batch norm after the concatenation provides
them (``<conv>/BatchNorm`` over twice the filters: normalizing ``-x`` mirrors ``x``, so this is
the paper's BN -> negate -> concat -> scale/shift). The residual blocks are pre-activation
(He et al., 2016, "Identity Mappings"), as PVANet's released models are built:
``preact`` batch norm + ReLU at the block's input (not in ``conv2_1``, whose input is already
activated), a 1x1 ``shortcut`` projection where the width or stride changes (else identity),
the block's last 1x1 convolution linear with biases, and a final ``postnorm`` batch norm +
ReLU on conv5_4. The stride of a strided block sits on its first (1x1) convolutions, as in
the paper's MAC count. The upscale is the paper's fixed bilinear deconvolution, one channel at
a time: a constant, not a variable, so nothing trains or restores there.

The classification head is ours, as the paper only describes detection (RPN and RoI heads on
``convf``): global average pooling of ``convf``, dropout (keep 0.8) and a 1x1 ``logits``
convolution, the head of the fully convolutional ImageNet networks (ResNet, Inception).
Batch norm follows TF-Slim's ResNet settings (decay 0.997, epsilon 1e-5, learned scale),
weights are He-initialized with L2 decay. Default input 224x224; with SAME padding any size
works (odd sizes too: the upscale's output takes conv4's size, 2n or 2n - 1).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import variance_scaling
from mox_core.nets.net_utils import batch_norm_params

tf1 = tf.compat.v1

BATCH_NORM_DECAY = 0.997
BATCH_NORM_EPSILON = 1e-5

# Stage -> [(stride, (reduce, 3x3, output))] of the residual C.ReLU blocks (Table 1).
_CRELU_STAGES = {
    "conv2": [(1, (24, 24, 64))] * 3,
    "conv3": [(2, (48, 48, 128))] + [(1, (48, 48, 128))] * 3,
}
# Stage -> [(stride, 1x1, (3x3 reduce, 3x3), (double-3x3 reduce, 3x3, 3x3), pool 1x1, output)].
_INCEPTION_STAGES = {
    "conv4": [(2, 64, (48, 128), (24, 48, 48), 128, 256)]
    + [(1, 64, (64, 128), (24, 48, 48), None, 256)] * 3,
    "conv5": [(2, 64, (96, 192), (32, 64, 64), 128, 384)]
    + [(1, 64, (96, 192), (32, 64, 64), None, 384)] * 3,
}


def pvanet_arg_scope(weight_decay: float = 0.0001) -> dict:
    """Convolutions with He weights, L2 decay and batch norm + ReLU; the batch-norm settings."""
    with layers.arg_scope(
        [layers.conv2d],
        weights_initializer=variance_scaling(),
        weights_regularizer=layers.l2_regularizer(weight_decay),
        activation_fn=tf.nn.relu,
        normalizer_fn=layers.batch_norm,
        padding="SAME",
    ):
        with layers.arg_scope(
            [layers.batch_norm], **batch_norm_params(BATCH_NORM_DECAY, BATCH_NORM_EPSILON)
        ) as sc:
            return sc


def _crelu_normalizer(data_format: str) -> Callable:
    """C.ReLU's normalizer for ``conv2d``: ``batch_norm(concat(x, -x))``; ReLU follows."""

    def crelu_batch_norm(inputs):
        both = net_utils.concat_channels([inputs, tf.negative(inputs)], data_format)
        return layers.batch_norm(both)

    return crelu_batch_norm


def _preactivate(inputs, preact: bool):
    """Pre-activation batch norm + ReLU of a block's input (identity when ``preact`` is off)."""
    if not preact:
        return inputs
    return layers.batch_norm(inputs, activation_fn=tf.nn.relu, scope="preact")


def _shortcut(inputs, preactivated, depth: int, stride: int, data_format: str):
    """Identity when the block keeps width and size, else a linear 1x1 projection."""
    if net_utils.depth(inputs, data_format) == depth and stride == 1:
        return inputs
    return layers.conv2d(
        preactivated,
        depth,
        [1, 1],
        stride=stride,
        normalizer_fn=None,
        activation_fn=None,
        scope="shortcut",
    )


def crelu_block(inputs, stride, depths, preact=True, data_format="NHWC", scope=None):
    """Residual C.ReLU block: 1x1 -> 3x3 with C.ReLU (twice the filters) -> linear 1x1."""
    reduce_depth, conv_depth, depth = depths
    with tf1.variable_scope(scope, "CReLUBlock", [inputs]):
        net = _preactivate(inputs, preact)
        shortcut = _shortcut(inputs, net, depth, stride, data_format)
        net = layers.conv2d(net, reduce_depth, [1, 1], stride=stride, scope="Conv2d_0a_1x1")
        net = layers.conv2d(
            net,
            conv_depth,
            [3, 3],
            normalizer_fn=_crelu_normalizer(data_format),
            scope="Conv2d_0b_3x3",
        )
        net = layers.conv2d(
            net, depth, [1, 1], normalizer_fn=None, activation_fn=None, scope="Conv2d_0c_1x1"
        )
        return shortcut + net


def inception_block(inputs, stride, spec, data_format="NHWC", scope=None):
    """Residual Inception block: 1x1, 1x1 -> 3x3, 1x1 -> 3x3 -> 3x3 (and pool -> 1x1 when
    strided) branches, concatenated and projected by a linear 1x1 convolution."""
    depth_0, (reduce_1, depth_1), (reduce_2, depth_2a, depth_2b), pool_depth, depth = spec
    with tf1.variable_scope(scope, "InceptionBlock", [inputs]):
        net = _preactivate(inputs, True)
        shortcut = _shortcut(inputs, net, depth, stride, data_format)
        with tf1.variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, depth_0, [1, 1], stride=stride, scope="Conv2d_0a_1x1")
        with tf1.variable_scope("Branch_1"):
            branch_1 = layers.conv2d(net, reduce_1, [1, 1], stride=stride, scope="Conv2d_0a_1x1")
            branch_1 = layers.conv2d(branch_1, depth_1, [3, 3], scope="Conv2d_0b_3x3")
        with tf1.variable_scope("Branch_2"):
            branch_2 = layers.conv2d(net, reduce_2, [1, 1], stride=stride, scope="Conv2d_0a_1x1")
            branch_2 = layers.conv2d(branch_2, depth_2a, [3, 3], scope="Conv2d_0b_3x3")
            branch_2 = layers.conv2d(branch_2, depth_2b, [3, 3], scope="Conv2d_0c_3x3")
        branches = [branch_0, branch_1, branch_2]
        if pool_depth is not None:
            with tf1.variable_scope("Branch_3"):
                branch_3 = layers.max_pool2d(
                    net, [3, 3], stride=stride, padding="SAME", scope="MaxPool_0a_3x3"
                )
                branches.append(layers.conv2d(branch_3, pool_depth, [1, 1], scope="Conv2d_0b_1x1"))
        mixed = net_utils.concat_channels(branches, data_format)
        net = layers.conv2d(
            mixed, depth, [1, 1], normalizer_fn=None, activation_fn=None, scope="Conv2d_1x1"
        )
        return shortcut + net


def bilinear_upscale(net, output_size, data_format="NHWC", name="upscale"):
    """The paper's 4x4/2 deconvolution with fixed bilinear weights, channel by channel.

    ``output_size`` (height, width) is twice the input's, or one less for odd targets: the
    transposed convolution of a SAME 4x4/2 convolution, i.e. Caffe's ``pad=1`` deconvolution.
    """
    with tf1.name_scope(name):
        taps = np.array([0.25, 0.75, 0.75, 0.25], np.float32)  # Caffe's bilinear filler
        channels = int(net.shape[net_utils.channel_axis(data_format)])
        kernel = np.tile(np.outer(taps, taps)[:, :, None, None], [1, 1, channels, 1])
        nhwc = net_utils.to_nhwc(net, data_format)
        batch = tf.shape(nhwc)[0]
        height, width = output_size
        outputs = tf.nn.depthwise_conv2d_backprop_input(
            tf.stack([batch, height, width, channels]),
            tf.constant(kernel, dtype=nhwc.dtype),
            nhwc,
            strides=[1, 2, 2, 1],
            padding="SAME",
        )
        outputs.set_shape([nhwc.shape[0], height, width, channels])
        return net_utils.to_data_format(outputs, data_format)


def pvanet_base(net: tf.Tensor, data_format: str = "NHWC", scope: str = "pvanet"):
    """The feature extractor up to ``convf`` on a ``data_format`` tensor: ``(net, end_points)``."""
    end_points = {}
    with tf1.variable_scope(scope, "pvanet", [net]):
        net = end_points["conv1_1"] = layers.conv2d(
            net, 16, [7, 7], stride=2, normalizer_fn=_crelu_normalizer(data_format), scope="conv1_1"
        )
        net = end_points["pool1_1"] = layers.max_pool2d(
            net, [3, 3], stride=2, padding="SAME", scope="pool1_1"
        )
        for stage, blocks in _CRELU_STAGES.items():
            for index, (stride, depths) in enumerate(blocks, start=1):
                name = f"{stage}_{index}"
                # conv2_1's input comes activated from conv1_1 (C.ReLU) and the max pool.
                preact = name != "conv2_1"
                net = end_points[name] = crelu_block(
                    net, stride, depths, preact=preact, data_format=data_format, scope=name
                )
        for stage, blocks in _INCEPTION_STAGES.items():
            for index, (stride, *spec) in enumerate(blocks, start=1):
                name = f"{stage}_{index}"
                net = end_points[name] = inception_block(
                    net, stride, spec, data_format=data_format, scope=name
                )
        net = layers.batch_norm(net, activation_fn=tf.nn.relu, scope="postnorm")

        # The multi-scale feature at conv4's resolution (1/16).
        conv4 = end_points["conv4_4"]
        downscale = end_points["downscale"] = layers.max_pool2d(
            end_points["conv3_4"], [3, 3], stride=2, padding="SAME", scope="downscale"
        )
        upscale = end_points["upscale"] = bilinear_upscale(
            net, net_utils.spatial_shape(conv4, data_format), data_format, name="upscale"
        )
        net = end_points["concat"] = net_utils.concat_channels(
            [downscale, conv4, upscale], data_format, name="concat"
        )
        net = end_points["convf"] = layers.conv2d(net, 512, [1, 1], scope="convf")
    return net, end_points


def pvanet(
    images: tf.Tensor,
    num_classes: int = 1000,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.8,
    spatial_squeeze: bool = True,
    prediction_fn: Callable = layers.softmax,
    scope: str = "pvanet",
):
    """Build PVANet on ``images`` (in the arg scope's layout); returns ``(logits, end_points)``.

    End points: ``conv1_1``, ``pool1_1``, every block (``conv2_1`` ... ``conv5_4``),
    ``downscale``, ``upscale``, ``concat``, ``convf`` (in the layers' layout), then
    ``global_pool``, ``Logits`` and ``Predictions``. The logits layer is ``<scope>/logits``.
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "pvanet", [images]) as sc:
        net, end_points = pvanet_base(images, data_format, scope=sc)
        net = end_points["global_pool"] = net_utils.global_average_pool(
            net, data_format, name="global_pool"
        )
        net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="Dropout")
        logits = end_points["Logits"] = heads.conv_logits(
            net, num_classes, data_format, spatial_squeeze=spatial_squeeze, scope="logits",
            biases_initializer=tf1.zeros_initializer(),
        )  # fmt: skip
        end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points
