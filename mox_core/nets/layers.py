"""A small TF-Slim-like layer module for the networks (``conv2d``, ``fully_connected``, pools, ...).

TensorFlow 2.16+ ships Keras 3, so neither ``tf.compat.v1.layers`` nor tf-slim works any more.
These layers are plain functions on ``tf.compat.v1.get_variable``, ``variable_scope`` and
``tf.nn`` that create exactly the variables TF-Slim creates (``<scope>/weights``,
``<scope>/biases``, in that order, with slim's default scope names ``Conv``, ``Conv_1``,
``fully_connected``, ..., and ``BatchNorm/gamma|beta|moving_mean|moving_variance``), so the
public TF-Slim checkpoints load into networks built with them. Signatures, argument order and
defaults follow ``tf_slim.layers`` so ported network code reads the same; ``arg_scope`` /
``add_arg_scope`` work as slim's, and so do ``repeat`` and ``stack``.

``data_format='NCHW'``: TensorFlow's CPU kernels of convolution and pooling implement NHWC only.
When no GPU is visible, these layers therefore compute an NCHW layer in NHWC between two
transposes: same variables, same numbers, NCHW in and out. With a GPU the native NCHW kernels
run (the fast layout there); NCHW layers pinned to the CPU in a process that sees a GPU then get
TensorFlow's own "NHWC only on CPU" error at run time, so use NHWC for CPU towers. The same
holds for grouped convolutions (``conv2d(groups=...)``), whose gradient only GPUs implement:
without a GPU the groups are convolved one by one.

Variables are created in the input's dtype; ``weights_regularizer`` goes through
``get_variable(regularizer=...)`` so the loss lands in ``GraphKeys.REGULARIZATION_LOSSES`` once
per variable, also when a scope is reused (multi-device towers) or a custom getter is active.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import numbers
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1

NHWC = "NHWC"
NCHW = "NCHW"

# slim's defaults; initializer objects are stateless, so one instance serves every layer.
_XAVIER = tf1.glorot_uniform_initializer()
_ZEROS = tf1.zeros_initializer()
_ONES = tf1.ones_initializer()

__all__ = [
    "add_arg_scope",
    "arg_scope",
    "avg_pool2d",
    "batch_norm",
    "collect_named_outputs",
    "conv2d",
    "convert_collection_to_dict",
    "current_arg_scope",
    "dropout",
    "flatten",
    "fully_connected",
    "has_arg_scope",
    "l2_regularizer",
    "max_pool2d",
    "repeat",
    "separable_conv2d",
    "softmax",
    "stack",
]


# --------------------------------------------------------------------------------------------
# arg_scope


class _ArgScopeStack(threading.local):
    """Per-thread stack of ``{op key: {argument: default}}``; towers may be built in threads."""

    def __init__(self) -> None:
        self.stack: list[dict[tuple[str, str], dict[str, Any]]] = [{}]


_ARG_SCOPES = _ArgScopeStack()


def _op_key(func: Callable) -> tuple[str, str] | None:
    return getattr(func, "_arg_scope_key", None)


def has_arg_scope(func: Callable) -> bool:
    """Whether ``func`` was decorated with :func:`add_arg_scope`."""
    return _op_key(func) is not None


def current_arg_scope() -> dict[tuple[str, str], dict[str, Any]]:
    """The innermost arg scope (what ``with arg_scope(...) as sc`` yields)."""
    return _ARG_SCOPES.stack[-1]


def add_arg_scope(func: Callable) -> Callable:
    """Make ``func`` take its keyword defaults from the enclosing :func:`arg_scope` blocks.

    Arguments given explicitly, by keyword or by position, always win over the scope's.
    """
    key = (func.__module__, func.__qualname__)
    params = inspect.signature(func).parameters
    positional: list[str] = []
    for name, param in params.items():
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            break
        positional.append(name)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        defaults = current_arg_scope().get(key)
        if defaults:
            given_by_position = positional[: len(args)]
            merged = {k: v for k, v in defaults.items() if k not in given_by_position}
            merged.update(kwargs)
            kwargs = merged
        return func(*args, **kwargs)

    wrapper._arg_scope_key = key  # type: ignore[attr-defined]
    wrapper._arg_scope_accepts = None if accepts_any else frozenset(params)  # type: ignore[attr-defined]
    return wrapper


@contextlib.contextmanager
def arg_scope(
    list_ops_or_scope: list | tuple | dict, **kwargs: Any
) -> Iterator[dict[tuple[str, str], dict[str, Any]]]:
    """Set default arguments of the listed layer functions inside the ``with`` block.

    ``with arg_scope([conv2d, fully_connected], weights_regularizer=l2_regularizer(4e-5)):``.
    Nested scopes add to (and override) the outer ones. The block yields the scope as a dict,
    which ``arg_scope(saved_scope)`` re-enters later: TF-Slim's ``*_arg_scope()`` idiom.
    An argument that one of the functions does not take is a ``TypeError`` here, not at the
    first call.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("arg_scope(saved_scope) re-enters a saved scope and takes no kwargs")
        scope = dict(list_ops_or_scope)
    elif isinstance(list_ops_or_scope, (list, tuple)):
        scope = dict(current_arg_scope())
        for op in list_ops_or_scope:
            key = _op_key(op)
            if key is None:
                raise ValueError(
                    f"{getattr(op, '__name__', op)!r} is not decorated with @add_arg_scope"
                )
            accepted = op._arg_scope_accepts
            unknown = sorted(set(kwargs) - accepted) if accepted is not None else []
            if unknown:
                raise TypeError(
                    f"arg_scope: {op.__name__}() takes no argument {', '.join(map(repr, unknown))}"
                )
            scope[key] = {**scope.get(key, {}), **kwargs}
    else:
        raise TypeError(
            "arg_scope expects a list/tuple of layer functions or a saved scope dict, "
            f"got {type(list_ops_or_scope).__name__}"
        )
    _ARG_SCOPES.stack.append(scope)
    try:
        yield scope
    finally:
        _ARG_SCOPES.stack.pop()


