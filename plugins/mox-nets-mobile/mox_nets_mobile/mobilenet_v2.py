"""MobileNet v2 (Sandler et al., 2018) as in TF-Slim's ``nets/mobilenet/`` (v2 on its base).

A 3x3/2 convolution (``Conv``), 17 inverted-residual blocks (``expanded_conv``,
``expanded_conv_1``, ...: a 1x1 expansion by 6 with ReLU6, a 3x3 depthwise convolution with
ReLU6, a linear 1x1 projection, and a residual connection where shapes allow), a 1x1 convolution
to 1280 channels (``Conv_1``), then a global average pool, dropout (keep 0.8) and the 1x1
``Logits/Conv2d_1c_1x1`` convolution. Batch norm with gamma and beta (decay 0.997, epsilon
0.001) follows every convolution; convolutions are ``SAME`` (``use_explicit_padding`` pads
explicitly and convolves ``VALID``, slim's option for inference engines without SAME).

``depth_multiplier`` scales every layer's outputs, rounded to a multiple of 8 (and at least 8)
without losing more than 10%, as slim's ``_make_divisible``; the expansions follow the scaled
inputs. ``mobilenet_v2_140`` is the 1.4 network; ``mobilenet_v2_035`` the 0.35 one in slim's
"fine-grain classification mode", which keeps the last layer at 1280 channels.

End points are slim's: ``layer_1`` .. ``layer_19`` (the blocks in order), and for every
inverted-residual block ``layer_N/expansion_output`` (when it expands),
``layer_N/depthwise_output`` and ``layer_N/output``, then ``global_pool``, ``Logits`` and
``Predictions``. Variable names match TF-Slim's, so its checkpoints load.
"""

from __future__ import annotations

import collections
import contextlib
import copy
from collections.abc import Callable

import tensorflow as tf

from mox_core.nets import heads, layers, net_utils
from mox_core.nets.initializers import trunc_normal
from mox_nets_mobile.mobilenet_utils import atrous_strides, variant

