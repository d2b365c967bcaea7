"""The Oxford VGG networks (Simonyan & Zisserman, 2014) as in TF-Slim's ``nets/vgg.py``.

``vgg_a`` (11 weight layers, configuration A), ``vgg_16`` (D) and ``vgg_19`` (E): five stages
of 3x3 SAME convolutions (64, 128, 256, 512, 512 filters; 1-2-2-2-2, 2-2-3-3-3 and 2-2-4-4-4
of them), each stage followed by a 2x2/2 max pool, then the fully connected layers written as
convolutions: ``fc6`` 7x7 VALID with 4096 filters, ``fc7`` 1x1 with 4096 and ``fc8`` 1x1 with
``num_classes``, dropout before fc7 and fc8. Scopes follow ``slim.repeat``
(``vgg_16/conv3/conv3_2``), so TF-Slim's VGG checkpoints load. Being fully convolutional, a
bigger input gives a score map with ``spatial_squeeze=False`` (``fc_conv_padding='SAME'``
keeps it at 1/32 of the input), and ``global_pool=True`` averages fc7 to 1x1 for any size.

``vgg_a_bn``, ``vgg_16_bn``, ``vgg_19_bn`` (MoXing's names; TF-Slim has no batch-normalized
VGG) are the same networks with batch normalization after every convolution but the logits:
what switching on slim's ``normalizer_fn=batch_norm`` in ``vgg_arg_scope`` gives. Each
normalized layer therefore has ``<scope>/weights`` and ``<scope>/BatchNorm/{beta, gamma,
moving_mean, moving_variance}`` and no biases (the normalizer's beta replaces them), fc6 and
fc7 included since slim writes them as convolutions; ``fc8`` keeps its biases. The batch norm
uses slim's ResNet settings (decay 0.997, epsilon 1e-5, with a learned scale), the ones TF-Slim
chose for conv-BN-ReLU networks trained from scratch; the variables live under the network's
own name (``vgg_16_bn/...``) since plain VGG checkpoints do not fit them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from mox_core.nets import layers
from mox_core.nets.net_utils import batch_norm_params
from mox_nets_classic.fc_convolutions import fc_conv_arg_scope, fc_conv_builder

tf1 = tf.compat.v1

#: Convolutions per stage of each configuration (the filters are 64, 128, 256, 512, 512).
STAGES = {"vgg_a": (1, 1, 2, 2, 2), "vgg_16": (2, 2, 3, 3, 3), "vgg_19": (2, 2, 4, 4, 4)}
FILTERS = (64, 128, 256, 512, 512)

BATCH_NORM_DECAY = 0.997
BATCH_NORM_EPSILON = 1e-5


def vgg_arg_scope(weight_decay: float = 0.0005) -> dict:
    """TF-Slim's ``vgg_arg_scope``: ReLU, zero biases, L2 decay on every weight, SAME convs."""
    return fc_conv_arg_scope(weight_decay, tf1.zeros_initializer())


def vgg_bn_arg_scope(weight_decay: float = 0.0005) -> dict:
    """:func:`vgg_arg_scope` with batch norm after every convolution: the ``*_bn`` networks'."""
    with layers.arg_scope(vgg_arg_scope(weight_decay)):
        with layers.arg_scope(
            [layers.conv2d],
            normalizer_fn=layers.batch_norm,
            normalizer_params=batch_norm_params(BATCH_NORM_DECAY, BATCH_NORM_EPSILON),
        ) as sc:
            return sc


def _features(stages: Sequence[int]) -> Callable[[tf.Tensor], tf.Tensor]:
    """The convolutional stages of one configuration (``stages``: convolutions per stage)."""

    def features(net: tf.Tensor) -> tf.Tensor:
        for stage, (repetitions, filters) in enumerate(zip(stages, FILTERS), start=1):
            net = layers.repeat(
                net, repetitions, layers.conv2d, filters, [3, 3], scope=f"conv{stage}"
            )
            net = layers.max_pool2d(net, [2, 2], scope=f"pool{stage}")
        return net

    return features


def _network(config: str, batch_norm: bool):
    """The ``get_model_fn`` builder of one configuration, with or without batch norm.

    The batch norm of the ``*_bn`` networks comes from their record's arg scope
    (:func:`vgg_bn_arg_scope`); the builders differ only in their default scope name.
    """
    name = f"{config}_bn" if batch_norm else config
    label = {"vgg_a": "A (11 layers)", "vgg_16": "D (16 layers)", "vgg_19": "E (19 layers)"}[config]
    normalization = (
        "batch normalization after every convolution but fc8 (no conv biases there), from "
        "``vgg_bn_arg_scope``"
        if batch_norm
        else "no batch normalization"
    )
    doc = (
        f"Build VGG configuration {label} on ``images`` (in the arg scope's layout); returns "
        f"``(logits, end_points)``.\n\n    Variables under ``{name}/``; {normalization}. "
        f"``end_points`` are keyed as slim's\n    (``{name}/conv1/conv1_1``, ..., "
        f"``{name}/fc8``) and hold tensors in the layers' layout;\n    unsqueezed logits come "
        "back in NHWC whatever the layout.\n    "
    )
    return fc_conv_builder(name, _features(STAGES[config]), doc, fc6_kernel=[7, 7], fc6_depth=4096)


vgg_a = _network("vgg_a", batch_norm=False)
vgg_16 = _network("vgg_16", batch_norm=False)
vgg_19 = _network("vgg_19", batch_norm=False)
vgg_a_bn = _network("vgg_a", batch_norm=True)
vgg_16_bn = _network("vgg_16", batch_norm=True)
vgg_19_bn = _network("vgg_19", batch_norm=True)

# TF-Slim's aliases of the configurations by letter.
vgg_d = vgg_16
vgg_e = vgg_19