# --------------------------------------------------------------------------------------------
# named outputs (TF-Slim's end_points collections)


def collect_named_outputs(collections: Any, alias: str, outputs: tf.Tensor) -> tf.Tensor:
    """Add ``outputs`` to ``collections`` under ``alias`` (slim's ``outputs_collections``).

    The alias is kept on the tensor (``tensor.aliases``) as TF-Slim does, so networks that
    build ``end_points`` with :func:`convert_collection_to_dict` keep slim's keys.
    """
    if collections:
        alias = alias[:-1] if alias.endswith("/") else alias
        aliases = getattr(outputs, "aliases", None)
        if aliases is None:
            outputs.aliases = [alias]
        else:
            aliases.append(alias)
        if isinstance(collections, str):
            collections = [collections]
        tf1.add_to_collections(collections, outputs)
    return outputs


def convert_collection_to_dict(collection: str, clear_collection: bool = False) -> OrderedDict:
    """``{alias: tensor}`` of a collection filled by :func:`collect_named_outputs`."""
    output: OrderedDict = OrderedDict()
    for tensor in tf1.get_collection(collection):
        aliases = getattr(tensor, "aliases", None) or [tensor.name.removesuffix(":0")]
        for alias in aliases:
            output[alias] = tensor
    if clear_collection:
        tf1.get_default_graph().clear_collection(collection)
    return output


# --------------------------------------------------------------------------------------------
# helpers


def l2_regularizer(scale: float, scope: str | None = None) -> Callable[[tf.Tensor], Any]:
    """TF-Slim's ``l2_regularizer``: ``weights -> scale * tf.nn.l2_loss(weights)``.

    ``scale == 0`` gives a regularizer that returns ``None``, which adds no loss at all.
    """
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool):
        raise TypeError(f"l2_regularizer scale must be a number, got {scale!r}")
    if scale < 0:
        raise ValueError(f"l2_regularizer scale must be >= 0, got {scale}")
    scale = float(scale)
    if scale == 0.0:
        return lambda _weights: None

    def l2(weights):
        with tf1.name_scope(scope, "l2_regularizer", [weights]) as name:
            factor = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(factor, tf.nn.l2_loss(weights), name=name)

    return l2


def _check_data_format(data_format: str | None) -> str:
    if data_format is None:
        return NHWC
    if data_format not in (NHWC, NCHW):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    return data_format


def _check_padding(padding: str) -> str:
    upper = padding.upper() if isinstance(padding, str) else padding
    if upper not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return upper


