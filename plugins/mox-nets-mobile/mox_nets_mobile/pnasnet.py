"""PNASNet-5 (Liu et al., 2018) as in TF-Slim's ``nets/nasnet/pnasnet.py``: Large and Mobile.

Progressive architecture search found one cell, used everywhere: PNASNet has no separate
reduction cell, the cells at a third and two thirds of the way simply run with stride 2 and
twice the filters. The rest is NASNet's (:mod:`mox_nets_mobile.nasnet`): the ImageNet stem
(``conv0`` and two stem cells, here PNASNet cells), the auxiliary head in training, drop-path on
the Large network, the ``final_layer/FC`` classifier, and the arg scopes (batch norm decay
0.9997, epsilon 0.001). Variable names match TF-Slim's, so its checkpoints load.
"""

from __future__ import annotations

from collections.abc import Mapping

import tensorflow as tf

from mox_core.nets import layers
from mox_nets_mobile import _ops, nasnet, nasnet_utils
from mox_nets_mobile.nasnet import NasNetConfig

tf1 = tf.compat.v1


def large_imagenet_config() -> NasNetConfig:
    """PNASNet-5 Large (331x331 inputs)."""
    return NasNetConfig(
        stem_multiplier=3.0,
        dense_dropout_keep_prob=0.5,
        num_cells=12,
        num_conv_filters=216,
        drop_path_keep_prob=0.6,
        skip_reduction_layer_input=1,
        total_training_steps=250000,
    )


def mobile_imagenet_config() -> NasNetConfig:
    """PNASNet-5 Mobile (224x224 inputs; no drop-path)."""
    return NasNetConfig(
        stem_multiplier=1.0,
        dense_dropout_keep_prob=0.5,
        num_cells=9,
        num_conv_filters=54,
        drop_path_keep_prob=1.0,
        skip_reduction_layer_input=1,
        total_training_steps=250000,
    )


def pnasnet_large_arg_scope(
    weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001, **kw
):
    """NASNet Large's arg scope with PNASNet's default weight decay."""
    return nasnet.nasnet_large_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon, **kw)


def pnasnet_mobile_arg_scope(
    weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001, **kw
):
    """NASNet Mobile's arg scope."""
    return nasnet.nasnet_mobile_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon, **kw)


class PNasNetNormalCell(nasnet_utils.NasNetABaseCell):
    """The PNASNet-5 cell (called with stride 2 where the network reduces)."""

    def __init__(
        self,
        num_conv_filters,
        drop_path_keep_prob,
        total_num_cells,
        total_training_steps,
        use_bounded_activation=False,
        data_format=_ops.NHWC,
    ):
        operations = [
            "separable_5x5_2",
            "max_pool_3x3",
            "separable_7x7_2",
            "max_pool_3x3",
            "separable_5x5_2",
            "separable_3x3_2",
            "separable_3x3_2",
            "max_pool_3x3",
            "separable_3x3_2",
            "none",
        ]
        used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]
        hiddenstate_indices = [1, 1, 0, 0, 0, 0, 4, 0, 1, 0]
        super().__init__(
            num_conv_filters,
            operations,
            used_hiddenstates,
            hiddenstate_indices,
            drop_path_keep_prob,
            total_num_cells,
            total_training_steps,
            use_bounded_activation,
            data_format,
        )


