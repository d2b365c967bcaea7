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
        depth_in = resnet_utils.depth(inputs, data_format)
        preact = layers.batch_norm(inputs, activation_fn=tf.nn.relu, scope="preact")
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
        else:
            shortcut = layers.conv2d(
                preact,
                depth,
                [1, 1],
                stride=stride,
                normalizer_fn=None,
                activation_fn=None,
                scope="shortcut",
            )
        residual = layers.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = conv2d_same(
            residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2", data_format=data_format
        )
        residual = layers.conv2d(
            residual, depth, [1, 1], stride=1, normalizer_fn=None, activation_fn=None, scope="conv3"
        )
        output = shortcut + residual
        return layers.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v2(
    inputs,
    blocks: list[Block],
    num_classes: int | None = None,
    is_training=True,
    global_pool: bool = True,
    output_stride: int | None = None,
    include_root_block: bool = True,
    spatial_squeeze: bool = True,
    reuse: bool | None = None,
    scope: str | None = None,
    data_format: str = "NHWC",
):
    """TF-Slim's generic ResNet v2 on NHWC ``inputs``; returns ``(logits, end_points)``.

    Call it inside :func:`mox_nets_classic.resnet_utils.resnet_arg_scope`.
    ``num_classes=None`` returns the pooled features.
    """
    with tf1.variable_scope(scope, "resnet_v2", [inputs], reuse=reuse) as sc:
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
                            if output_stride % 4 != 0:
                                raise ValueError("The output_stride needs to be a multiple of 4.")
                            output_stride //= 4
                        # No batch norm or activation: the first unit's preact does them.
                        with layers.arg_scope(
                            [layers.conv2d], activation_fn=None, normalizer_fn=None
                        ):
                            net = conv2d_same(
                                net, 64, 7, stride=2, scope="conv1", data_format=data_format
                            )
                        net = layers.max_pool2d(net, [3, 3], stride=2, scope="pool1")
                    net = resnet_utils.stack_blocks_dense(net, blocks, output_stride)
                    # The units end without normalization and activation: do them once here.
                    net = layers.batch_norm(net, activation_fn=tf.nn.relu, scope="postnorm")
                    end_points = layers.convert_collection_to_dict(end_points_collection)
                    net = resnet_utils.classification_head(
                        net, end_points, sc.name, num_classes, global_pool, spatial_squeeze,
                        data_format,
                    )  # fmt: skip
                    return net, end_points


resnet_v2.default_image_size = 224


def resnet_v2_block(scope: str, base_depth: int, num_units: int, stride: int) -> Block:
    """Slim's v2 bottleneck block: ``num_units`` units of depth ``4 * base_depth``, the stride
    in the last one."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth, "stride": 1}
    return Block(scope, bottleneck, [unit] * (num_units - 1) + [dict(unit, stride=stride)])


def _network(name: str, units: tuple[int, ...]):
    """A slim ResNet v2 builder with the network contract of ``get_model_fn``."""

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
        min_base_depth: int = 8,
        depth_multiplier: float = 1,
        reuse: bool | None = None,
        scope: str = name,
    ):
        def depth_func(d):
            return max(int(d * depth_multiplier), min_base_depth)

        blocks = [
            resnet_v2_block(f"block{i + 1}", depth_func(64 * 2**i), n, 2 if i < 3 else 1)
            for i, n in enumerate(units)
        ]
        return resnet_utils.build(
            resnet_v2, images, blocks, num_classes,
            weight_decay=weight_decay, data_format=data_format,
            batch_norm_fused=batch_norm_fused, batch_renorm=batch_renorm,
            is_training=is_training,
            global_pool=global_pool,
            output_stride=output_stride,
            spatial_squeeze=spatial_squeeze,
            reuse=reuse,
            scope=scope,
        )  # fmt: skip

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"""ResNet-{name.rsplit("_", 1)[1]} v2 as TF-Slim's ``{name}``; returns
    ``(logits, end_points)``."""
    builder.default_image_size = 224
    return builder


resnet_v2_50 = _network("resnet_v2_50", (3, 4, 6, 3))
resnet_v2_101 = _network("resnet_v2_101", (3, 4, 23, 3))
resnet_v2_152 = _network("resnet_v2_152", (3, 8, 36, 3))
resnet_v2_200 = _network("resnet_v2_200", (3, 24, 36, 3))
