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

from collections.abc import Sequence

import tensorflow as tf

from mox_core.nets import layers
from mox_core.nets.net_utils import batch_norm_params
from mox_nets_classic import _ops

tf1 = tf.compat.v1

#: Convolutions per stage of each configuration (the filters are 64, 128, 256, 512, 512).
STAGES = {"vgg_a": (1, 1, 2, 2, 2), "vgg_16": (2, 2, 3, 3, 3), "vgg_19": (2, 2, 4, 4, 4)}
FILTERS = (64, 128, 256, 512, 512)

BATCH_NORM_DECAY = 0.997
BATCH_NORM_EPSILON = 1e-5


def vgg_arg_scope(
    weight_decay: float = 0.0005,
    data_format: str = "NHWC",
    use_batch_norm: bool = False,
    is_training: bool = True,
    batch_norm_fused: bool = False,
    batch_renorm: bool = False,
) -> dict:
    """TF-Slim's ``vgg_arg_scope`` (ReLU, zero biases, L2 decay on every weight, SAME convs).

    Added: the layout, and with ``use_batch_norm`` the normalizer of the ``*_bn`` variants
    (``is_training``, fused kernel and batch renormalization as ``get_model_fn`` asks).
    """
    normalizer_fn = None
    normalizer_params: dict = {}
    if use_batch_norm:
        normalizer_fn = layers.batch_norm
        normalizer_params = dict(
            batch_norm_params(
                BATCH_NORM_DECAY, BATCH_NORM_EPSILON, fused=batch_norm_fused, renorm=batch_renorm
            ),
            is_training=is_training,
            data_format=data_format,
        )
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        activation_fn=tf.nn.relu,
        weights_regularizer=layers.l2_regularizer(weight_decay),
        biases_initializer=tf1.zeros_initializer(),
    ):
        with layers.arg_scope(
            [layers.conv2d],
            padding="SAME",
            normalizer_fn=normalizer_fn,
            normalizer_params=normalizer_params,
        ):
            with layers.arg_scope(
                [layers.conv2d, layers.max_pool2d], data_format=data_format
            ) as sc:
                return sc


def _vgg(
    images: tf.Tensor,
    num_classes: int,
    stages: Sequence[int],
    scope: str,
    *,
    is_training: bool,
    weight_decay: float,
    data_format: str,
    batch_norm: bool,
    batch_norm_fused: bool,
    batch_renorm: bool,
    dropout_keep_prob: float,
    spatial_squeeze: bool,
    fc_conv_padding: str,
    global_pool: bool,
):
    """The VGG body shared by every configuration; ``stages`` gives the convolutions per stage."""
    arg_sc = vgg_arg_scope(
        weight_decay,
        data_format,
        use_batch_norm=batch_norm,
        is_training=is_training,
        batch_norm_fused=batch_norm_fused,
        batch_renorm=batch_renorm,
    )
    with layers.arg_scope(arg_sc):
        with tf1.variable_scope(scope, scope, [images]) as sc:
            end_points_collection = sc.original_name_scope + "_end_points"
            with layers.arg_scope(
                [layers.conv2d, layers.fully_connected, layers.max_pool2d],
                outputs_collections=end_points_collection,
            ):
                net = _ops.to_data_format(images, data_format)
                for stage, (repetitions, filters) in enumerate(zip(stages, FILTERS), start=1):
                    net = layers.repeat(
                        net, repetitions, layers.conv2d, filters, [3, 3], scope=f"conv{stage}"
                    )
                    net = layers.max_pool2d(net, [2, 2], scope=f"pool{stage}")

                # The fully connected layers, as convolutions.
                net = layers.conv2d(net, 4096, [7, 7], padding=fc_conv_padding, scope="fc6")
                net = layers.dropout(
                    net, dropout_keep_prob, is_training=is_training, scope="dropout6"
                )
                net = layers.conv2d(net, 4096, [1, 1], scope="fc7")
                end_points = layers.convert_collection_to_dict(end_points_collection)
                if global_pool:
                    net = _ops.global_average_pool(net, data_format, name="global_pool")
                    end_points["global_pool"] = net
                net = layers.dropout(
                    net, dropout_keep_prob, is_training=is_training, scope="dropout7"
                )
                net = layers.conv2d(
                    net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None, scope="fc8"
                )
                if spatial_squeeze:
                    net = _ops.spatial_squeeze(net, data_format, name="fc8/squeezed")
                else:
                    net = _ops.to_nhwc(net, data_format)
                end_points[sc.name + "/fc8"] = net
    return net, end_points


def _network(config: str, batch_norm: bool):
    """The ``get_model_fn`` builder of one configuration, with or without batch norm."""
    name = f"{config}_bn" if batch_norm else config
    label = {"vgg_a": "A (11 layers)", "vgg_16": "D (16 layers)", "vgg_19": "E (19 layers)"}[config]

    def build(
        images: tf.Tensor,
        num_classes: int = 1000,
        *,
        is_training: bool,
        weight_decay: float = 0.0,
        data_format: str = "NHWC",
        batch_norm_fused: bool = False,
        batch_renorm: bool = False,
        dropout_keep_prob: float = 0.5,
        spatial_squeeze: bool = True,
        fc_conv_padding: str = "VALID",
        global_pool: bool = False,
        scope: str = name,
    ):
        return _vgg(
            images,
            num_classes,
            STAGES[config],
            scope,
            is_training=is_training,
            weight_decay=weight_decay,
            data_format=data_format,
            batch_norm=batch_norm,
            batch_norm_fused=batch_norm_fused,
            batch_renorm=batch_renorm,
            dropout_keep_prob=dropout_keep_prob,
            spatial_squeeze=spatial_squeeze,
            fc_conv_padding=fc_conv_padding,
            global_pool=global_pool,
        )

    build.__name__ = build.__qualname__ = name
    normalization = (
        "batch normalization after every convolution but fc8 (no conv biases there)"
        if batch_norm
        else "no batch normalization; ``batch_norm_fused`` / ``batch_renorm`` are ignored"
    )
    build.__doc__ = (
        f"Build VGG configuration {label} on NHWC ``images``; returns ``(logits, end_points)``."
        f"\n\n    Variables under ``{name}/``; {normalization}. ``end_points`` are keyed as "
        f"slim's\n    (``{name}/conv1/conv1_1``, ..., ``{name}/fc8``) and hold ``data_format`` "
        "tensors;\n    unsqueezed logits come back in NHWC whatever the layout.\n    "
    )
    build.default_image_size = 224
    return build


vgg_a = _network("vgg_a", batch_norm=False)
vgg_16 = _network("vgg_16", batch_norm=False)
vgg_19 = _network("vgg_19", batch_norm=False)
vgg_a_bn = _network("vgg_a", batch_norm=True)
vgg_16_bn = _network("vgg_16", batch_norm=True)
vgg_19_bn = _network("vgg_19", batch_norm=True)

# TF-Slim's aliases of the configurations by letter.
vgg_d = vgg_16
vgg_e = vgg_19
