"""What AlexNet v2, OverFeat and VGG share: fully connected layers written as convolutions.

TF-Slim writes their ``fc6`` / ``fc7`` / ``fc8`` as convolutions (``fc6`` over the whole last
feature map at the default size, ``fc7`` and ``fc8`` 1x1), with dropout before ``fc7`` and
``fc8``, so a bigger input gives a score map instead of failing. :func:`fc_conv_builder` makes
the builder of such a network around its own convolutional ``features``; only ``fc6``'s kernel, depth and
padding, and the initializers of the fully connected part, differ between the three. Their arg
scopes (:func:`fc_conv_arg_scope`) differ only in the biases' initial value.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils

tf1 = tf.compat.v1


def fc_conv_arg_scope(weight_decay: float, biases_initializer) -> dict:
    """TF-Slim's ``alexnet_v2_arg_scope`` / ``overfeat_arg_scope`` / ``vgg_arg_scope``: ReLU,
    L2 decay on every weight, SAME convolutions, VALID max pools."""
    with layers.arg_scope(
        [layers.conv2d, layers.fully_connected],
        activation_fn=tf.nn.relu,
        biases_initializer=biases_initializer,
        weights_regularizer=layers.l2_regularizer(weight_decay),
    ):
        with layers.arg_scope([layers.conv2d], padding="SAME"):
            with layers.arg_scope([layers.max_pool2d], padding="VALID") as sc:
                return sc


def fc_conv_builder(
    name: str,
    features: Callable[[tf.Tensor], tf.Tensor],
    doc: str,
    *,
    fc6_kernel: list[int],
    fc6_depth: int,
    fc_defaults: dict | None = None,
):
    """The ``get_model_fn`` builder of network ``name``: ``features(images)``, then ``fc6`` ...
    ``fc8``, under variable scope ``scope`` (default ``name``).

    ``fc_defaults`` are ``conv2d`` defaults for ``fc6``-``fc8`` (AlexNet's and OverFeat's
    initializers). The builder returns ``(logits, end_points)``: every convolution and max pool
    collected as an end point (``<scope>/conv1``, ...), plus ``global_pool``
    (``global_pool=True`` averages ``fc7`` to 1x1 first) and ``<scope>/fc8``: the logits,
    squeezed, or as an NHWC score map with ``spatial_squeeze=False``.
    ``fc_conv_padding='SAME'`` keeps a bigger input's score map at 1/32 of the input.
    """

    def build(
        images: tf.Tensor,
        num_classes: int = 1000,
        *,
        is_training: bool,
        dropout_keep_prob: float = 0.5,
        spatial_squeeze: bool = True,
        fc_conv_padding: str = "VALID",
        global_pool: bool = False,
        scope: str = name,
    ):
        data_format = net_utils.current_data_format()
        with tf1.variable_scope(scope, name, [images]) as sc:
            end_points_collection = sc.original_name_scope + "_end_points"
            with layers.arg_scope(
                [layers.conv2d, layers.fully_connected, layers.max_pool2d],
                outputs_collections=end_points_collection,
            ):
                net = features(images)
                with layers.arg_scope([layers.conv2d], **(fc_defaults or {})):
                    net = layers.conv2d(
                        net, fc6_depth, fc6_kernel, padding=fc_conv_padding, scope="fc6"
                    )
                    net = layers.dropout(
                        net, dropout_keep_prob, is_training=is_training, scope="dropout6"
                    )
                    net = layers.conv2d(net, 4096, [1, 1], scope="fc7")
                    end_points = layers.convert_collection_to_dict(end_points_collection)
                    if global_pool:
                        net = net_utils.global_average_pool(net, data_format, name="global_pool")
                        end_points["global_pool"] = net
                    net = layers.dropout(
                        net, dropout_keep_prob, is_training=is_training, scope="dropout7"
                    )
                    net = heads.conv_logits(
                        net,
                        num_classes,
                        data_format,
                        spatial_squeeze=spatial_squeeze,
                        scope="fc8",
                        squeeze_name="fc8/squeezed",
                        biases_initializer=tf1.zeros_initializer(),
                    )
        end_points[sc.name + "/fc8"] = net
        return net, end_points

    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc
    return build
