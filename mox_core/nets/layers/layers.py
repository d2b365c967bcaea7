"""The layers: ``conv2d``, ``separable_conv2d``, ``fully_connected``, pools, ``dropout``, ...

Signatures, argument order and defaults follow ``tf_slim.layers`` so ported network code reads
the same, and the variables are TF-Slim's (``<scope>/weights``, ``<scope>/biases``, in that
order, with slim's default scope names ``Conv``, ``Conv_1``, ``fully_connected``, ...); so do
``repeat`` and ``stack``.

``data_format='NCHW'``: TensorFlow's CPU kernels of convolution and pooling implement NHWC only.
When no GPU is visible, these layers therefore compute an NCHW layer in NHWC between two
transposes: same variables, same numbers, NCHW in and out. With a GPU the native NCHW kernels
run (the fast layout there); NCHW layers pinned to the CPU in a process that sees a GPU then get
TensorFlow's own "NHWC only on CPU" error at run time, so use NHWC for CPU towers. The same
holds for grouped convolutions (``conv2d(groups=...)``), whose gradient only GPUs implement:
without a GPU the groups are convolved one by one.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.nets.layers.arg_scope import add_arg_scope
from mox_core.nets.layers.utils import (
    NCHW,
    NHWC,
    XAVIER,
    ZEROS,
    as_pair,
    check_data_format,
    check_padding,
    collect_named_outputs,
    finish_layer,
    gpu_visible,
    in_layout,
    layer_variable,
    rank4,
    spatial,
)

tf1 = tf.compat.v1


def _check_groups(groups: Any, in_channels: int, num_outputs: int) -> None:
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    if in_channels % groups or num_outputs % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide the input channels ({in_channels}) and "
            f"num_outputs ({num_outputs})"
        )


@add_arg_scope
def conv2d(
    inputs,
    num_outputs: int,
    kernel_size,
    stride=1,
    padding: str = "SAME",
    data_format: str | None = NHWC,
    rate=1,
    activation_fn: Callable | None = tf.nn.relu,
    normalizer_fn: Callable | None = None,
    normalizer_params: dict | None = None,
    weights_initializer=XAVIER,
    weights_regularizer: Callable | None = None,
    biases_initializer=ZEROS,
    biases_regularizer: Callable | None = None,
    reuse: bool | None = None,
    variables_collections=None,
    outputs_collections=None,
    trainable: bool = True,
    scope: str | None = None,
    groups: int = 1,
):
    """2-D convolution with ``<scope>/weights`` ``[kh, kw, in, out]`` and ``<scope>/biases``.

    As ``slim.conv2d``: ``rate`` > 1 is an atrous (dilated) convolution and cannot be combined
    with ``stride`` > 1; with ``normalizer_fn`` (e.g. batch norm) no biases are created and
    ``normalizer_fn(outputs, **normalizer_params)`` runs before ``activation_fn``. The default
    scope is ``Conv`` (``Conv_1``, ... when repeated).

    ``groups`` > 1 (not in slim; ResNeXt needs it) is a grouped convolution: the channels are cut
    into ``groups`` equal parts convolved separately, with one ``weights`` variable
    ``[kh, kw, in / groups, out]`` (TensorFlow's grouped-filter layout; output channels
    ``[g * out / groups, (g + 1) * out / groups)`` belong to group ``g``). TensorFlow has no
    gradient of a grouped convolution on CPU, so without a GPU the groups are convolved one by
    one and concatenated: the same numbers, slower.
    """
    data_format = check_data_format(data_format)
    padding = check_padding(padding)
    kernel = as_pair(kernel_size, "kernel_size")
    strides = as_pair(stride, "stride")
    rates = as_pair(rate, "rate")
    if max(strides) > 1 and max(rates) > 1:
        raise ValueError(f"conv2d: stride {stride!r} > 1 cannot be combined with rate {rate!r} > 1")
    inputs = rank4(inputs, "conv2d")
    in_channels = inputs.shape[1 if data_format == NCHW else 3]
    if in_channels is None:
        raise ValueError(f"conv2d needs a known number of input channels, got shape {inputs.shape}")
    _check_groups(groups, int(in_channels), num_outputs)
    with tf1.variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        weights = layer_variable(
            "weights",
            [*kernel, int(in_channels) // groups, num_outputs],
            inputs.dtype.base_dtype,
            weights_initializer,
            weights_regularizer,
            trainable,
            variables_collections,
        )

        def convolve_natively(x, w, fmt):
            return tf.nn.conv2d(
                x,
                w,
                strides=spatial(strides, fmt),
                padding=padding,
                data_format=fmt,
                dilations=spatial(rates, fmt),
            )

        def convolve(x, fmt):
            if groups == 1 or gpu_visible():
                return convolve_natively(x, weights, fmt)
            axis = 1 if fmt == NCHW else 3
            pieces = zip(tf.split(x, groups, axis=axis), tf.split(weights, groups, axis=3))
            return tf.concat([convolve_natively(a, w, fmt) for a, w in pieces], axis=axis)

        outputs = in_layout(convolve, inputs, data_format)
        outputs = finish_layer(
            outputs,
            num_outputs,
            data_format,
            normalizer_fn,
            normalizer_params,
            biases_initializer,
            biases_regularizer,
            activation_fn,
            trainable,
            variables_collections,
        )
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def fully_connected(
    inputs,
    num_outputs: int,
    activation_fn: Callable | None = tf.nn.relu,
    normalizer_fn: Callable | None = None,
    normalizer_params: dict | None = None,
    weights_initializer=XAVIER,
    weights_regularizer: Callable | None = None,
    biases_initializer=ZEROS,
    biases_regularizer: Callable | None = None,
    reuse: bool | None = None,
    variables_collections=None,
    outputs_collections=None,
    trainable: bool = True,
    scope: str | None = None,
):
    """Dense layer on the last axis: ``<scope>/weights`` ``[in, out]`` and ``<scope>/biases``.

    As ``slim.fully_connected``, inputs of rank > 2 are transformed along their last axis (no
    implicit flatten: call :func:`flatten` first). The default scope is ``fully_connected``.
    """
    if not isinstance(num_outputs, numbers.Integral) or isinstance(num_outputs, bool):
        raise ValueError(f"fully_connected: num_outputs must be an int, got {num_outputs!r}")
    inputs = tf.convert_to_tensor(inputs)
    rank = inputs.shape.rank
    if rank is None or rank < 2 or inputs.shape[-1] is None:
        raise ValueError(
            f"fully_connected needs an input of rank >= 2 with a known last dimension, "
            f"got shape {inputs.shape}"
        )
    with tf1.variable_scope(scope, "fully_connected", [inputs], reuse=reuse) as sc:
        weights = layer_variable(
            "weights",
            [int(inputs.shape[-1]), int(num_outputs)],
            inputs.dtype.base_dtype,
            weights_initializer,
            weights_regularizer,
            trainable,
            variables_collections,
        )
        if rank == 2:
            outputs = tf.matmul(inputs, weights)
        else:
            outputs = tf.tensordot(inputs, weights, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape[:-1].concatenate([int(num_outputs)]))
        outputs = finish_layer(
            outputs,
            int(num_outputs),
            NHWC,  # bias on the last axis
            normalizer_fn,
            normalizer_params,
            biases_initializer,
            biases_regularizer,
            activation_fn,
            trainable,
            variables_collections,
        )
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _pool_layer(op_v1: Callable, default_name: str, name: str, doc: str) -> Callable:
    """A 2-D pooling layer with slim's signature and defaults, running ``op_v1``.

    ``max_pool2d`` and ``avg_pool2d`` differ only in the op, the name and the default name
    scope. The layer gets its public name before :func:`add_arg_scope` sees it, so each has its
    own arg-scope key.
    """

    def pool2d(
        inputs,
        kernel_size,
        stride=2,
        padding: str = "VALID",
        data_format: str | None = NHWC,
        outputs_collections=None,
        scope: str | None = None,
    ):
        data_format = check_data_format(data_format)
        padding = check_padding(padding)
        window = as_pair(kernel_size, "kernel_size")
        strides = as_pair(stride, "stride")
        inputs = rank4(inputs, default_name)
        with tf1.name_scope(scope, default_name, [inputs]) as sc:

            def pool(x, fmt):
                return op_v1(
                    x, spatial(window, fmt), spatial(strides, fmt), padding, data_format=fmt
                )

            outputs = in_layout(pool, inputs, data_format)
            return collect_named_outputs(outputs_collections, sc, outputs)

    pool2d.__name__ = pool2d.__qualname__ = name
    pool2d.__doc__ = doc
    return add_arg_scope(pool2d)


max_pool2d = _pool_layer(
    tf1.nn.max_pool,
    "MaxPool2D",
    "max_pool2d",
    "2-D max pooling (slim's defaults: stride 2, ``VALID``; name scope ``MaxPool2D``).",
)
avg_pool2d = _pool_layer(
    tf1.nn.avg_pool,
    "AvgPool2D",
    "avg_pool2d",
    "2-D average pooling (slim's defaults: stride 2, ``VALID``; name scope ``AvgPool2D``).",
)


@add_arg_scope
def dropout(
    inputs,
    keep_prob=0.5,
    noise_shape=None,
    is_training=True,
    outputs_collections=None,
    scope: str | None = None,
    seed: int | None = None,
):
    """Keep each element with probability ``keep_prob`` (scaled by ``1/keep_prob``) in training.

    ``is_training`` may be a Python bool (``False``: identity) or a boolean tensor (decided at
    run time). Name scope ``Dropout``.
    """
    if isinstance(keep_prob, numbers.Real) and not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"dropout: keep_prob must be in (0, 1], got {keep_prob!r}")
    inputs = tf.convert_to_tensor(inputs)
    with tf1.name_scope(scope, "Dropout", [inputs]) as sc:

        def drop():
            rate = 1.0 - tf.convert_to_tensor(keep_prob, dtype=inputs.dtype.base_dtype)
            return tf.nn.dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)

        if is_training is False or (isinstance(keep_prob, numbers.Real) and keep_prob == 1.0):
            outputs = tf.identity(inputs)
        elif is_training is True:
            outputs = drop()
        else:
            outputs = tf.cond(
                tf.convert_to_tensor(is_training, tf.bool), drop, lambda: tf.identity(inputs)
            )
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope: str | None = None):
    """``[N, d1, d2, ...]`` -> ``[N, d1 * d2 * ...]`` in the input's memory order."""
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank is None or inputs.shape.rank < 2:
        raise ValueError(f"flatten needs an input of rank >= 2, got shape {inputs.shape}")
    with tf1.name_scope(scope, "Flatten", [inputs]) as sc:
        inner = inputs.shape[1:]
        if inner.is_fully_defined():
            outputs = tf.reshape(inputs, [-1, inner.num_elements()])
        else:
            outputs = tf.reshape(inputs, tf.stack([tf.shape(inputs)[0], -1]))
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def softmax(logits, scope: str | None = None):
    """Softmax over the last axis (slim's ``prediction_fn``), in name scope ``softmax``."""
    with tf1.name_scope(scope, "softmax", [logits]):
        return tf.nn.softmax(logits)


