"""ResNet v1 (He et al. 2015, "Deep Residual Learning for Image Recognition").

``resnet_v1_50/101/152/200`` are TF-Slim's ``nets/resnet_v1.py``: the same variables, end points
and numbers, so TF-Slim's ImageNet checkpoints load and give TF-Slim's logits. Slim's details
that names do not show: the stride of each block sits in its *last* unit, on the 3x3
convolution (``conv2``, padded explicitly by ``conv2d_same``), which keeps that unit's 1x1
``conv1`` at full resolution; a unit whose depth does not change takes the input itself as
shortcut (subsampled by a 1x1 max pool at stride 2), the others a 1x1 ``shortcut`` convolution
with batch norm; pool1 is 3x3/2 ``SAME``; the classifier is a 1x1 ``logits`` convolution with
biases on the globally pooled features.

The networks TF-Slim lacks follow the published architectures in slim's naming:

- ``resnet_v1_18``: the paper's 18-layer ImageNet network (Table 1): ``basic_v1`` units of two
  3x3 convolutions, 2 per block at 64/128/256/512 filters; as in the paper, a block
  downsamples in its *first* unit, and the shortcut is the identity or, where the shape
  changes, a 1x1 projection with batch norm (the paper's option B). 11.7M parameters.
- ``resnet_v1_50_8k``: ``resnet_v1_50`` prepared for large-batch training (Goyal et al. 2017,
  "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour"): the last batch norm of every
  residual branch (``conv3/BatchNorm/gamma``) starts at zero, so each block starts as the
  identity. Same variables as ``resnet_v1_50`` (scope ``resnet_v1_50``), so checkpoints are
  interchangeable.
- ``resnet_v1_20`` / ``resnet_v1_110``: the paper's CIFAR-10 networks (Section 4.2): a 3x3
  convolution of 16 filters, then 3 blocks of n = 3 / 18 basic units at 16/32/64 filters on
  32x32, 16x16, 8x8 maps (the first unit of blocks 2 and 3 downsamples), global average pool
  and the classifier. Shortcuts are all parameter-free (the paper's option A: subsampled
  identity, zero-padded channels), which gives the paper's 0.27M / 1.7M parameters.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_nets_classic import resnet_utils
from mox_nets_classic.resnet_utils import Block, conv2d_same

tf1 = tf.compat.v1

__all__ = [
    "basic",
    "bottleneck",
    "resnet_v1",
    "resnet_v1_101",
    "resnet_v1_110",
    "resnet_v1_152",
    "resnet_v1_18",
    "resnet_v1_20",
    "resnet_v1_200",
    "resnet_v1_50",
    "resnet_v1_50_8k",
    "resnet_v1_basic_block",
    "resnet_v1_block",
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
    use_bounded_activations: bool = False,
    zero_init_last_gamma: bool = False,
    data_format: str = "NHWC",
):
    """Slim's v1 bottleneck: 1x1 (``conv1``), 3x3 with the stride (``conv2``), 1x1 (``conv3``).

    ``use_bounded_activations`` (slim's option for quantized inference) uses relu6 and clips the
    residual; ``zero_init_last_gamma`` starts ``conv3``'s batch-norm gamma at zero (Goyal et al.).
    """
    with tf1.variable_scope(scope, "bottleneck_v1", [inputs]) as sc:
        shortcut = resnet_utils.shortcut(
            inputs, depth, stride, data_format,
            activation_fn=tf.nn.relu6 if use_bounded_activations else None,
        )  # fmt: skip
        residual = layers.conv2d(inputs, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = conv2d_same(
            residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2", data_format=data_format
        )
        with _zero_gamma() if zero_init_last_gamma else contextlib.nullcontext():
            residual = layers.conv2d(
                residual, depth, [1, 1], stride=1, activation_fn=None, scope="conv3"
            )
        if use_bounded_activations:
            residual = tf.clip_by_value(residual, -6.0, 6.0)
            output = tf.nn.relu6(shortcut + residual)
        else:
            output = tf.nn.relu(shortcut + residual)
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


@layers.add_arg_scope
def basic(
    inputs,
    depth: int,
    stride: int,
    rate: int = 1,
    shortcut_type: str = "projection",
    outputs_collections=None,
    scope: str | None = None,
    data_format: str = "NHWC",
):
    """The paper's basic unit: two 3x3 convolutions (``conv1`` with the stride, ``conv2``).

    Where the depth changes, the shortcut is a 1x1 ``shortcut`` convolution with batch norm
    (``shortcut_type='projection'``, option B) or the subsampled input with zero channels
    appended on both sides (``'zero_pad'``, option A: no parameters).
    """
    if shortcut_type not in ("projection", "zero_pad"):
        raise ValueError(f"shortcut_type must be 'projection' or 'zero_pad', got {shortcut_type!r}")
    with tf1.variable_scope(scope, "basic_v1", [inputs]) as sc:
        depth_in = net_utils.depth(inputs, data_format)
        if depth == depth_in or shortcut_type == "projection":
            shortcut = resnet_utils.shortcut(inputs, depth, stride, data_format, activation_fn=None)
        else:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
            shortcut = _pad_channels(shortcut, depth - depth_in, data_format)
        residual = conv2d_same(
            inputs, depth, 3, stride, rate=rate, scope="conv1", data_format=data_format
        )
        residual = conv2d_same(
            residual, depth, 3, 1, rate=rate, scope="conv2", data_format=data_format,
            activation_fn=None,
        )  # fmt: skip
        output = tf.nn.relu(shortcut + residual)
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


def _zero_gamma():
    return layers.arg_scope(
        [layers.batch_norm], param_initializers={"gamma": tf1.zeros_initializer()}
    )


def _pad_channels(net: tf.Tensor, extra: int, data_format: str) -> tf.Tensor:
    """Append ``extra`` zero channels, half before and half after the existing ones."""
    paddings = [[0, 0], [0, 0], [0, 0], [0, 0]]
    paddings[net_utils.channel_axis(data_format)] = [extra // 2, extra - extra // 2]
    return tf.pad(net, paddings)


def cifar_root(net: tf.Tensor, data_format: str) -> tf.Tensor:
    """The CIFAR stem of the paper: one 3x3 convolution of 16 filters, no pooling."""
    del data_format  # the arg scope sets it
    return layers.conv2d(net, 16, [3, 3], scope="conv1")


cifar_root.stride = 1


#: What makes :func:`mox_nets_classic.resnet_utils.resnet` a v1 ResNet.
V1 = {"default_scope": "resnet_v1", "root_block": resnet_utils.imagenet_root, "postnorm": False}


def resnet_v1(inputs, blocks: list[Block], num_classes: int | None = None, **kwargs):
    """TF-Slim's generic ResNet v1 on ``inputs`` (in the layers' layout): ``(logits,
    end_points)``.

    ``kwargs`` are :func:`mox_nets_classic.resnet_utils.resnet`'s (``is_training``,
    ``global_pool``, ``output_stride``, ..., and ``root_block``, the stem: ImageNet's by
    default). Call it inside :func:`mox_nets_classic.resnet_utils.resnet_arg_scope`.
    """
    return resnet_utils.resnet(inputs, blocks, num_classes, **{**V1, **kwargs})


def resnet_v1_block(scope: str, base_depth: int, num_units: int, stride: int, **unit_args) -> Block:
    """Slim's v1 bottleneck block: ``num_units`` units of depth ``4 * base_depth``, the stride
    in the last one; ``unit_args`` go to every unit (e.g. ``zero_init_last_gamma``)."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth, **unit_args}
    return resnet_utils.block(scope, bottleneck, unit, num_units, stride)


