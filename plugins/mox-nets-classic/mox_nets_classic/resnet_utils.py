"""What the ResNet family shares, as TF-Slim's ``nets/resnet_utils.py``.

A network is a list of :class:`Block` s, each a scope and the arguments of its units
(:func:`block` makes the usual ones); :func:`stack_blocks_dense` builds them under
``<net>/blockN/unit_M/`` and, with ``output_stride``, turns the strides that would overshoot into
atrous rates (dense prediction). :func:`conv2d_same` pads explicitly at stride > 1 so that the
output does not depend on the input size's parity, which is what makes TF-Slim's checkpoints
give TF-Slim's numbers: the padding of a strided ``SAME`` convolution differs between even and
odd inputs. :func:`resnet_arg_scope` is slim's (variance-scaling weights, L2 weight decay on
every convolution, batch norm with decay 0.997, epsilon 1e-5 and gamma, pool1 ``SAME``).
:func:`resnet` is the body of slim's ``resnet_v1`` and ``resnet_v2`` (stem, blocks, classifier)
and :func:`network_builder` makes a ``get_model_fn`` builder of one network from its blocks.

Everything runs in either layout: the units take the layers' ``data_format`` from the arg
scope ``get_model_fn`` enters.
"""

from __future__ import annotations

import collections
import inspect
from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import variance_scaling
from mox_core.nets.net_utils import batch_norm_params, fixed_padding

tf1 = tf.compat.v1


class Block(collections.namedtuple("Block", ["scope", "unit_fn", "args"])):
    """A ResNet block: ``unit_fn(net, **args[i])`` for each unit, under variable scope ``scope``.

    ``args`` is a list of dicts (e.g. ``depth``, ``depth_bottleneck``, ``stride``), one per unit.
    """


def block(
    scope: str, unit_fn: Callable, unit: dict, num_units: int, stride: int, stride_first=False
) -> Block:
    """``num_units`` units of the same arguments ``unit``, one of them with ``stride``.

    The stride sits in the *last* unit, as in TF-Slim's ResNets (``resnet_v1_block``), or with
    ``stride_first`` in the first, as in the papers' code (ResNet-18, the CIFAR ResNets,
    ResNeXt).
    """
    units = [dict(unit, stride=1) for _ in range(num_units)]
    units[0 if stride_first else -1]["stride"] = stride
    return Block(scope, unit_fn, units)


def imagenet_blocks(block_fn: Callable[..., Block], units: tuple[int, ...], **unit_args):
    """TF-Slim's ImageNet stages as ``blocks(min_base_depth=8, depth_multiplier=1)``:
    ``units[i]`` units of base depth ``64 * 2**i`` (scaled by ``depth_multiplier``, at least
    ``min_base_depth``), stride 2 in every stage but the last. ``block_fn`` is
    ``resnet_v1_block`` or ``resnet_v2_block``; ``unit_args`` go to every unit."""

    def blocks(min_base_depth: int = 8, depth_multiplier: float = 1):
        depth = net_utils.depth_fn(depth_multiplier, min_base_depth)
        return [
            block_fn(f"block{i + 1}", depth(64 * 2**i), n, 2 if i < 3 else 1, **unit_args)
            for i, n in enumerate(units)
        ]

    return blocks


