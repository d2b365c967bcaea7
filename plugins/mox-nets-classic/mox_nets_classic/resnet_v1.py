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

from mox_core.nets import layers
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
        depth_in = resnet_utils.depth(inputs, data_format)
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
        else:
            shortcut = layers.conv2d(
                inputs,
                depth,
                [1, 1],
                stride=stride,
                activation_fn=tf.nn.relu6 if use_bounded_activations else None,
                scope="shortcut",
            )
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
        depth_in = resnet_utils.depth(inputs, data_format)
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
        elif shortcut_type == "projection":
            shortcut = layers.conv2d(
                inputs, depth, [1, 1], stride=stride, activation_fn=None, scope="shortcut"
            )
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
    paddings[resnet_utils.channel_axis(data_format)] = [extra // 2, extra - extra // 2]
    return tf.pad(net, paddings)


def cifar_root(net: tf.Tensor, data_format: str) -> tf.Tensor:
    """The CIFAR stem of the paper: one 3x3 convolution of 16 filters, no pooling."""
    del data_format  # the arg scope sets it
    return layers.conv2d(net, 16, [3, 3], scope="conv1")


cifar_root.stride = 1


def resnet_v1(
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
    data_format: str = "NHWC",
    root_block=resnet_utils.imagenet_root,
):
    """TF-Slim's generic ResNet v1 on NHWC ``inputs``; returns ``(logits, end_points)``.

    Call it inside :func:`mox_nets_classic.resnet_utils.resnet_arg_scope`. ``root_block(net,
    data_format)`` is the stem (ImageNet's by default; its ``stride`` attribute is what
    ``output_stride`` is divided by). ``num_classes=None`` returns the pooled features.
    """
    with tf1.variable_scope(scope, "resnet_v1", [inputs], reuse=reuse) as sc:
        end_points_collection = sc.original_name_scope + "_end_points"
        unit_fns = list(dict.fromkeys(block.unit_fn for block in blocks))
        with layers.arg_scope(
            [layers.conv2d, resnet_utils.stack_blocks_dense, *unit_fns],
            outputs_collections=end_points_collection,
        ):
            with layers.arg_scope(unit_fns, data_format=data_format):
                with layers.arg_scope([layers.batch_norm], is_training=is_training):
                    net = resnet_utils.to_data_format(inputs, data_format)
                    if include_root_block:
                        if output_stride is not None:
                            if output_stride % root_block.stride != 0:
                                raise ValueError(
                                    f"The output_stride needs to be a multiple of "
                                    f"{root_block.stride}."
                                )
                            output_stride //= root_block.stride
                        net = root_block(net, data_format)
                    net = resnet_utils.stack_blocks_dense(
                        net, blocks, output_stride, store_non_strided_activations
                    )
                    end_points = layers.convert_collection_to_dict(end_points_collection)
                    net = resnet_utils.classification_head(
                        net, end_points, sc.name, num_classes, global_pool, spatial_squeeze,
                        data_format,
                    )  # fmt: skip
                    return net, end_points


resnet_v1.default_image_size = 224


def resnet_v1_block(scope: str, base_depth: int, num_units: int, stride: int) -> Block:
    """Slim's v1 bottleneck block: ``num_units`` units of depth ``4 * base_depth``, the stride
    in the last one."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth, "stride": 1}
    return Block(scope, bottleneck, [unit] * (num_units - 1) + [dict(unit, stride=stride)])


def resnet_v1_basic_block(
    scope: str, depth: int, num_units: int, stride: int, shortcut_type: str = "projection"
) -> Block:
    """The paper's block of basic units: the stride in the first unit, as in the paper."""
    unit = {"depth": depth, "stride": 1, "shortcut_type": shortcut_type}
    return Block(scope, basic, [dict(unit, stride=stride)] + [unit] * (num_units - 1))


def _bottleneck_network(
    name: str, units: tuple[int, ...], doc: str, zero_init_last_gamma=False, scope=None
):
    """A slim ImageNet ResNet v1 builder with the network contract of ``get_model_fn``."""

    def builder(
        images,
        num_classes: int | None = 1000,
        *,
        is_training,
        weight_decay: float = 0.0,
        data_format: str = "NHWC",
        batch_norm_fused: bool | None = False,
        batch_renorm: bool = False,
        global_pool: bool = True,
        output_stride: int | None = None,
        spatial_squeeze: bool = True,
        store_non_strided_activations: bool = False,
        min_base_depth: int = 8,
        depth_multiplier: float = 1,
        reuse: bool | None = None,
        scope: str = scope or name,
    ):
        def depth_func(d):
            return max(int(d * depth_multiplier), min_base_depth)

        blocks = [
            resnet_v1_block(f"block{i + 1}", depth_func(64 * 2**i), n, 2 if i < 3 else 1)
            for i, n in enumerate(units)
        ]
        with layers.arg_scope([bottleneck], zero_init_last_gamma=zero_init_last_gamma):
            return resnet_utils.build(
                resnet_v1, images, blocks, num_classes,
                weight_decay=weight_decay, data_format=data_format,
                batch_norm_fused=batch_norm_fused, batch_renorm=batch_renorm,
                is_training=is_training,
                global_pool=global_pool,
                output_stride=output_stride,
                spatial_squeeze=spatial_squeeze,
                store_non_strided_activations=store_non_strided_activations,
                reuse=reuse,
                scope=scope,
            )  # fmt: skip

    builder.__doc__ = doc
    return _named(builder, name, 224)


def _named(builder, name: str, default_image_size: int):
    builder.__name__ = builder.__qualname__ = name
    builder.default_image_size = default_image_size
    return builder


_SLIM_DOC = """ResNet-{} v1 as TF-Slim's ``resnet_v1_{}``; returns ``(logits, end_points)``."""
resnet_v1_50 = _bottleneck_network("resnet_v1_50", (3, 4, 6, 3), _SLIM_DOC.format(50, 50))
resnet_v1_101 = _bottleneck_network("resnet_v1_101", (3, 4, 23, 3), _SLIM_DOC.format(101, 101))
resnet_v1_152 = _bottleneck_network("resnet_v1_152", (3, 8, 36, 3), _SLIM_DOC.format(152, 152))
resnet_v1_200 = _bottleneck_network("resnet_v1_200", (3, 24, 36, 3), _SLIM_DOC.format(200, 200))
resnet_v1_50_8k = _bottleneck_network(
    "resnet_v1_50_8k",
    (3, 4, 6, 3),
    """ResNet-50 v1 for large-batch training (Goyal et al. 2017): the last batch-norm gamma of
    each residual branch starts at zero; the variables of ``resnet_v1_50``, under its scope.""",
    zero_init_last_gamma=True,
    scope="resnet_v1_50",
)


def resnet_v1_18(
    images,
    num_classes: int | None = 1000,
    *,
    is_training,
    weight_decay: float = 0.0,
    data_format: str = "NHWC",
    batch_norm_fused: bool | None = False,
    batch_renorm: bool = False,
    global_pool: bool = True,
    output_stride: int | None = None,
    spatial_squeeze: bool = True,
    reuse: bool | None = None,
    scope: str = "resnet_v1_18",
):
    """The ResNet paper's 18-layer ImageNet network (basic units, projection shortcuts)."""
    blocks = [
        resnet_v1_basic_block(f"block{i + 1}", 64 * 2**i, 2, 1 if i == 0 else 2) for i in range(4)
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


resnet_v1_18.default_image_size = 224


def _cifar_network(name: str, units_per_block: int):
    """A builder of the paper's CIFAR ResNet with ``6 * units_per_block + 2`` layers."""

    def builder(
        images,
        num_classes: int | None = 10,
        *,
        is_training,
        weight_decay: float = 0.0,
        data_format: str = "NHWC",
        batch_norm_fused: bool | None = False,
        batch_renorm: bool = False,
        global_pool: bool = True,
        spatial_squeeze: bool = True,
        reuse: bool | None = None,
        scope: str = name,
    ):
        blocks = [
            resnet_v1_basic_block(
                f"block{i + 1}", 16 * 2**i, units_per_block, 1 if i == 0 else 2, "zero_pad"
            )
            for i in range(3)
        ]
        return resnet_utils.build(
            resnet_v1, images, blocks, num_classes,
            weight_decay=weight_decay, data_format=data_format,
            batch_norm_fused=batch_norm_fused, batch_renorm=batch_renorm,
            is_training=is_training,
            global_pool=global_pool,
            spatial_squeeze=spatial_squeeze,
            reuse=reuse,
            scope=scope,
            root_block=cifar_root,
        )  # fmt: skip

    builder.__doc__ = f"""The ResNet paper's {6 * units_per_block + 2}-layer CIFAR-10 network
    (n = {units_per_block}, option A shortcuts) on 32x32 inputs; returns ``(logits, end_points)``."""
    return _named(builder, name, 32)


resnet_v1_20 = _cifar_network("resnet_v1_20", 3)
resnet_v1_110 = _cifar_network("resnet_v1_110", 18)
