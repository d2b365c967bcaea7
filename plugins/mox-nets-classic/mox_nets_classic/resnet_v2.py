"""ResNet v2 (He et al. 2016, "Identity Mappings in Deep Residual Networks"), as TF-Slim's.

``resnet_v2_50/101/152/200`` are TF-Slim's ``nets/resnet_v2.py``, variable for variable, so its
ImageNet checkpoints load. The pre-activation unit normalizes and activates its input first
(``preact``, a batch norm with ReLU), feeds that to the projection ``shortcut`` and the
bottleneck, and adds without a final activation; the convolutions that end a branch
(``shortcut``, ``conv3``) have biases and no batch norm. The stem convolution has biases and
no batch norm either (the first unit's ``preact`` does that), and a ``postnorm`` batch norm with
ReLU follows the last block. As in v1, each block's stride sits in its last unit, on the 3x3
convolution, and the unit's identity shortcut is subsampled from the un-normalized input.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers
from mox_nets_classic import resnet_utils
from mox_nets_classic.resnet_utils import Block, conv2d_same

tf1 = tf.compat.v1

__all__ = [
    "bottleneck",
    "resnet_v2",
    "resnet_v2_101",
    "resnet_v2_152",
    "resnet_v2_200",
    "resnet_v2_50",
    "resnet_v2_block",
]


@layers.add_arg_scope
def bottleneck(
    inputs,
    depth: int,
    depth_bottleneck: int,
    stride: int,
    rate: int = 1,
    outputs_collections=None,
    scope: str | None = None,
    data_format: str = "NHWC",
):
    """Slim's pre-activation bottleneck: ``preact``, then 1x1, 3x3 (the stride), 1x1."""
    with tf1.variable_scope(scope, "bottleneck_v2", [inputs]) as sc:
        preact = layers.batch_norm(inputs, activation_fn=tf.nn.relu, scope="preact")
        shortcut = resnet_utils.shortcut(
            inputs, depth, stride, data_format, source=preact, normalizer_fn=None,
            activation_fn=None,
        )  # fmt: skip
        residual = layers.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = conv2d_same(
            residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2", data_format=data_format
        )
        residual = layers.conv2d(
            residual, depth, [1, 1], stride=1, normalizer_fn=None, activation_fn=None, scope="conv3"
        )
        output = shortcut + residual
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


def root(net: tf.Tensor, data_format: str) -> tf.Tensor:
    """The ImageNet stem without batch norm or activation: the first unit's ``preact`` does
    them."""
    with layers.arg_scope([layers.conv2d], activation_fn=None, normalizer_fn=None):
        return resnet_utils.imagenet_root(net, data_format)


root.stride = resnet_utils.imagenet_root.stride


#: What makes :func:`mox_nets_classic.resnet_utils.resnet` a v2 ResNet.
V2 = {"default_scope": "resnet_v2", "root_block": root, "postnorm": True}


def resnet_v2(inputs, blocks: list[Block], num_classes: int | None = None, **kwargs):
    """TF-Slim's generic ResNet v2 on ``inputs`` (in the layers' layout): ``(logits,
    end_points)``.

    ``kwargs`` are :func:`mox_nets_classic.resnet_utils.resnet`'s (``is_training``,
    ``global_pool``, ``output_stride``, ...). Call it inside
    :func:`mox_nets_classic.resnet_utils.resnet_arg_scope`.
    """
    return resnet_utils.resnet(inputs, blocks, num_classes, **{**V2, **kwargs})


def resnet_v2_block(scope: str, base_depth: int, num_units: int, stride: int) -> Block:
    """Slim's v2 bottleneck block: ``num_units`` units of depth ``4 * base_depth``, the stride
    in the last one."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth}
    return resnet_utils.block(scope, bottleneck, unit, num_units, stride)


def _network(depth: int, units: tuple[int, ...]):
    name = f"resnet_v2_{depth}"
    doc = f"ResNet-{depth} v2 as TF-Slim's ``{name}``; returns ``(logits, end_points)``."
    blocks = resnet_utils.imagenet_blocks(resnet_v2_block, units)
    return resnet_utils.network_builder(name, blocks, doc, **V2)


resnet_v2_50 = _network(50, (3, 4, 6, 3))
resnet_v2_101 = _network(101, (3, 4, 23, 3))
resnet_v2_152 = _network(152, (3, 8, 36, 3))
resnet_v2_200 = _network(200, (3, 24, 36, 3))