def subsample(inputs: tf.Tensor, factor: int, scope: str | None = None) -> tf.Tensor:
    """Every ``factor``-th row and column (a 1x1 max pool), or ``inputs`` when ``factor`` is 1."""
    if factor == 1:
        return inputs
    return layers.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def shortcut(inputs, depth: int, stride: int, data_format: str, source=None, **conv_kwargs):
    """A unit's shortcut: the (subsampled) input when the depth does not change, else a 1x1
    projection ``shortcut`` of ``source`` (the input, or v2's pre-activated input) at
    ``stride``; ``conv_kwargs`` go to its ``layers.conv2d`` (e.g. ``activation_fn=None``)."""
    if depth == net_utils.depth(inputs, data_format):
        return subsample(inputs, stride, "shortcut")
    source = inputs if source is None else source
    return layers.conv2d(source, depth, [1, 1], stride=stride, scope="shortcut", **conv_kwargs)


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
) -> dict:
    """TF-Slim's ``resnet_arg_scope``.

    pool1 is ``SAME`` (fb.resnet.torch's and TF-Slim's choice; the original Caffe ResNets
    used ``VALID``). The batch-norm settings also reach the batch norms the units call
    directly (v2's ``preact``, ResNeXt's path normalization).
    """
    normalizer_params = batch_norm_params(
        batch_norm_decay,
        batch_norm_epsilon,
        scale=batch_norm_scale,
        updates_collections=batch_norm_updates_collections,
    )
    with layers.arg_scope(
        [layers.conv2d],
        weights_regularizer=layers.l2_regularizer(weight_decay),
        weights_initializer=variance_scaling(),
        activation_fn=activation_fn,
        normalizer_fn=layers.batch_norm if use_batch_norm else None,
        normalizer_params=normalizer_params,
    ):
        with layers.arg_scope([layers.batch_norm], **normalizer_params):
            with layers.arg_scope([layers.max_pool2d], padding="SAME") as arg_sc:
                return arg_sc


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
    Unsqueezed logits come back as an NHWC score map whatever the layout.
    """
    if global_pool:
        net = net_utils.global_average_pool(net, data_format, name="pool5")
        end_points["global_pool"] = net
    if not num_classes:
        return net
    net = layers.conv2d(
        net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None, scope="logits"
    )
    end_points[scope_name + "/logits"] = net
    net = heads.squeeze_logits(net, spatial_squeeze, data_format)
    if spatial_squeeze:
        end_points[scope_name + "/spatial_squeeze"] = net
    end_points["predictions"] = layers.softmax(net, scope="predictions")
    return net


def resnet(
    inputs,
    blocks: list[Block],
    num_classes: int | None = None,
    is_training=True,
    global_pool: bool = True,
    output_stride: int | None = None,
    include_root_block: bool = True,
    spatial_squeeze: bool = True,
    store_non_strided_activations: bool = False,
    reuse: bool | None = None,
    scope: str | None = None,
    *,
    default_scope: str,
    root_block: Callable,
    postnorm: bool,
):
    """The body of TF-Slim's ``resnet_v1`` / ``resnet_v2``: ``(logits, end_points)``.

    ``inputs`` are in the layers' layout. ``root_block(net, data_format)`` is the stem (its
    ``stride`` attribute is what ``output_stride`` is divided by); ``postnorm`` adds v2's batch
    norm + ReLU after the last block, whose units end without them. ``num_classes=None``
    returns the pooled features. Call it inside :func:`resnet_arg_scope`.
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, default_scope, [inputs], reuse=reuse) as sc:
        end_points_collection = sc.original_name_scope + "_end_points"
        unit_fns = list(dict.fromkeys(b.unit_fn for b in blocks))
        with layers.arg_scope(
            [layers.conv2d, stack_blocks_dense, *unit_fns],
            outputs_collections=end_points_collection,
        ):
            with layers.arg_scope(unit_fns, data_format=data_format):
                with layers.arg_scope([layers.batch_norm], is_training=is_training):
                    net = inputs
                    if include_root_block:
                        if output_stride is not None:
                            if output_stride % root_block.stride != 0:
                                raise ValueError(
                                    f"The output_stride needs to be a multiple of "
                                    f"{root_block.stride}."
                                )
                            output_stride //= root_block.stride
                        net = root_block(net, data_format)
                    net = stack_blocks_dense(
                        net, blocks, output_stride, store_non_strided_activations
                    )
                    if postnorm:
                        net = layers.batch_norm(net, activation_fn=tf.nn.relu, scope="postnorm")
                    end_points = layers.convert_collection_to_dict(end_points_collection)
                    net = classification_head(
                        net, end_points, sc.name, num_classes, global_pool, spatial_squeeze,
                        data_format,
                    )  # fmt: skip
                    return net, end_points


def network_builder(
    name: str, blocks: Callable[..., list[Block]], doc: str, num_classes: int = 1000,
    scope: str | None = None, **version,
):  # fmt: skip
    """The ``get_model_fn`` builder of one network of the family.

    ``blocks(**own) -> list[Block]`` makes the network's blocks from its own keywords (e.g.
    ``depth_multiplier``, ``cardinality``); :func:`resnet` builds them, with ``version`` (its
    ``default_scope``, ``root_block`` and ``postnorm``: ``resnet_v1.V1`` or ``resnet_v2.V2``).
    The builder's signature is ``(images, num_classes, *, is_training, <resnet's keywords>,
    <blocks' keywords>)``, ``scope`` defaulting to ``scope`` or ``name``, so that
    ``get_model_fn`` checks model kwargs against it.
    """
    P = inspect.Parameter
    scope = scope or name
    taken = {"inputs", "blocks", "num_classes", "is_training"}
    network_params = [
        p.replace(kind=P.KEYWORD_ONLY, default=scope if p.name == "scope" else p.default)
        for p in inspect.signature(resnet).parameters.values()
        if p.name not in taken and p.kind is P.POSITIONAL_OR_KEYWORD
    ]
    block_params = [
        p.replace(kind=P.KEYWORD_ONLY) for p in inspect.signature(blocks).parameters.values()
    ]
    block_names = {p.name for p in block_params}

    def build(images, num_classes=num_classes, *, is_training, **arch):
        own = {key: arch.pop(key) for key in list(arch) if key in block_names}
        arch.setdefault("scope", scope)
        return resnet(images, blocks(**own), num_classes, is_training, **arch, **version)

    build.__signature__ = inspect.Signature([
        P("images", P.POSITIONAL_OR_KEYWORD),
        P("num_classes", P.POSITIONAL_OR_KEYWORD, default=num_classes),
        P("is_training", P.KEYWORD_ONLY),
        *network_params,
        *block_params,
    ])  # fmt: skip
    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc
    return build