def _pair(value: Any, what: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``[3, 5]`` -> ``(3, 5)``, as slim's ``kernel_size`` / ``stride``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return pair


def _spatial(pair: tuple[int, int], data_format: str) -> list[int]:
    """A 2-D window/stride as the 4-element list the ``tf.nn`` ops take."""
    return [1, 1, *pair] if data_format == NCHW else [1, *pair, 1]


def _check_groups(groups: Any, in_channels: int, num_outputs: int) -> None:
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    if in_channels % groups or num_outputs % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide the input channels ({in_channels}) and "
            f"num_outputs ({num_outputs})"
        )


def _rank4(inputs: Any, layer: str) -> tf.Tensor:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 4:
        raise ValueError(f"{layer} needs a 4-D input, got shape {inputs.shape}")
    return inputs


@functools.cache
def _gpu_visible() -> bool:
    """Whether a GPU is visible: only GPU kernels implement NCHW convolution and pooling,
    NCHW depthwise convolution and the gradient of a grouped convolution."""
    return bool(tf.config.list_physical_devices("GPU"))


def _in_layout(op: Callable[[tf.Tensor, str], tf.Tensor], inputs: tf.Tensor, data_format: str):
    """Run ``op(x, data_format)`` natively, or an NCHW op in NHWC between transposes on CPU."""
    if data_format == NHWC or _gpu_visible():
        return op(inputs, data_format)
    outputs = op(tf.transpose(inputs, [0, 2, 3, 1], name="to_NHWC"), NHWC)
    return tf.transpose(outputs, [0, 3, 1, 2], name="to_NCHW")


def _model_variable(
    name: str,
    shape: list[int],
    dtype: tf.DType,
    initializer: Any,
    regularizer: Callable | None,
    trainable: bool,
    variables_collections: Any,
    collection_key: str | None = None,
    extra_collections: tuple[str, ...] = (),
) -> tf.Variable:
    """A variable in GLOBAL_VARIABLES and MODEL_VARIABLES, as slim's ``model_variable``.

    A dict ``variables_collections`` is looked up by ``collection_key`` (default: the variable's
    name), as slim's ``get_variable_collections``: ``{'weights': [...], 'biases': [...]}``.
    """
    if isinstance(variables_collections, dict):
        variables_collections = variables_collections.get(collection_key or name)
    if isinstance(variables_collections, str):
        variables_collections = [variables_collections]
    collections = list(variables_collections or [])
    collections += [tf1.GraphKeys.GLOBAL_VARIABLES, tf1.GraphKeys.MODEL_VARIABLES]
    collections += list(extra_collections)
    return tf1.get_variable(
        name,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        collections=collections,
    )


def _finish(
    outputs: tf.Tensor,
    num_outputs: int,
    data_format: str,
    normalizer_fn: Callable | None,
    normalizer_params: dict | None,
    biases_initializer: Any,
    biases_regularizer: Callable | None,
    activation_fn: Callable | None,
    trainable: bool,
    variables_collections: Any,
) -> tf.Tensor:
    """Biases (or the normalizer, which replaces them), then the activation: slim's order."""
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    elif biases_initializer is not None:
        biases = _model_variable(
            "biases",
            [num_outputs],
            outputs.dtype.base_dtype,
            biases_initializer,
            biases_regularizer,
            trainable,
            variables_collections,
        )
        outputs = tf.nn.bias_add(outputs, biases, data_format=data_format)
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return outputs