def build_pnasnet_base(
    images, normal_cell, num_classes, hparams, is_training, data_format, current_step=None
):
    """The PNASNet on ``data_format`` images: stem, cells, auxiliary head, final layer."""
    end_points = {}
    reduction_indices = nasnet_utils.calc_reduction_layers(
        hparams.num_cells, hparams.num_reduction_layers
    )
    net, cell_outputs = nasnet.imagenet_stem(images, hparams, normal_cell, current_step)
    end_points["Stem"] = net

    aux_head_cell_idxes = []
    if len(reduction_indices) >= 2:
        aux_head_cell_idxes.append(reduction_indices[1] - 1)

    filter_scaling = 1.0
    prev_layer = cell_outputs[-2]
    true_cell_num = 2  # after the two stem cells
    activation_fn = tf.nn.relu6 if hparams.use_bounded_activation else tf.nn.relu
    for cell_num in range(hparams.num_cells):
        is_reduction = cell_num in reduction_indices
        stride = 2 if is_reduction else 1
        if is_reduction:
            filter_scaling *= hparams.filter_scaling_rate
        if hparams.skip_reduction_layer_input or not is_reduction:
            prev_layer = cell_outputs[-2]
        net = normal_cell(
            net,
            scope=f"cell_{cell_num}",
            filter_scaling=filter_scaling,
            stride=stride,
            prev_layer=prev_layer,
            cell_num=true_cell_num,
            current_step=current_step,
        )
        end_points[f"Cell_{cell_num}"] = net
        true_cell_num += 1
        cell_outputs.append(net)
        if hparams.use_aux_head and cell_num in aux_head_cell_idxes and is_training:
            nasnet.build_aux_head(
                activation_fn(net),
                end_points,
                num_classes,
                hparams,
                data_format,
                scope=f"aux_{cell_num}",
            )
    return nasnet.final_layer(net, end_points, num_classes, hparams, data_format)


def _build(images, num_classes, *, is_training, hparams, arg_scope, data_format, current_step):
    # No separate reduction cells: the cells plus the two stem cells.
    total_num_cells = hparams.num_cells + 2
    normal_cell = PNasNetNormalCell(
        hparams.num_conv_filters,
        hparams.drop_path_keep_prob,
        total_num_cells,
        hparams.total_training_steps,
        hparams.use_bounded_activation,
        data_format,
    )
    with layers.arg_scope(arg_scope):
        with layers.arg_scope(
            [layers.dropout, nasnet_utils.drop_path, layers.batch_norm], is_training=is_training
        ):
            return build_pnasnet_base(
                _ops.to_data_format(images, data_format),
                normal_cell,
                num_classes,
                hparams,
                is_training,
                data_format,
                current_step,
            )


def pnasnet_large(
    images,
    num_classes: int = 1001,
    *,
    is_training: bool,
    weight_decay: float = 0.0,
    data_format: str = _ops.NHWC,
    batch_norm_fused: bool = False,
    batch_renorm: bool = False,
    config: NasNetConfig | Mapping | None = None,
    current_step=None,
):
    """Build PNASNet-5 Large on NHWC ``images`` (331x331); returns ``(logits, end_points)``.

    ``config`` overrides :func:`large_imagenet_config` fields; ``current_step`` replaces the
    global step in drop-path's schedule.
    """
    return _build(
        images,
        num_classes,
        is_training=is_training,
        hparams=nasnet.resolve_config(large_imagenet_config(), config, is_training),
        arg_scope=pnasnet_large_arg_scope(
            weight_decay,
            batch_norm_fused=batch_norm_fused,
            batch_renorm=batch_renorm,
            data_format=data_format,
        ),
        data_format=data_format,
        current_step=current_step,
    )


pnasnet_large.default_image_size = 331


def pnasnet_mobile(
    images,
    num_classes: int = 1001,
    *,
    is_training: bool,
    weight_decay: float = 0.0,
    data_format: str = _ops.NHWC,
    batch_norm_fused: bool = False,
    batch_renorm: bool = False,
    config: NasNetConfig | Mapping | None = None,
    current_step=None,
):
    """Build PNASNet-5 Mobile on NHWC ``images`` (224x224); returns ``(logits, end_points)``.

    ``config`` overrides :func:`mobile_imagenet_config` fields.
    """
    return _build(
        images,
        num_classes,
        is_training=is_training,
        hparams=nasnet.resolve_config(mobile_imagenet_config(), config, is_training),
        arg_scope=pnasnet_mobile_arg_scope(
            weight_decay,
            batch_norm_fused=batch_norm_fused,
            batch_renorm=batch_renorm,
            data_format=data_format,
        ),
        data_format=data_format,
        current_step=current_step,
    )


pnasnet_mobile.default_image_size = 224
