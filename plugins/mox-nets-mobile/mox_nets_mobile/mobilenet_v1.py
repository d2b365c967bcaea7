"""MobileNet v1 (Howard et al., 2017) as in TF-Slim's ``nets/mobilenet_v1.py``.

A 3x3/2 convolution, then 13 depthwise-separable blocks: a 3x3 depthwise convolution
(``Conv2d_N_depthwise``) and a 1x1 pointwise one (``Conv2d_N_pointwise``), each followed by
batch norm (gamma and beta, decay 0.9997, epsilon 0.001) and ReLU6; five of them stride 2. Every
convolution is ``SAME`` (``use_explicit_padding=True`` pads explicitly and convolves ``VALID``,
as slim's option for inference engines without SAME). The head is a 7x7 ``VALID`` average pool
(clipped to smaller maps), dropout (keep 0.999) and the 1x1 ``Logits/Conv2d_1c_1x1`` convolution.

``depth_multiplier`` thins every layer to ``max(int(depth * multiplier), min_depth)`` channels:
``mobilenet_v1_075``, ``_050`` and ``_025`` are the 0.75, 0.5 and 0.25 networks of the paper.
Weights are truncated-normal (stddev 0.09), only the full convolutions are L2-regularized (slim's
``regularize_depthwise=False``). Variable names match TF-Slim's, so its checkpoints load.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import trunc_normal
from mox_nets_mobile.mobilenet_utils import atrous_strides, variant

tf1 = tf.compat.v1

# Conv: a full 3x3 convolution; DepthSepConv: a 3x3 depthwise then a 1x1 pointwise convolution.
Conv = collections.namedtuple("Conv", ["kernel", "stride", "depth"])
DepthSepConv = collections.namedtuple("DepthSepConv", ["kernel", "stride", "depth"])

#: The MobileNet v1 body (TF-Slim's ``MOBILENETV1_CONV_DEFS``).
MOBILENETV1_CONV_DEFS = [
    Conv(kernel=[3, 3], stride=2, depth=32),
    DepthSepConv(kernel=[3, 3], stride=1, depth=64),
    DepthSepConv(kernel=[3, 3], stride=2, depth=128),
    DepthSepConv(kernel=[3, 3], stride=1, depth=128),
    DepthSepConv(kernel=[3, 3], stride=2, depth=256),
    DepthSepConv(kernel=[3, 3], stride=1, depth=256),
    DepthSepConv(kernel=[3, 3], stride=2, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=2, depth=1024),
    DepthSepConv(kernel=[3, 3], stride=1, depth=1024),
]


def mobilenet_v1_base(
    inputs: tf.Tensor,
    final_endpoint: str = "Conv2d_13_pointwise",
    min_depth: int = 8,
    depth_multiplier: float = 1.0,
    conv_defs: list | None = None,
    output_stride: int | None = None,
    use_explicit_padding: bool = False,
    scope=None,
):
    """The network up to ``final_endpoint``, in the layers' layout: ``(net, end_points)``.

    ``output_stride`` (8, 16 or 32) keeps the feature map denser by turning the strides that
    would overshoot it into atrous rates of the following depthwise convolutions, as slim's.
    """
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")
    if output_stride is not None and output_stride not in (8, 16, 32):
        raise ValueError("Only allowed output_stride values are 8, 16, 32.")

    def depth(d):
        return max(int(d * depth_multiplier), min_depth)

    data_format = net_utils.current_data_format()
    conv_defs = MOBILENETV1_CONV_DEFS if conv_defs is None else conv_defs
    padding = "VALID" if use_explicit_padding else "SAME"
    end_points = {}
    with tf1.variable_scope(scope, "MobilenetV1", [inputs]):
        with layers.arg_scope([layers.conv2d, layers.separable_conv2d], padding=padding):
            net = inputs
            strides = atrous_strides([d.stride for d in conv_defs], output_stride)
            for i, (conv_def, (layer_stride, layer_rate)) in enumerate(zip(conv_defs, strides)):
                end_point_base = f"Conv2d_{i}"
                if isinstance(conv_def, Conv):
                    end_point = end_point_base
                    if use_explicit_padding:
                        net = net_utils.fixed_padding(net, conv_def.kernel, data_format)
                    # Slim strides the full convolution even past output_stride; it is first.
                    net = layers.conv2d(
                        net,
                        depth(conv_def.depth),
                        conv_def.kernel,
                        stride=conv_def.stride,
                        scope=end_point,
                    )
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points
                elif isinstance(conv_def, DepthSepConv):
                    end_point = end_point_base + "_depthwise"
                    if use_explicit_padding:
                        net = net_utils.fixed_padding(net, conv_def.kernel, data_format, layer_rate)
                    # num_outputs=None: the depthwise convolution alone, with its batch norm.
                    net = layers.separable_conv2d(
                        net,
                        None,
                        conv_def.kernel,
                        depth_multiplier=1,
                        stride=layer_stride,
                        rate=layer_rate,
                        scope=end_point,
                    )
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points

                    end_point = end_point_base + "_pointwise"
                    net = layers.conv2d(
                        net, depth(conv_def.depth), [1, 1], stride=1, scope=end_point
                    )
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points
                else:
                    raise ValueError(f"Unknown convolution type {type(conv_def).__name__} for "
                                     f"layer {i}")  # fmt: skip
    raise ValueError(f"Unknown final endpoint {final_endpoint}")


def mobilenet_v1_arg_scope(
    weight_decay: float = 0.00004,
    stddev: float = 0.09,
    regularize_depthwise: bool = False,
    batch_norm_decay: float = 0.9997,
    batch_norm_epsilon: float = 0.001,
    batch_norm_updates_collections: str | None = tf1.GraphKeys.UPDATE_OPS,
) -> dict:
    """TF-Slim's ``mobilenet_v1_arg_scope`` (``is_training`` is the run's: ``get_model_fn``).

    Batch norm (gamma and beta) after every convolution, ReLU6, truncated-normal weights; the
    full convolutions are L2-regularized, the depthwise ones only with ``regularize_depthwise``.
    """
    bn_params = net_utils.batch_norm_params(
        batch_norm_decay, batch_norm_epsilon, updates_collections=batch_norm_updates_collections
    )
    regularizer = layers.l2_regularizer(weight_decay)
    with (
        layers.arg_scope(
            [layers.conv2d, layers.separable_conv2d],
            weights_initializer=trunc_normal(stddev),
            activation_fn=tf.nn.relu6,
            normalizer_fn=layers.batch_norm,
        ),
        layers.arg_scope([layers.batch_norm], **bn_params),
        layers.arg_scope([layers.conv2d], weights_regularizer=regularizer),
        layers.arg_scope(
            [layers.separable_conv2d],
            weights_regularizer=regularizer if regularize_depthwise else None,
        ) as sc,
    ):
        return sc


def mobilenet_v1(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    dropout_keep_prob: float = 0.999,
    min_depth: int = 8,
    depth_multiplier: float = 1.0,
    conv_defs: list | None = None,
    prediction_fn: Callable | None = layers.softmax,
    spatial_squeeze: bool = True,
    global_pool: bool = False,
    use_explicit_padding: bool = False,
    reuse: bool | None = None,
    scope: str = "MobilenetV1",
):
    """Build MobileNet v1 on ``images`` (in the layers' layout); ``(logits, end_points)``.

    End points are keyed as slim's (``Conv2d_0``, ``Conv2d_13_pointwise``, ``AvgPool_1a``,
    ``Logits``, ``Predictions``) and hold tensors in the layers' layout. ``global_pool=True``
    pools any input size to 1x1 (the fixed 7x7 pool gives larger maps on larger inputs).
    ``is_training`` reaches batch norm and dropout through ``get_model_fn``'s arg scope.
    """
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "MobilenetV1", [images], reuse=reuse) as sc:
        net, end_points = mobilenet_v1_base(
            images,
            scope=sc,
            min_depth=min_depth,
            depth_multiplier=depth_multiplier,
            conv_defs=conv_defs,
            use_explicit_padding=use_explicit_padding,
        )
        with tf1.variable_scope("Logits"):
            net = heads.average_pool(
                net, end_points, data_format, kernel_size=[7, 7], global_pool=global_pool,
                scope="AvgPool_1a",
            )  # fmt: skip
            net = layers.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout_1b")
            logits = heads.conv_logits(
                net, num_classes, data_format, spatial_squeeze=spatial_squeeze
            )
        end_points["Logits"] = logits
        if prediction_fn:
            end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


mobilenet_v1_075 = variant(mobilenet_v1, "mobilenet_v1_075", depth_multiplier=0.75)
mobilenet_v1_050 = variant(mobilenet_v1, "mobilenet_v1_050", depth_multiplier=0.50)
mobilenet_v1_025 = variant(mobilenet_v1, "mobilenet_v1_025", depth_multiplier=0.25)