tf1 = tf.compat.v1


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """``value`` rounded to a multiple of ``divisor`` (at least ``min_value``), losing < 10%."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return int(new_value)


def expand_input_by_factor(factor: float, divisible_by: int = 8) -> Callable[[int], int]:
    """An ``expansion_size`` growing a block's input channels by ``factor`` (slim's helper)."""

    def expansion_size(num_inputs: int) -> int:
        return make_divisible(num_inputs * factor, divisible_by)

    return expansion_size


#: Expansion by 6, the default of every inverted-residual block but the first.
EXPAND_BY_6 = expand_input_by_factor(6)


@layers.add_arg_scope
def expanded_conv(
    input_tensor: tf.Tensor,
    num_outputs: int,
    expansion_size: int | Callable[[int], int] = EXPAND_BY_6,
    stride: int = 1,
    rate: int = 1,
    kernel_size=(3, 3),
    residual: bool = True,
    normalizer_fn: Callable | None = None,
    project_activation_fn: Callable = tf.identity,
    depthwise_channel_multiplier: int = 1,
    endpoints: dict | None = None,
    use_explicit_padding: bool = False,
    padding: str = "SAME",
    scope: str | None = None,
):
    """The inverted-residual block: 1x1 expansion -> depthwise convolution -> 1x1 projection.

    The parts of slim's ``conv_blocks.expanded_conv`` that MobileNet v2 uses. The expansion
    (scope ``expand``) exists only when ``expansion_size`` exceeds the input channels; the
    projection (``project``) is linear (``project_activation_fn``); the input is added back when
    the stride is 1 and the channels match. ``endpoints`` receives the block's named outputs
    (``expansion_output`` when it expands, ``depthwise_output``, ``output``): the tensors
    slim's ``mobilenet_base`` lists as ``layer_N/<name>``.
    """
    with (
        tf1.variable_scope(scope, default_name="expanded_conv") as s,
        tf1.name_scope(s.original_name_scope),
    ):
        data_format = net_utils.current_data_format()
        prev_depth = net_utils.depth(input_tensor, data_format)
        if use_explicit_padding:
            if padding != "SAME":
                raise TypeError("`use_explicit_padding` should only be used with 'SAME' padding.")
            padding = "VALID"
        input_tensor = tf.identity(input_tensor, "input")
        net = input_tensor
        inner_size = (
            expansion_size(num_inputs=prev_depth) if callable(expansion_size) else expansion_size
        )
        named = {}
        if inner_size > prev_depth:
            net = layers.conv2d(
                net, inner_size, [1, 1], stride=1, normalizer_fn=normalizer_fn, scope="expand"
            )
            net = named["expansion_output"] = tf.identity(net, "expansion_output")
        if use_explicit_padding:
            net = net_utils.fixed_padding(net, kernel_size, data_format, rate)
        net = layers.separable_conv2d(
            net,
            None,
            kernel_size,
            depth_multiplier=depthwise_channel_multiplier,
            stride=stride,
            rate=rate,
            normalizer_fn=normalizer_fn,
            padding=padding,
            scope="depthwise",
        )
        net = named["depthwise_output"] = tf.identity(net, name="depthwise_output")
        # The projection is always there: it gives the block its output channels.
        net = layers.conv2d(
            net,
            num_outputs,
            [1, 1],
            stride=1,
            normalizer_fn=normalizer_fn,
            activation_fn=project_activation_fn,
            scope="project",
        )
        if residual and stride == 1 and net_utils.depth(net, data_format) == prev_depth:
            net += input_tensor
        net = named["output"] = tf.identity(net, name="output")
        if endpoints is not None:
            endpoints.update(named)
        return net


Op = collections.namedtuple("Op", ["op", "params"])


def op(opfunc: Callable, **params) -> Op:
    """One layer of a network definition: the layer function and its arguments (slim's ``op``)."""
    return Op(opfunc, params)


#: The MobileNet v2 architecture (slim's ``V2_DEF``): the defaults of each layer function, which
#: are part of the architecture (batch norm with gamma, ReLU6, expansion by 6), and the layers.
V2_DEF = dict(
    defaults={
        (layers.batch_norm,): {"center": True, "scale": True},
        (layers.conv2d, layers.fully_connected, layers.separable_conv2d): {
            "normalizer_fn": layers.batch_norm,
            "activation_fn": tf.nn.relu6,
        },
        (expanded_conv,): {
            "expansion_size": EXPAND_BY_6,
            "normalizer_fn": layers.batch_norm,
            "residual": True,
        },
        (layers.conv2d, layers.separable_conv2d): {"padding": "SAME"},
    },
    spec=[
        op(layers.conv2d, stride=2, num_outputs=32, kernel_size=[3, 3]),
        op(expanded_conv, expansion_size=expand_input_by_factor(1, divisible_by=1),
           num_outputs=16),
        op(expanded_conv, stride=2, num_outputs=24),
        op(expanded_conv, stride=1, num_outputs=24),
        op(expanded_conv, stride=2, num_outputs=32),
        op(expanded_conv, stride=1, num_outputs=32),
        op(expanded_conv, stride=1, num_outputs=32),
        op(expanded_conv, stride=2, num_outputs=64),
        op(expanded_conv, stride=1, num_outputs=64),
        op(expanded_conv, stride=1, num_outputs=64),
        op(expanded_conv, stride=1, num_outputs=64),
        op(expanded_conv, stride=1, num_outputs=96),
        op(expanded_conv, stride=1, num_outputs=96),
        op(expanded_conv, stride=1, num_outputs=96),
        op(expanded_conv, stride=2, num_outputs=160),
        op(expanded_conv, stride=1, num_outputs=160),
        op(expanded_conv, stride=1, num_outputs=160),
        op(expanded_conv, stride=1, num_outputs=320),
        op(layers.conv2d, stride=1, kernel_size=[1, 1], num_outputs=1280),
    ],
)  # fmt: skip


def mobilenet_base(
    inputs: tf.Tensor,
    conv_defs: dict,
    multiplier: float = 1.0,
    final_endpoint: str | None = None,
    output_stride: int | None = None,
    use_explicit_padding: bool = False,
    min_depth: int = 8,
    divisible_by: int = 8,
    scope=None,
):
    """The layers of ``conv_defs``, in the layers' layout: ``(net, end_points)``.

    Every layer's ``num_outputs`` is scaled by ``multiplier`` (rounded as
    :func:`make_divisible`, at least ``min_depth``). ``output_stride`` turns the strides that
    would overshoot it into atrous rates, as slim's. ``final_endpoint`` (``layer_N``) stops early.
    """
    if multiplier <= 0:
        raise ValueError("multiplier is not greater than zero.")
    if output_stride is not None and (
        output_stride == 0 or (output_stride > 1 and output_stride % 2)
    ):
        raise ValueError("Output stride must be None, 1 or a multiple of 2.")
    data_format = net_utils.current_data_format()
    overrides = {}
    if use_explicit_padding:
        overrides[(layers.conv2d, layers.separable_conv2d)] = {"padding": "VALID"}
    with (
        tf1.variable_scope(scope, default_name="Mobilenet") as s,
        tf1.name_scope(s.original_name_scope),
        _arg_scopes(conv_defs.get("defaults", {})),
        _arg_scopes(overrides),
    ):
        net = inputs
        end_points = {}
        spec = conv_defs["spec"]
        strides = atrous_strides([d.params.get("stride", 1) for d in spec], output_stride)
        for i, (opdef, (layer_stride, layer_rate)) in enumerate(zip(spec, strides)):
            params = dict(opdef.params)
            if "num_outputs" in params:
                params["num_outputs"] = make_divisible(
                    params["num_outputs"] * multiplier, divisible_by, min_depth
                )
            params["stride"] = layer_stride
            # No atrous rate for 1x1 convolutions, which have nothing to dilate.
            if layer_rate > 1 and tuple(params.get("kernel_size", [])) != (1, 1):
                params["rate"] = layer_rate
            if use_explicit_padding:
                if "kernel_size" in params:
                    net = net_utils.fixed_padding(
                        net, params["kernel_size"], data_format, layer_rate
                    )
                else:
                    params["use_explicit_padding"] = True
            end_point = f"layer_{i + 1}"
            named: dict = {}
            if opdef.op is expanded_conv:
                params["endpoints"] = named
            net = opdef.op(net, **params)
            end_points[end_point] = net
            for name, tensor in named.items():
                end_points[f"{end_point}/{name}"] = tensor
            if final_endpoint is not None and end_point == final_endpoint:
                break
        return net, end_points


@contextlib.contextmanager
def _arg_scopes(defaults: dict):
    """Enter one ``arg_scope`` per ``(layer functions): defaults`` entry, in order."""
    with contextlib.ExitStack() as stack:
        for funcs, args in defaults.items():
            stack.enter_context(layers.arg_scope(list(funcs), **args))
        yield


def training_scope(
    weight_decay: float = 0.00004,
    stddev: float = 0.09,
    dropout_keep_prob: float | None = 0.8,
    bn_decay: float | None = 0.997,
) -> dict:
    """TF-Slim's MobileNet ``training_scope`` (``is_training`` is the run's: ``get_model_fn``).

    Truncated-normal weights (Xavier when ``stddev`` < 0), batch norm after every convolution
    (decay 0.997, slim's default epsilon 0.001), dropout keeping 0.8, and L2 weight decay on the
    full convolutions only (not the depthwise ones).
    """
    if stddev < 0:
        weights_initializer = tf1.glorot_uniform_initializer()
    else:
        weights_initializer = trunc_normal(stddev)
    bn_params = net_utils.batch_norm_params(0.999 if bn_decay is None else bn_decay, 0.001)
    dropout_params = {} if dropout_keep_prob is None else {"keep_prob": dropout_keep_prob}
    with (
        layers.arg_scope(
            [layers.conv2d, layers.fully_connected, layers.separable_conv2d],
            weights_initializer=weights_initializer,
            normalizer_fn=layers.batch_norm,
        ),
        layers.arg_scope([layers.batch_norm], **bn_params),
        layers.arg_scope([layers.dropout], **dropout_params),
        layers.arg_scope([layers.conv2d], weights_regularizer=layers.l2_regularizer(weight_decay)),
        layers.arg_scope([layers.separable_conv2d], weights_regularizer=None) as sc,
    ):
        return sc


def global_pool(net: tf.Tensor, data_format: str = net_utils.NHWC) -> tf.Tensor:
    """Average pool to 1x1 over the whole map (slim bakes in an average pool, not a mean)."""
    height, width = net_utils.spatial_shape(net, data_format)
    if height is None or width is None:
        return tf.reduce_mean(net, net_utils.spatial_axes(data_format), keepdims=True)
    return layers.avg_pool2d(net, [height, width], stride=1, padding="VALID")


def mobilenet_v2(
    images: tf.Tensor,
    num_classes: int = 1001,
    *,
    is_training: bool,
    depth_multiplier: float = 1.0,
    finegrain_classification_mode: bool = False,
    min_depth: int = 8,
    divisible_by: int = 8,
    activation_fn: Callable | None = None,
    dropout_keep_prob: float = 0.8,
    conv_defs: dict | None = None,
    output_stride: int | None = None,
    use_explicit_padding: bool = False,
    prediction_fn: Callable | None = layers.softmax,
    reuse: bool | None = None,
    scope: str = "MobilenetV2",
):
    """Build MobileNet v2 on ``images`` (in the layers' layout); ``(logits, end_points)``.

    ``finegrain_classification_mode`` keeps the last layer at 1280 channels when
    ``depth_multiplier`` < 1; ``activation_fn`` replaces ReLU6. End points hold tensors in the
    layers' layout. ``is_training`` reaches batch norm and dropout through ``get_model_fn``'s
    arg scope.
    """
    conv_defs = V2_DEF if conv_defs is None else conv_defs
    if finegrain_classification_mode and depth_multiplier < 1:
        conv_defs = copy.deepcopy(conv_defs)
        last = conv_defs["spec"][-1]
        conv_defs["spec"][-1] = last._replace(
            params={**last.params, "num_outputs": last.params["num_outputs"] / depth_multiplier}
        )
    if activation_fn:
        conv_defs = copy.deepcopy(conv_defs)
        key = (layers.conv2d, layers.fully_connected, layers.separable_conv2d)
        conv_defs["defaults"][key] = {**conv_defs["defaults"][key], "activation_fn": activation_fn}
    data_format = net_utils.current_data_format()
    with tf1.variable_scope(scope, "Mobilenet", reuse=reuse) as sc:
        net = tf.identity(images, "input")
        net, end_points = mobilenet_base(
            net,
            conv_defs,
            multiplier=depth_multiplier,
            output_stride=output_stride,
            use_explicit_padding=use_explicit_padding,
            min_depth=min_depth,
            divisible_by=divisible_by,
            scope=sc,
        )
        net = tf.identity(net, name="embedding")
        with tf1.variable_scope("Logits"):
            net = end_points["global_pool"] = global_pool(net, data_format)
            net = layers.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout")
            logits = heads.conv_logits(
                net, num_classes, data_format, biases_initializer=tf1.zeros_initializer()
            )
            logits = tf.identity(logits, name="output")
        end_points["Logits"] = logits
        if prediction_fn:
            end_points["Predictions"] = prediction_fn(logits, "Predictions")
    return logits, end_points


mobilenet_v2_140 = variant(mobilenet_v2, "mobilenet_v2_140", depth_multiplier=1.4)
# slim's "fine-grain classification mode" keeps the last layer at 1280 channels.
mobilenet_v2_035 = variant(
    mobilenet_v2, "mobilenet_v2_035", depth_multiplier=0.35, finegrain_classification_mode=True
)
