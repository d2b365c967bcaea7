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

from mox_core.nets import layers
from mox_nets_classic import resnet_utils
from mox_nets_classic.resnet_utils import Block, conv2d_same
from mox_nets_classic.resnet_v1 import resnet_v1

tf1 = tf.compat.v1

__all__ = [
    "bottleneck_b",
    "bottleneck_c",
    "resnext_b_101",
    "resnext_b_50",
    "resnext_block",
    "resnext_c_101",
    "resnext_c_50",
]


def _shortcut(inputs, depth: int, stride: int, data_format: str):
    if depth == resnet_utils.depth(inputs, data_format):
        return resnet_utils.subsample(inputs, stride, "shortcut")
    return layers.conv2d(inputs, depth, [1, 1], stride=stride, activation_fn=None, scope="shortcut")


@layers.add_arg_scope
def bottleneck_c(
    inputs,
    depth: int,
    depth_bottleneck: int,
    cardinality: int,
    stride: int,
    rate: int = 1,
    outputs_collections=None,
    scope: str | None = None,
    data_format: str = "NHWC",
):
    """ResNeXt unit, form (c): 1x1, grouped 3x3 (``cardinality`` groups, the stride), 1x1."""
    with tf1.variable_scope(scope, "bottleneck_c", [inputs]) as sc:
        shortcut = _shortcut(inputs, depth, stride, data_format)
        residual = layers.conv2d(inputs, depth_bottleneck, [1, 1], scope="conv1")
        residual = conv2d_same(
            residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2",
            data_format=data_format, groups=cardinality,
        )  # fmt: skip
        residual = layers.conv2d(residual, depth, [1, 1], activation_fn=None, scope="conv3")
        output = tf.nn.relu(shortcut + residual)
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


@layers.add_arg_scope
def bottleneck_b(
    inputs,
    depth: int,
    depth_bottleneck: int,
    cardinality: int,
    stride: int,
    rate: int = 1,
    outputs_collections=None,
    scope: str | None = None,
    data_format: str = "NHWC",
):
    """ResNeXt unit, form (b): 1x1, ``cardinality`` separate 3x3 paths concatenated, 1x1."""
    if depth_bottleneck % cardinality:
        raise ValueError(
            f"cardinality {cardinality} must divide the bottleneck depth {depth_bottleneck}"
        )
    width = depth_bottleneck // cardinality
    axis = resnet_utils.channel_axis(data_format)
    with tf1.variable_scope(scope, "bottleneck_b", [inputs]) as sc:
        shortcut = _shortcut(inputs, depth, stride, data_format)
        residual = layers.conv2d(inputs, depth_bottleneck, [1, 1], scope="conv1")
        # The paths have neither biases nor their own batch norm: one normalizes them all.
        plain = {"data_format": data_format, "normalizer_fn": None, "activation_fn": None,
                 "biases_initializer": None}  # fmt: skip
        with tf1.variable_scope("conv2", values=[residual]) as conv2:
            paths = [
                conv2d_same(split, width, 3, stride, rate=rate, scope=f"path_{i + 1}", **plain)
                for i, split in enumerate(tf.split(residual, cardinality, axis=axis))
            ]
            residual = tf.concat(paths, axis=axis)
            residual = layers.batch_norm(residual, activation_fn=tf.nn.relu)
            residual = layers.collect_named_outputs(outputs_collections, conv2.name, residual)
        residual = layers.conv2d(residual, depth, [1, 1], activation_fn=None, scope="conv3")
        output = tf.nn.relu(shortcut + residual)
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


def resnext_block(
    scope: str, unit_fn, depth: int, depth_bottleneck: int, cardinality: int, num_units: int,
    stride: int,
) -> Block:  # fmt: skip
    """A ResNeXt stage: ``num_units`` units, the stride in the first (as the paper's code)."""
    unit = {
        "depth": depth,
        "depth_bottleneck": depth_bottleneck,
        "cardinality": cardinality,
        "stride": 1,
    }
    return Block(scope, unit_fn, [dict(unit, stride=stride)] + [unit] * (num_units - 1))


def _network(name: str, unit_fn, units: tuple[int, ...], form: str):
    """A ResNeXt builder with the network contract of ``get_model_fn``."""

    def builder(
        images,
        num_classes: int | None = 1000,
        *,
        is_training,
        weight_decay: float = 0.0,
        data_format: str = "NHWC",
        batch_norm_fused: bool | None = False,
        batch_renorm: bool = False,
        cardinality: int = 32,
        bottleneck_width: int = 4,
        global_pool: bool = True,
        output_stride: int | None = None,
        spatial_squeeze: bool = True,
        reuse: bool | None = None,
        scope: str = name,
    ):
        blocks = [
            resnext_block(
                f"block{i + 1}",
                unit_fn,
                256 * 2**i,
                cardinality * bottleneck_width * 2**i,
                cardinality,
                n,
                1 if i == 0 else 2,
            )
            for i, n in enumerate(units)
        ]
        return resnet_utils.build(
            resnet_v1, images, blocks, num_classes,
            weight_decay=weight_decay, data_format=data_format,
            batch_norm_fused=batch_norm_fused, batch_renorm=batch_renorm,
            is_training=is_training,
            global_pool=global_pool,
            output_stride=output_stride,
            spatial_squeeze=spatial_squeeze,
            reuse=reuse,
            scope=scope,
        )  # fmt: skip

    depth = 3 * sum(units) + 2
    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"""ResNeXt-{depth} in the paper's form ({form}), ``cardinality`` x
    ``bottleneck_width`` = 32x4d by default; returns ``(logits, end_points)``."""
    builder.default_image_size = 224
    return builder


resnext_b_50 = _network("resnext_b_50", bottleneck_b, (3, 4, 6, 3), "b")
resnext_b_101 = _network("resnext_b_101", bottleneck_b, (3, 4, 23, 3), "b")
resnext_c_50 = _network("resnext_c_50", bottleneck_c, (3, 4, 6, 3), "c")
resnext_c_101 = _network("resnext_c_101", bottleneck_c, (3, 4, 23, 3), "c")
