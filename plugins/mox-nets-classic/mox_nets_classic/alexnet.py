"""AlexNet v2 as in TF-Slim's ``nets/alexnet.py`` (Krizhevsky 2014, "One weird trick").

Slim's version, not the 2012 paper's: no local response normalization, Xavier-initialized
convolutions (``conv1`` 11x11/4 VALID with 64 filters, ``conv2`` 5x5 with 192, ``conv3``-
``conv5`` 3x3 with 384, 384, 256, all SAME, 3x3/2 VALID max pools after conv1, conv2 and
conv5) and the fully connected layers written as convolutions: ``fc6`` 5x5 VALID with 4096
filters, ``fc7`` 1x1 with 4096, ``fc8`` 1x1 with ``num_classes`` (no activation), dropout
before fc7 and fc8. Variables live under ``alexnet_v2/`` so a TF-Slim checkpoint loads.

Being fully convolutional, the network takes any input of at least 224x224; only 224x224
gives the ``[N, num_classes]`` logits (``spatial_squeeze``). Set ``spatial_squeeze=False`` to
get the ``[N, h, w, num_classes]`` score map of a bigger input, or ``global_pool=True`` to
average fc7 down to 1x1 first.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers
from mox_nets_classic import _ops

tf1 = tf.compat.v1


def trunc_normal(stddev: float):
    return tf1.truncated_normal_initializer(0.0, stddev)


def alexnet_v2_arg_scope(weight_decay: float = 0.0005, data_format: str = "NHWC") -> dict:
    """TF-Slim's ``alexnet_v2_arg_scope`` (biases 0.1, L2 decay on every weight), plus the layout."""
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        activation_fn=tf.nn.relu,
        biases_initializer=tf1.constant_initializer(0.1),
        weights_regularizer=layers.l2_regularizer(weight_decay),
    ):
        with layers.arg_scope([layers.conv2d], padding="SAME"):
            with layers.arg_scope([layers.max_pool2d], padding="VALID"):
                with layers.arg_scope(
                    [layers.conv2d, layers.max_pool2d], data_format=data_format
                ) as sc:
                    return sc


def alexnet_v2(
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
    global_pool: bool = False,
    scope: str = "alexnet_v2",
):
    """Build AlexNet v2 on NHWC ``images``; returns ``(logits, end_points)``.

    ``end_points`` are keyed as slim's (``alexnet_v2/conv1``, ..., ``alexnet_v2/fc8``) and hold
    ``data_format`` tensors; unsqueezed logits come back in NHWC whatever the layout.
    ``batch_norm_fused`` / ``batch_renorm`` belong to the common network contract: AlexNet has
    no batch normalization.
    """
    del batch_norm_fused, batch_renorm  # no batch normalization in AlexNet
    with layers.arg_scope(alexnet_v2_arg_scope(weight_decay, data_format)):
        with tf1.variable_scope(scope, "alexnet_v2", [images]) as sc:
            end_points_collection = sc.original_name_scope + "_end_points"
            with layers.arg_scope(
                [layers.conv2d, layers.fully_connected, layers.max_pool2d],
                outputs_collections=[end_points_collection],
            ):
                net = _ops.to_data_format(images, data_format)
                net = layers.conv2d(net, 64, [11, 11], 4, padding="VALID", scope="conv1")
                net = layers.max_pool2d(net, [3, 3], 2, scope="pool1")
                net = layers.conv2d(net, 192, [5, 5], scope="conv2")
                net = layers.max_pool2d(net, [3, 3], 2, scope="pool2")
                net = layers.conv2d(net, 384, [3, 3], scope="conv3")
                net = layers.conv2d(net, 384, [3, 3], scope="conv4")
                net = layers.conv2d(net, 256, [3, 3], scope="conv5")
                net = layers.max_pool2d(net, [3, 3], 2, scope="pool5")

                # The fully connected layers, as convolutions.
                with layers.arg_scope(
                    [layers.conv2d],
                    weights_initializer=trunc_normal(0.005),
                    biases_initializer=tf1.constant_initializer(0.1),
                ):
                    net = layers.conv2d(net, 4096, [5, 5], padding="VALID", scope="fc6")
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
                        net,
                        num_classes,
                        [1, 1],
                        activation_fn=None,
                        normalizer_fn=None,
                        biases_initializer=tf1.zeros_initializer(),
                        scope="fc8",
                    )
                if spatial_squeeze:
                    net = _ops.spatial_squeeze(net, data_format, name="fc8/squeezed")
                else:
                    net = _ops.to_nhwc(net, data_format)
                end_points[sc.name + "/fc8"] = net
    return net, end_points


alexnet_v2.default_image_size = 224