@add_arg_scope
def separable_conv2d(
    inputs,
    num_outputs: int | None,
    kernel_size,
    depth_multiplier: int = 1,
    stride=1,
    padding: str = "SAME",
    data_format: str | None = NHWC,
    rate=1,
    activation_fn: Callable | None = tf.nn.relu,
    normalizer_fn: Callable | None = None,
    normalizer_params: dict | None = None,
    weights_initializer=XAVIER,
    pointwise_initializer=None,
    weights_regularizer: Callable | None = None,
    biases_initializer=ZEROS,
    biases_regularizer: Callable | None = None,
    reuse: bool | None = None,
    variables_collections=None,
    outputs_collections=None,
    trainable: bool = True,
    scope: str | None = None,
):
    """Depthwise convolution, then (unless ``num_outputs`` is None) a 1x1 pointwise one.

    As ``slim.separable_conv2d``: ``<scope>/depthwise_weights`` ``[kh, kw, in, depth_multiplier]``
    and ``<scope>/pointwise_weights`` ``[1, 1, in * depth_multiplier, num_outputs]``, then
    ``biases`` (or the normalizer) and the activation. ``num_outputs=None`` is a depthwise
    convolution alone (MobileNet's ``*_depthwise`` layers) with ``in * depth_multiplier`` outputs.
    ``pointwise_initializer`` defaults to ``weights_initializer``; ``weights_regularizer``
    applies to both kernels. The default scope is ``SeparableConv2d``.
    """
    data_format = check_data_format(data_format)
    padding = check_padding(padding)
    kernel = as_pair(kernel_size, "kernel_size")
    strides = as_pair(stride, "stride")
    rates = as_pair(rate, "rate")
    if strides[0] != strides[1]:
        raise ValueError(f"separable_conv2d: the stride must be equal in both axes, got {stride!r}")
    if max(strides) > 1 and max(rates) > 1:
        raise ValueError(
            f"separable_conv2d: stride {stride!r} > 1 cannot be combined with rate {rate!r} > 1"
        )
    if not isinstance(depth_multiplier, numbers.Integral) or depth_multiplier < 1:
        raise ValueError(
            f"separable_conv2d: depth_multiplier must be a positive int, got {depth_multiplier!r}"
        )
    inputs = rank4(inputs, "separable_conv2d")
    in_channels = inputs.shape[1 if data_format == NCHW else 3]
    if in_channels is None:
        raise ValueError(
            f"separable_conv2d needs a known number of input channels, got shape {inputs.shape}"
        )
    in_channels = int(in_channels)
    dtype = inputs.dtype.base_dtype
    with tf1.variable_scope(scope, "SeparableConv2d", [inputs], reuse=reuse) as sc:
        depthwise = layer_variable(
            "depthwise_weights",
            [*kernel, in_channels, int(depth_multiplier)],
            dtype,
            weights_initializer,
            weights_regularizer,
            trainable,
            variables_collections,
            collection_key="weights",
        )
        pointwise = None
        if num_outputs is not None:
            pointwise = layer_variable(
                "pointwise_weights",
                [1, 1, in_channels * int(depth_multiplier), int(num_outputs)],
                dtype,
                weights_initializer if pointwise_initializer is None else pointwise_initializer,
                weights_regularizer,
                trainable,
                variables_collections,
                collection_key="weights",
            )

        def convolve(x, fmt):
            if pointwise is None:
                return tf.nn.depthwise_conv2d(
                    x,
                    depthwise,
                    spatial(strides, fmt),
                    padding,
                    data_format=fmt,
                    dilations=rates,
                )
            return tf.nn.separable_conv2d(
                x,
                depthwise,
                pointwise,
                spatial(strides, fmt),
                padding,
                data_format=fmt,
                dilations=rates,
            )

        outputs = in_layout(convolve, inputs, data_format)
        outputs = finish_layer(
            outputs,
            in_channels * int(depth_multiplier) if num_outputs is None else int(num_outputs),
            data_format,
            normalizer_fn,
            normalizer_params,
            biases_initializer,
            biases_regularizer,
            activation_fn,
            trainable,
            variables_collections,
        )
        return collect_named_outputs(outputs_collections, sc.name, outputs)


