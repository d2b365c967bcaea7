"""ResNeXt (Xie et al. 2017, "Aggregated Residual Transformations for Deep Neural Networks").

The 32x4d networks of the paper's Table 1: ResNet's stem and stages (3, 4, 6, 3 units for 50
layers, 3, 4, 23, 3 for 101), each unit a bottleneck whose 3x3 layer is split into
``cardinality`` = 32 paths of ``bottleneck_width`` = 4 channels at the first stage (doubling per
stage: 128, 256, 512, 1024 channels in all), output 256, 512, 1024, 2048 channels. As in the
paper's code (fb.resnet.torch), a stage downsamples in its first unit, on the 3x3 layer, and a
shortcut that changes shape is a 1x1 projection with batch norm. Batch norm, weight decay and
the classifier are TF-Slim's ResNet ones (``resnet_arg_scope``), in slim's naming, under
``resnext_b_50/``, ``resnext_c_101/``, ...

``b`` and ``c`` are two of the paper's three equivalent forms (its Figure 3), the same
function with the same number of parameters:

- ``c``: the 3x3 layer is one grouped convolution, ``conv2/weights`` ``[3, 3, 4, 128]`` (native
  on GPU; convolved group by group on CPU, where TensorFlow has no grouped-convolution
  gradient).
- ``b``: split-transform-concatenate, the paths spelled out: ``conv2/path_1/weights`` ..
  ``conv2/path_32/weights`` ``[3, 3, 4, 4]`` each, concatenated, then batch norm on the
  concatenation (per channel, so the same as a batch norm in each path). The 1x1 layer before
  is one convolution in both forms: 32 1x1 paths reading the same input are one 1x1
  convolution with 32 * 4 outputs, and one variable instead of 32 keeps the graph small.

A ``b`` checkpoint becomes a ``c`` one by concatenating the path weights on their last axis.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_nets_classic import resnet_utils
from mox_nets_classic.resnet_utils import Block, conv2d_same
from mox_nets_classic.resnet_v1 import V1

tf1 = tf.compat.v1

__all__ = [
    "bottleneck",
    "resnext_b_101",
    "resnext_b_50",
    "resnext_block",
    "resnext_c_101",
    "resnext_c_50",
]


@layers.add_arg_scope
def bottleneck(
    inputs,
    depth: int,
    depth_bottleneck: int,
    cardinality: int,
    stride: int,
    rate: int = 1,
    form: str = "c",
    outputs_collections=None,
    scope: str | None = None,
    data_format: str = "NHWC",
):
    """ResNeXt unit: 1x1, the 3x3 split into ``cardinality`` paths (with the stride), 1x1.

    ``form='c'``: the 3x3 is one grouped convolution; ``'b'``: ``cardinality`` separate 3x3
    convolutions ``conv2/path_N``, concatenated, then one batch norm (default scope
    ``bottleneck_b`` / ``bottleneck_c``).
    """
    if form not in ("b", "c"):
        raise ValueError(f"form must be 'b' or 'c', got {form!r}")
    if depth_bottleneck % cardinality:
        raise ValueError(
            f"cardinality {cardinality} must divide the bottleneck depth {depth_bottleneck}"
        )
    with tf1.variable_scope(scope, f"bottleneck_{form}", [inputs]) as sc:
        shortcut = resnet_utils.shortcut(inputs, depth, stride, data_format, activation_fn=None)
        residual = layers.conv2d(inputs, depth_bottleneck, [1, 1], scope="conv1")
        if form == "c":
            residual = conv2d_same(
                residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2",
                data_format=data_format, groups=cardinality,
            )  # fmt: skip
        else:
            residual = _paths(residual, cardinality, stride, rate, outputs_collections, data_format)
        residual = layers.conv2d(residual, depth, [1, 1], activation_fn=None, scope="conv3")
        output = tf.nn.relu(shortcut + residual)
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


def _paths(net, cardinality: int, stride: int, rate: int, outputs_collections, data_format: str):
    """Form (b)'s ``conv2``: the 3x3 convolution of each group of channels, concatenated.

    The paths have neither biases nor their own batch norm: one normalizes them all.
    """
    axis = net_utils.channel_axis(data_format)
    width = net_utils.depth(net, data_format) // cardinality
    plain = {"data_format": data_format, "normalizer_fn": None, "activation_fn": None,
             "biases_initializer": None}  # fmt: skip
    with tf1.variable_scope("conv2", values=[net]) as conv2:
        paths = [
            conv2d_same(split, width, 3, stride, rate=rate, scope=f"path_{i + 1}", **plain)
            for i, split in enumerate(tf.split(net, cardinality, axis=axis))
        ]
        net = tf.concat(paths, axis=axis)
        net = layers.batch_norm(net, activation_fn=tf.nn.relu)
        return layers.collect_named_outputs(outputs_collections, conv2.name, net)


def resnext_block(
    scope: str, form: str, depth: int, depth_bottleneck: int, cardinality: int, num_units: int,
    stride: int,
) -> Block:  # fmt: skip
    """A ResNeXt stage: ``num_units`` units, the stride in the first (as the paper's code)."""
    unit = {"depth": depth, "depth_bottleneck": depth_bottleneck, "cardinality": cardinality,
            "form": form}  # fmt: skip
    return resnet_utils.block(scope, bottleneck, unit, num_units, stride, stride_first=True)


def _blocks(form: str, units: tuple[int, ...]):
    """The paper's stages: output 256 * 2**i channels, ``cardinality`` paths of
    ``bottleneck_width`` * 2**i channels each."""

    def blocks(cardinality: int = 32, bottleneck_width: int = 4):
        return [
            resnext_block(
                f"block{i + 1}",
                form,
                256 * 2**i,
                cardinality * bottleneck_width * 2**i,
                cardinality,
                n,
                1 if i == 0 else 2,
            )
            for i, n in enumerate(units)
        ]

    return blocks


def _network(name: str, form: str, units: tuple[int, ...]):
    doc = f"""ResNeXt-{3 * sum(units) + 2} in the paper's form ({form}), ``cardinality`` x
    ``bottleneck_width`` = 32x4d by default; returns ``(logits, end_points)``."""
    return resnet_utils.network_builder(name, _blocks(form, units), doc, **V1)


resnext_b_50 = _network("resnext_b_50", "b", (3, 4, 6, 3))
resnext_b_101 = _network("resnext_b_101", "b", (3, 4, 23, 3))
resnext_c_50 = _network("resnext_c_50", "c", (3, 4, 6, 3))
resnext_c_101 = _network("resnext_c_101", "c", (3, 4, 23, 3))