# --------------------------------------------------------------------------------------------
# layers


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
    weights_initializer=_XAVIER,
    weights_regularizer: Callable | None = None,
    biases_initializer=_ZEROS,
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
    data_format = _check_data_format(data_format)
    padding = _check_padding(padding)
    kernel = _pair(kernel_size, "kernel_size")
    strides = _pair(stride, "stride")
    rates = _pair(rate, "rate")
    if max(strides) > 1 and max(rates) > 1:
        raise ValueError(f"conv2d: stride {stride!r} > 1 cannot be combined with rate {rate!r} > 1")
    inputs = _rank4(inputs, "conv2d")
    in_channels = inputs.shape[1 if data_format == NCHW else 3]
    if in_channels is None:
        raise ValueError(f"conv2d needs a known number of input channels, got shape {inputs.shape}")
    _check_groups(groups, int(in_channels), num_outputs)
    with tf1.variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        weights = _model_variable(
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
                strides=_spatial(strides, fmt),
                padding=padding,
                data_format=fmt,
                dilations=_spatial(rates, fmt),
            )

        def convolve(x, fmt):
            if groups == 1 or _gpu_visible():
                return convolve_natively(x, weights, fmt)
            axis = 1 if fmt == NCHW else 3
            pieces = zip(tf.split(x, groups, axis=axis), tf.split(weights, groups, axis=3))
            return tf.concat([convolve_natively(a, w, fmt) for a, w in pieces], axis=axis)

        outputs = _in_layout(convolve, inputs, data_format)
        outputs = _finish(
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
    weights_initializer=_XAVIER,
    weights_regularizer: Callable | None = None,
    biases_initializer=_ZEROS,
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
        weights = _model_variable(
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
        outputs = _finish(
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


def _pool(
    op_v1,
    default_name,
    inputs,
    kernel_size,
    stride,
    padding,
    data_format,
    outputs_collections,
    scope,
):
    data_format = _check_data_format(data_format)
    padding = _check_padding(padding)
    window = _pair(kernel_size, "kernel_size")
    strides = _pair(stride, "stride")
    inputs = _rank4(inputs, default_name)
    with tf1.name_scope(scope, default_name, [inputs]) as sc:

        def pool(x, fmt):
            return op_v1(x, _spatial(window, fmt), _spatial(strides, fmt), padding, data_format=fmt)

        outputs = _in_layout(pool, inputs, data_format)
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def max_pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding: str = "VALID",
    data_format: str | None = NHWC,
    outputs_collections=None,
    scope: str | None = None,
):
    """2-D max pooling (slim's defaults: stride 2, ``VALID``; name scope ``MaxPool2D``)."""
    return _pool(
        tf1.nn.max_pool,
        "MaxPool2D",
        inputs,
        kernel_size,
        stride,
        padding,
        data_format,
        outputs_collections,
        scope,
    )


@add_arg_scope
def avg_pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding: str = "VALID",
    data_format: str | None = NHWC,
    outputs_collections=None,
    scope: str | None = None,
):
    """2-D average pooling (slim's defaults: stride 2, ``VALID``; name scope ``AvgPool2D``)."""
    return _pool(
        tf1.nn.avg_pool,
        "AvgPool2D",
        inputs,
        kernel_size,
        stride,
        padding,
        data_format,
        outputs_collections,
        scope,
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
    weights_initializer=_XAVIER,
    pointwise_initializer=None,
    weights_regularizer: Callable | None = None,
    biases_initializer=_ZEROS,
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
    data_format = _check_data_format(data_format)
    padding = _check_padding(padding)
    kernel = _pair(kernel_size, "kernel_size")
    strides = _pair(stride, "stride")
    rates = _pair(rate, "rate")
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
    inputs = _rank4(inputs, "separable_conv2d")
    in_channels = inputs.shape[1 if data_format == NCHW else 3]
    if in_channels is None:
        raise ValueError(
            f"separable_conv2d needs a known number of input channels, got shape {inputs.shape}"
        )
    in_channels = int(in_channels)
    dtype = inputs.dtype.base_dtype
    with tf1.variable_scope(scope, "SeparableConv2d", [inputs], reuse=reuse) as sc:
        depthwise = _model_variable(
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
            pointwise = _model_variable(
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
                    _spatial(strides, fmt),
                    padding,
                    data_format=fmt,
                    dilations=rates,
                )
            return tf.nn.separable_conv2d(
                x,
                depthwise,
                pointwise,
                _spatial(strides, fmt),
                padding,
                data_format=fmt,
                dilations=rates,
            )

        outputs = _in_layout(convolve, inputs, data_format)
        outputs = _finish(
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
# batch normalization

_BN_PARAMS = ("beta", "gamma", "moving_mean", "moving_variance")
_RENORM_CLIPPING_KEYS = ("rmax", "rmin", "dmax")


def _static_bool(value: Any) -> bool | None:
    """``value`` as a Python bool when it is known while building the graph, else ``None``."""
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return bool(value)
    static = tf.get_static_value(value)
    return None if static is None else bool(static)


def _smart_cond(pred: Any, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` or ``false_fn()`` while building when ``pred`` is known, else ``tf.cond``."""
    static = _static_bool(pred)
    if static is None:
        return tf.cond(tf.convert_to_tensor(pred, tf.bool), true_fn, false_fn)
    return true_fn() if static else false_fn()


def _assign_moving_average(variable: tf.Variable, value: tf.Tensor, decay: float):
    """``variable -= (variable - value) * (1 - decay)``, slim's ``assign_moving_average``."""
    with tf1.name_scope(None, "AssignMovingAvg", [variable, value]) as name:
        delta = (variable - tf.cast(value, variable.dtype.base_dtype)) * (1.0 - decay)
        return tf1.assign_sub(variable, delta, name=name)


@add_arg_scope
def batch_norm(
    inputs,
    decay: float = 0.999,
    center: bool = True,
    scale: bool = False,
    epsilon: float = 0.001,
    activation_fn: Callable | None = None,
    param_initializers: dict | None = None,
    param_regularizers: dict | None = None,
    updates_collections: str | list | None = tf1.GraphKeys.UPDATE_OPS,
    is_training=True,
    reuse: bool | None = None,
    variables_collections=None,
    outputs_collections=None,
    trainable: bool = True,
    fused: bool | None = None,
    data_format: str | None = NHWC,
    scope: str | None = None,
    renorm: bool = False,
    renorm_clipping: dict | None = None,
    renorm_decay: float = 0.99,
):
    """Batch normalization (Ioffe & Szegedy 2015) with TF-Slim's variables and semantics.

    Variables, in slim's creation order, under ``<scope>/`` (default scope ``BatchNorm``):
    ``gamma`` (only when ``scale``), ``beta`` (only when ``center``), ``moving_mean`` and
    ``moving_variance``; the moving statistics are not trainable and are also in
    ``MOVING_AVERAGE_VARIABLES`` (as the original slim ``ops.batch_norm``, so
    ``tf.moving_average_variables()`` lists them). ``param_initializers`` /
    ``param_regularizers`` are dicts keyed by those names.

    ``is_training`` (a Python bool or a boolean tensor): normalize with the batch's statistics
    and create ops that move ``moving_mean`` / ``moving_variance`` towards them by
    ``1 - decay`` per step. The ops go to ``updates_collections`` (run them with the train op:
    ``tf.get_collection(tf.GraphKeys.UPDATE_OPS)``), or, with ``updates_collections=None``,
    run with the output itself. Not training: normalize with the moving statistics, no update.

    ``fused`` (slim's default None means True) computes with ``tf.nn.fused_batch_norm`` on 4-D
    inputs; the other path with ``tf.nn.moments`` / ``tf.nn.batch_normalization`` gives the same
    numbers: both normalize with the batch's biased variance and move ``moving_variance``
    towards the unbiased one (Bessel's correction, as the fused kernel and slim's default fused
    path do). ``tf.nn.fused_batch_norm`` raises epsilon to at least 1.001e-5 (a cuDNN limit).

    ``renorm``: batch renormalization (Ioffe 2017) as ``tf.compat.v1.layers`` implements it,
    which TF-Slim uses: extra non-trainable variables ``moving_stddev``, ``renorm_mean`` and
    ``renorm_stddev``; training normalizes with the batch statistics corrected by
    ``r = clip(sigma_B / renorm_stddev)`` and ``d = clip((mu_B - renorm_mean) / renorm_stddev)``
    (``renorm_clipping``: optional ``rmin``, ``rmax``, ``dmax``), the renorm statistics move by
    ``1 - renorm_decay`` and the inference ones by ``1 - decay``. Renorm is never fused.
    ``data_format`` names the channel axis (``NCHW``: axis 1, else the last axis).
    """
    inputs = tf.convert_to_tensor(inputs)
    data_format = _check_data_format(data_format)
    rank = inputs.shape.rank
    if rank is None or rank < 2:
        raise ValueError(f"batch_norm needs an input of known rank >= 2, got shape {inputs.shape}")
    axis = 1 if data_format == NCHW else rank - 1
    channels = inputs.shape[axis]
    if channels is None:
        raise ValueError(f"batch_norm needs a known number of channels, got shape {inputs.shape}")
    initializers = _checked_keys(param_initializers, _BN_PARAMS, "param_initializers")
    regularizers = _checked_keys(param_regularizers, ("beta", "gamma"), "param_regularizers")
    clipping = _checked_keys(renorm_clipping, _RENORM_CLIPPING_KEYS, "renorm_clipping")
    for what, value in (("decay", decay), ("renorm_decay", renorm_decay)):
        if isinstance(value, numbers.Real) and not 0.0 <= value <= 1.0:
            raise ValueError(f"batch_norm: {what} must be in [0, 1], got {value!r}")
    training = _static_bool(is_training)
    dtype = inputs.dtype.base_dtype
    use_fused = (
        (fused is None or bool(fused))
        and not renorm
        and rank == 4
        and dtype in (tf.float16, tf.bfloat16, tf.float32)
    )
    # Half-precision inputs keep float32 statistics, as the fused kernel requires.
    param_dtype = tf.float32 if dtype in (tf.float16, tf.bfloat16) else dtype
    shape = [int(channels)]

    with tf1.variable_scope(scope, "BatchNorm", [inputs], reuse=reuse) as sc:

        def variable(name, default_initializer, trainable_, extra=()):
            return _model_variable(
                name,
                shape,
                param_dtype,
                initializers.get(name, default_initializer),
                regularizers.get(name),
                trainable_,
                variables_collections,
                extra_collections=extra,
            )

        moving = (tf1.GraphKeys.MOVING_AVERAGE_VARIABLES,)
        gamma = variable("gamma", _ONES, trainable) if scale else None
        beta = variable("beta", _ZEROS, trainable) if center else None
        moving_mean = variable("moving_mean", _ZEROS, False, moving)
        moving_variance = variable("moving_variance", _ONES, False, moving)
        stats = _BatchStatistics(inputs, axis, param_dtype, epsilon, gamma, beta, data_format)
        if renorm:
            variance_initializer = initializers.get("moving_variance", _ONES)

            def stddev_initializer(*args, **kwargs):
                return tf.sqrt(variance_initializer(*args, **kwargs))

            moving_stddev = variable("moving_stddev", stddev_initializer, False, moving)
            renorm_mean = variable("renorm_mean", initializers.get("moving_mean", _ZEROS), False)
            renorm_stddev = variable("renorm_stddev", stddev_initializer, False)
        if training is False:
            outputs = stats.inference(moving_mean, moving_variance, use_fused)
        else:
            if renorm:
                outputs, updates = _renormalize(
                    stats, is_training, decay, renorm_decay, clipping,
                    moving_mean, moving_variance, moving_stddev, renorm_mean, renorm_stddev,
                )  # fmt: skip
            else:
                outputs, updates = _normalize(
                    stats, is_training, decay, use_fused, moving_mean, moving_variance
                )
            if updates_collections is None:
                with tf.control_dependencies(updates):
                    outputs = tf.identity(outputs)
            else:
                if isinstance(updates_collections, str):
                    updates_collections = [updates_collections]
                for update in updates:
                    tf1.add_to_collections(updates_collections, update)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _checked_keys(mapping: dict | None, allowed: tuple[str, ...], what: str) -> dict:
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ValueError(
            f"batch_norm: unknown {what} key(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(allowed)}"
        )
    return mapping


class _BatchStatistics:
    """Normalizes one input with given or batch statistics, fused or not, in any layout."""

    def __init__(self, inputs, axis, param_dtype, epsilon, gamma, beta, data_format):
        self.inputs = inputs
        self.axis = axis
        self.rank = inputs.shape.rank
        self.param_dtype = param_dtype
        self.epsilon = epsilon
        self.gamma = gamma
        self.beta = beta
        self.data_format = data_format
        self.reduction_axes = [i for i in range(self.rank) if i != axis]

    def _broadcast(self, value):
        """A per-channel ``[C]`` vector shaped to broadcast against the input."""
        if value is None or self.axis == self.rank - 1:
            return value
        shape = [1] * self.rank
        shape[self.axis] = -1
        return tf.reshape(value, shape)

    def _scale_offset(self):
        channels = self.inputs.shape[self.axis]
        gamma = self.gamma if self.gamma is not None else tf.ones([channels], self.param_dtype)
        beta = self.beta if self.beta is not None else tf.zeros([channels], self.param_dtype)
        return gamma, beta

    def normalize(self, mean, variance, scale, offset):
        """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` on the channel axis."""
        x = tf.cast(self.inputs, self.param_dtype)
        b = self._broadcast
        outputs = tf.nn.batch_normalization(
            x, b(mean), b(variance), b(offset), b(scale), self.epsilon
        )
        return tf.cast(outputs, self.inputs.dtype)

    def _fused(self, **kwargs):
        gamma, beta = self._scale_offset()
        return tf1.nn.fused_batch_norm(
            self.inputs,
            gamma,
            beta,
            epsilon=self.epsilon,
            data_format=self.data_format,
            **kwargs,
        )

    def inference(self, mean, variance, use_fused):
        if use_fused:
            return self._fused(mean=mean, variance=variance, is_training=False)[0]
        return self.normalize(mean, variance, self.gamma, self.beta)

    def moments(self):
        """The batch's mean and biased variance, computed in the parameters' dtype."""
        x = tf.cast(self.inputs, self.param_dtype)
        return tf.nn.moments(x, self.reduction_axes)

    def unbiased(self, variance):
        """Bessel's correction ``n / (n - 1)``, ``n`` the values per channel (1 when n is 1)."""
        shape = self.inputs.shape
        if shape.is_fully_defined():
            n = shape.num_elements() // shape[self.axis]
            return variance * (n / max(n - 1, 1))
        n = tf.cast(tf.size(self.inputs) // tf.shape(self.inputs)[self.axis], variance.dtype)
        return variance * (n / tf.maximum(n - 1.0, 1.0))

    def training(self, use_fused):
        """Outputs with the batch statistics, the batch mean and the unbiased batch variance."""
        if use_fused:
            return self._fused(is_training=True)
        mean, variance = self.moments()
        outputs = self.normalize(mean, variance, self.gamma, self.beta)
        return outputs, mean, self.unbiased(variance)


def _normalize(stats, is_training, decay, use_fused, moving_mean, moving_variance):
    """Plain batch norm in training (or run-time-decided) mode; returns outputs and updates."""

    def training():
        return stats.training(use_fused)

    def inference():
        outputs = stats.inference(moving_mean, moving_variance, use_fused)
        return outputs, tf.identity(moving_mean), tf.identity(moving_variance)

    outputs, mean, variance = _smart_cond(is_training, training, inference)
    # Not training at run time, mean and variance are the moving ones: the updates are no-ops.
    updates = [
        _assign_moving_average(moving_mean, mean, decay),
        _assign_moving_average(moving_variance, variance, decay),
    ]
    return outputs, updates


def _renormalize(
    stats,
    is_training,
    decay,
    renorm_decay,
    clipping,
    moving_mean,
    moving_variance,
    moving_stddev,
    renorm_mean,
    renorm_stddev,
):
    """Batch renormalization in training (or run-time-decided) mode: outputs and updates."""
    epsilon = stats.epsilon

    def training():
        mean, variance = stats.moments()
        stddev = tf.sqrt(variance + epsilon)
        # Early in training renorm_stddev may be tiny: do not divide by (almost) zero.
        running_stddev = tf.maximum(renorm_stddev, tf.sqrt(tf.cast(epsilon, stddev.dtype)))
        r = stddev / running_stddev
        d = (mean - renorm_mean) / running_stddev
        if clipping.get("rmin") is not None:
            r = tf.maximum(r, clipping["rmin"])
        if clipping.get("rmax") is not None:
            r = tf.minimum(r, clipping["rmax"])
        if clipping.get("dmax") is not None:
            d = tf.clip_by_value(d, -clipping["dmax"], clipping["dmax"])
        r = tf.stop_gradient(r, name="renorm_r")
        d = tf.stop_gradient(d, name="renorm_d")
        # x_hat * r + d, then gamma and beta: x_hat * (r * gamma) + (d * gamma + beta).
        scale = r if stats.gamma is None else r * stats.gamma
        offset = d if stats.gamma is None else d * stats.gamma
        if stats.beta is not None:
            offset += stats.beta
        outputs = stats.normalize(mean, variance, scale, offset)
        # The updates must read renorm_mean / renorm_stddev after r and d did.
        with tf.control_dependencies([r, d]):
            return outputs, tf.identity(mean), tf.identity(stddev)

    def inference():
        outputs = stats.inference(moving_mean, moving_variance, False)
        return outputs, tf.identity(moving_mean), tf.identity(moving_stddev)

    outputs, mean, stddev = _smart_cond(is_training, training, inference)

    def updates():
        new_stddev = _assign_moving_average(moving_stddev, stddev, decay)
        # moving_variance follows moving_stddev; relu: rounding must not make it negative.
        variance = tf.nn.relu(tf.square(new_stddev) - epsilon)
        return [
            _assign_moving_average(renorm_mean, mean, renorm_decay),
            _assign_moving_average(renorm_stddev, stddev, renorm_decay),
            _assign_moving_average(moving_mean, mean, decay),
            tf1.assign(moving_variance, variance, name="AssignNewValue"),
        ]

    def no_updates():
        return [tf.identity(v) for v in (renorm_mean, renorm_stddev, moving_mean, moving_variance)]

    return outputs, list(_smart_cond(is_training, updates, no_updates))


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