def resnet_v1_basic_block(
    scope: str, depth: int, num_units: int, stride: int, shortcut_type: str = "projection"
) -> Block:
    """The paper's block of basic units: the stride in the first unit, as in the paper."""
    unit = {"depth": depth, "shortcut_type": shortcut_type}
    return resnet_utils.block(scope, basic, unit, num_units, stride, stride_first=True)


def _bottleneck_blocks(units: tuple[int, ...], **unit_args):
    return resnet_utils.imagenet_blocks(resnet_v1_block, units, **unit_args)


def _basic_blocks(base_depth: int, units: tuple[int, ...], first_stride: int, shortcut_type):
    """The paper's blocks of basic units (ResNet-18, the CIFAR ResNets): depth doubling per
    block, the first block strided by ``first_stride``, the others by 2."""

    def blocks():
        return [
            resnet_v1_basic_block(
                f"block{i + 1}",
                base_depth * 2**i,
                n,
                first_stride if i == 0 else 2,
                shortcut_type,
            )
            for i, n in enumerate(units)
        ]

    return blocks


_SLIM_DOC = """ResNet-{0} v1 as TF-Slim's ``resnet_v1_{0}``; returns ``(logits, end_points)``."""
resnet_v1_50 = resnet_utils.network_builder(
    "resnet_v1_50", _bottleneck_blocks((3, 4, 6, 3)), _SLIM_DOC.format(50), **V1
)
resnet_v1_101 = resnet_utils.network_builder(
    "resnet_v1_101", _bottleneck_blocks((3, 4, 23, 3)), _SLIM_DOC.format(101), **V1
)
resnet_v1_152 = resnet_utils.network_builder(
    "resnet_v1_152", _bottleneck_blocks((3, 8, 36, 3)), _SLIM_DOC.format(152), **V1
)
resnet_v1_200 = resnet_utils.network_builder(
    "resnet_v1_200", _bottleneck_blocks((3, 24, 36, 3)), _SLIM_DOC.format(200), **V1
)
resnet_v1_50_8k = resnet_utils.network_builder(
    "resnet_v1_50_8k",
    _bottleneck_blocks((3, 4, 6, 3), zero_init_last_gamma=True),
    """ResNet-50 v1 for large-batch training (Goyal et al. 2017): the last batch-norm gamma of
    each residual branch starts at zero; the variables of ``resnet_v1_50``, under its scope.""",
    scope="resnet_v1_50",
    **V1,
)
resnet_v1_18 = resnet_utils.network_builder(
    "resnet_v1_18",
    _basic_blocks(64, (2, 2, 2, 2), 1, "projection"),
    """The ResNet paper's 18-layer ImageNet network (basic units, projection shortcuts).""",
    **V1,
)


def _cifar_network(name: str, units_per_block: int):
    """The paper's CIFAR ResNet with ``6 * units_per_block + 2`` layers."""
    return resnet_utils.network_builder(
        name,
        _basic_blocks(16, (units_per_block,) * 3, 1, "zero_pad"),
        f"""The ResNet paper's {6 * units_per_block + 2}-layer CIFAR-10 network (n =
    {units_per_block}, option A shortcuts) on 32x32 inputs; returns ``(logits, end_points)``.""",
        num_classes=10,
        **{**V1, "root_block": cifar_root},
    )


resnet_v1_20 = _cifar_network("resnet_v1_20", 3)
resnet_v1_110 = _cifar_network("resnet_v1_110", 18)
