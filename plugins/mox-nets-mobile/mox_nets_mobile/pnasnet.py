"""PNASNet-5 (Liu et al., 2018) as in TF-Slim's ``nets/nasnet/pnasnet.py``: Large and Mobile.

Progressive architecture search found one cell, used everywhere: PNASNet has no separate
reduction cell, the cells at a third and two thirds of the way simply run with stride 2 and
twice the filters. The rest is NASNet's (:mod:`mox_nets_mobile.nasnet`): the ImageNet stem
(``conv0`` and two stem cells, here PNASNet cells), the auxiliary head in training, drop-path on
the Large network, the ``final_layer/FC`` classifier, and the arg scopes (batch norm decay
0.9997, epsilon 0.001). Variable names match TF-Slim's, so its checkpoints load.
"""

from __future__ import annotations

from mox_nets_mobile import nasnet, nasnet_utils
from mox_nets_mobile.nasnet import NasNetConfig

# slim's ``large_imagenet_config`` and ``mobile_imagenet_config`` of PNASNet.

#: PNASNet-5 Large (331x331 inputs).
LARGE_IMAGENET_CONFIG = NasNetConfig(
    stem_multiplier=3.0, drop_path_keep_prob=0.6, num_cells=12, num_conv_filters=216,
    dense_dropout_keep_prob=0.5, skip_reduction_layer_input=1,
)  # fmt: skip

#: PNASNet-5 Mobile (224x224 inputs; no drop-path).
MOBILE_IMAGENET_CONFIG = NasNetConfig(
    stem_multiplier=1.0, drop_path_keep_prob=1.0, num_cells=9, num_conv_filters=54,
    dense_dropout_keep_prob=0.5, skip_reduction_layer_input=1,
)  # fmt: skip


def pnasnet_large_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001):
    """NASNet Large's arg scope with PNASNet's default weight decay."""
    return nasnet.nasnet_large_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def pnasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001):
    """NASNet Mobile's arg scope."""
    return nasnet.nasnet_mobile_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


class PNasNetNormalCell(nasnet_utils.SearchedCell):
    """The PNASNet-5 cell (called with stride 2 where the network reduces)."""

    OPERATIONS = (
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
    )
    USED_HIDDENSTATES = (1, 1, 0, 0, 0, 0, 0)
    HIDDENSTATE_INDICES = (1, 1, 0, 0, 0, 0, 4, 0, 1, 0)


def build_pnasnet_base(
    images, normal_cell, num_classes, hparams, is_training, data_format, current_step=None
):
    """The PNASNet on ``data_format`` images: NASNet's ImageNet network without reduction cells."""
    return nasnet.build_nasnet_base(
        images,
        normal_cell,
        None,
        num_classes,
        hparams,
        is_training,
        "imagenet",
        data_format,
        current_step,
    )


pnasnet_large = nasnet.make_builder(
    "pnasnet_large", "PNASNet-5 Large", default_config=LARGE_IMAGENET_CONFIG,
    normal_cell=PNasNetNormalCell, reduction_cell=None, module=__name__,
)  # fmt: skip
pnasnet_mobile = nasnet.make_builder(
    "pnasnet_mobile", "PNASNet-5 Mobile", default_config=MOBILE_IMAGENET_CONFIG,
    normal_cell=PNasNetNormalCell, reduction_cell=None, module=__name__,
)  # fmt: skip