# --------------------------------------------------------------------------------------------
# repeat and stack


def repeat(inputs, repetitions: int, layer: Callable, *args, **kwargs):
    """Apply ``layer(inputs, *args, **kwargs)`` ``repetitions`` times, as ``slim.repeat``.

    ``repeat(net, 2, conv2d, 64, [3, 3], scope='conv1')`` creates ``conv1/conv1_1`` and
    ``conv1/conv1_2`` (VGG's names). Without ``scope``, the outer scope is ``Repeat`` and the
    layers are named after the layer function. Defaults come from the layer's own arg scope.
    """
    scope = kwargs.pop("scope", None)
    with tf1.variable_scope(scope, "Repeat", [inputs]):
        outputs = tf.convert_to_tensor(inputs)
        prefix = scope or _layer_name(layer, "repeat")
        for i in range(repetitions):
            outputs = layer(outputs, *args, **{**kwargs, "scope": f"{prefix}_{i + 1}"})
        return outputs


def stack(inputs, layer: Callable, stack_args: list | tuple, **kwargs):
    """Apply ``layer`` once per entry of ``stack_args``, as ``slim.stack``.

    ``stack(x, fully_connected, [32, 64, 128], scope='fc')`` creates ``fc/fc_1`` .. ``fc/fc_3``;
    an entry that is a tuple is unpacked into positional arguments
    (``stack(x, conv2d, [(32, [3, 3]), (64, [1, 1])])``).
    """
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError("stack_args must be a list or a tuple")
    scope = kwargs.pop("scope", None)
    with tf1.variable_scope(scope, "Stack", [inputs]):
        outputs = tf.convert_to_tensor(inputs)
        prefix = scope or _layer_name(layer, "stack")
        for i, layer_args in enumerate(stack_args):
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **{**kwargs, "scope": f"{prefix}_{i + 1}"})
        return outputs


def _layer_name(layer: Callable, default: str) -> str:
    """A layer function's name, also through ``functools.partial``."""
    name = getattr(layer, "__name__", None) or getattr(getattr(layer, "func", None), "__name__", "")
    return name or default
