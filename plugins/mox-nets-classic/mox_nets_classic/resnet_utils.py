"""What the ResNet family shares, as TF-Slim's ``nets/resnet_utils.py``.

A network is a list of :class:`Block` s, each a scope and the arguments of its units;
:func:`stack_blocks_dense` builds them under ``<net>/blockN/unit_M/`` and, with ``output_stride``,
turns the strides that would overshoot into atrous rates (dense prediction). :func:`conv2d_same`
pads explicitly at stride > 1 so that the output does not depend on the input size's parity,
which is what makes TF-Slim's checkpoints give TF-Slim's numbers: the padding of a strided
``SAME`` convolution differs between even and odd inputs. :func:`resnet_arg_scope` is slim's
(variance-scaling weights, L2 weight decay on every convolution, batch norm with decay 0.997,
epsilon 1e-5 and gamma, pool1 ``SAME``), plus the knobs of ``get_model_fn``: data format, fused
batch norm and batch renormalization.

Everything runs in either layout: the networks transpose their NHWC input once when
``data_format='NCHW'`` and pass the layout to every layer through the arg scope.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import layers
from mox_core.nets.net_utils import (  # noqa: F401  (the ResNet modules use them)
    NCHW,
    batch_norm_params,
    channel_axis,
    depth,
    fixed_padding,
    spatial_axes,
    to_data_format,
)

tf1 = tf.compat.v1


class Block(collections.namedtuple("Block", ["scope", "unit_fn", "args"])):
    """A ResNet block: ``unit_fn(net, **args[i])`` for each unit, under variable scope ``scope``.

    ``args`` is a list of dicts (e.g. ``depth``, ``depth_bottleneck``, ``stride``), one per unit.
    """


def subsample(inputs: tf.Tensor, factor: int, scope: str | None = None) -> tf.Tensor:
    """Every ``factor``-th row and column (a 1x1 max pool), or ``inputs`` when ``factor`` is 1."""
    if factor == 1:
        return inputs
    return layers.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(
    inputs: tf.Tensor,
    num_outputs: int,
    kernel_size: int,
    stride: int,
    rate: int = 1,
    scope: str | None = None,
    data_format: str = "NHWC",
    **kwargs,
) -> tf.Tensor:
    """A convolution with ``SAME`` output size whose padding does not depend on the input size.

    At stride 1 it is ``conv2d(padding='SAME')``; at stride > 1 the input is zero-padded by
    ``(k_eff - 1) // 2`` before and the rest after (``k_eff`` the dilated kernel size), then
    convolved ``VALID``, as TF-Slim's ``conv2d_same``. ``kwargs`` go to ``layers.conv2d``.
    """
    if stride == 1:
        return layers.conv2d(
            inputs, num_outputs, kernel_size, stride=1, rate=rate, padding="SAME",
            data_format=data_format, scope=scope, **kwargs,
        )  # fmt: skip
    inputs = fixed_padding(inputs, kernel_size, data_format, rate)
    return layers.conv2d(
        inputs, num_outputs, kernel_size, stride=stride, rate=rate, padding="VALID",
        data_format=data_format, scope=scope, **kwargs,
    )  # fmt: skip


@layers.add_arg_scope
def stack_blocks_dense(
    net: tf.Tensor,
    blocks: list[Block],
    output_stride: int | None = None,
    store_non_strided_activations: bool = False,
    outputs_collections=None,
) -> tf.Tensor:
    """Build ``blocks`` one after the other, as TF-Slim's ``stack_blocks_dense``.

    ``output_stride`` (a multiple of the strides met so far) caps the total stride: once
    reached, the remaining strides become atrous rates, so the features stay dense at the same
    receptive field. ``store_non_strided_activations`` moves each block's last-unit stride to
    after the block, so the block's end point keeps the full resolution (slim's option for
    dense prediction heads). Each block's output is collected as ``<net>/blockN``.
    """
    current_stride = 1
    rate = 1
    for block in blocks:
        with tf1.variable_scope(block.scope, "block", [net]) as sc:
            block_stride = 1
            for i, unit in enumerate(block.args):
                if store_non_strided_activations and i == len(block.args) - 1:
                    block_stride = unit.get("stride", 1)
                    unit = dict(unit, stride=1)
                with tf1.variable_scope(f"unit_{i + 1}", values=[net]):
                    if output_stride is not None and current_stride == output_stride:
                        net = block.unit_fn(net, rate=rate, **dict(unit, stride=1))
                        rate *= unit.get("stride", 1)
                    else:
                        net = block.unit_fn(net, rate=1, **unit)
                        current_stride *= unit.get("stride", 1)
                        if output_stride is not None and current_stride > output_stride:
                            raise ValueError("The target output_stride cannot be reached.")
            net = layers.collect_named_outputs(outputs_collections, sc.name, net)
            if output_stride is not None and current_stride == output_stride:
                rate *= block_stride
            else:
                net = subsample(net, block_stride)
                current_stride *= block_stride
                if output_stride is not None and current_stride > output_stride:
                    raise ValueError("The target output_stride cannot be reached.")
    if output_stride is not None and current_stride != output_stride:
        raise ValueError("The target output_stride cannot be reached.")
    return net


def resnet_arg_scope(
    weight_decay: float = 0.0001,
    batch_norm_decay: float = 0.997,
    batch_norm_epsilon: float = 1e-5,
    batch_norm_scale: bool = True,
    activation_fn: Callable | None = tf.nn.relu,
    use_batch_norm: bool = True,
    batch_norm_updates_collections=tf1.GraphKeys.UPDATE_OPS,
    data_format: str = "NHWC",
    batch_norm_fused: bool | None = None,
    batch_renorm: bool = False,
) -> dict:
    """TF-Slim's ``resnet_arg_scope``, plus the layout, fused batch norm and renormalization.

    pool1 is ``SAME`` (fb.resnet.torch's and TF-Slim's choice; the original Caffe ResNets
    used ``VALID``). ``batch_norm_fused=None`` is slim's "fused when possible"; the numbers are
    the same either way. ``batch_renorm`` turns on batch renormalization with
    :data:`mox_core.nets.net_utils.RENORM_CLIPPING`.
    """
    normalizer_params = dict(
        batch_norm_params(
            batch_norm_decay,
            batch_norm_epsilon,
            scale=batch_norm_scale,
            fused=batch_norm_fused,
            renorm=batch_renorm,
            updates_collections=batch_norm_updates_collections,
        ),
        data_format=data_format,
    )
    with layers.arg_scope(
        [layers.conv2d],
        weights_regularizer=layers.l2_regularizer(weight_decay),
        weights_initializer=tf1.variance_scaling_initializer(
            scale=2.0, mode="fan_in", distribution="truncated_normal"
        ),
        activation_fn=activation_fn,
        normalizer_fn=layers.batch_norm if use_batch_norm else None,
        normalizer_params=normalizer_params,
    ):
        with layers.arg_scope([layers.batch_norm], **normalizer_params):
            with layers.arg_scope([layers.conv2d, layers.max_pool2d], data_format=data_format):
                with layers.arg_scope([layers.max_pool2d], padding="SAME") as arg_sc:
                    return arg_sc


def build(
    network: Callable,
    images,
    blocks: list[Block],
    num_classes: int | None,
    *,
    weight_decay: float,
    data_format: str,
    batch_norm_fused: bool | None,
    batch_renorm: bool,
    **kwargs,
):
    """``network(images, blocks, num_classes, **kwargs)`` (``resnet_v1`` or ``resnet_v2``) in
    :func:`resnet_arg_scope` with ``get_model_fn``'s weight decay, layout and batch-norm switches:
    what every ResNet-family builder does once it has its blocks."""
    arg_sc = resnet_arg_scope(
        weight_decay,
        data_format=data_format,
        batch_norm_fused=batch_norm_fused,
        batch_renorm=batch_renorm,
    )
    with layers.arg_scope(arg_sc):
        return network(images, blocks, num_classes, data_format=data_format, **kwargs)


def imagenet_root(net: tf.Tensor, data_format: str) -> tf.Tensor:
    """The ImageNet stem: 7x7/2 convolution of 64 filters (``conv1``), 3x3/2 max pool (``pool1``)."""
    net = conv2d_same(net, 64, 7, stride=2, scope="conv1", data_format=data_format)
    return layers.max_pool2d(net, [3, 3], stride=2, scope="pool1")


imagenet_root.stride = 4


def classification_head(
    net: tf.Tensor,
    end_points: dict,
    scope_name: str,
    num_classes: int | None,
    global_pool: bool,
    spatial_squeeze: bool,
    data_format: str,
) -> tf.Tensor:
    """Slim's ResNet head: global average pool, 1x1 ``logits`` convolution, squeeze, softmax.

    Adds ``global_pool``, ``<scope>/logits``, ``<scope>/spatial_squeeze`` and ``predictions`` to
    ``end_points``; with ``num_classes=None`` the (pooled) features are returned instead.
    """
    if global_pool:
        net = tf.reduce_mean(net, spatial_axes(data_format), name="pool5", keepdims=True)
        end_points["global_pool"] = net
    if not num_classes:
        return net
    net = layers.conv2d(
        net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None, scope="logits"
    )
    end_points[scope_name + "/logits"] = net
    if spatial_squeeze:
        net = tf.squeeze(net, spatial_axes(data_format), name="SpatialSqueeze")
        end_points[scope_name + "/spatial_squeeze"] = net
    if spatial_squeeze or data_format != NCHW:
        end_points["predictions"] = layers.softmax(net, scope="predictions")
    else:  # unsqueezed NCHW logits: the classes are on axis 1
        end_points["predictions"] = tf.nn.softmax(net, axis=1, name="predictions")
    return net
