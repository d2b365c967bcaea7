"""A small TF-Slim-like layer module for the networks (``conv2d``, ``fully_connected``, pools, ...).

TensorFlow 2.16+ ships Keras 3, so neither ``tf.compat.v1.layers`` nor tf-slim works any more.
These layers are plain functions on ``tf.compat.v1.get_variable``, ``variable_scope`` and
``tf.nn`` that create exactly the variables TF-Slim creates (``<scope>/weights``,
``<scope>/biases``, in that order, with slim's default scope names ``Conv``, ``Conv_1``,
``fully_connected``, ...), so the public TF-Slim checkpoints load into networks built with them.
Signatures, argument order and defaults follow ``tf_slim.layers`` so ported network code reads
the same; ``arg_scope`` / ``add_arg_scope`` work as slim's.

``data_format='NCHW'``: TensorFlow's CPU kernels of convolution and pooling implement NHWC only.
When no GPU is visible, these layers therefore compute an NCHW layer in NHWC between two
transposes: same variables, same numbers, NCHW in and out. With a GPU the native NCHW kernels
run (the fast layout there); NCHW layers pinned to the CPU in a process that sees a GPU then get
TensorFlow's own "NHWC only on CPU" error at run time, so use NHWC for CPU towers.

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

import tensorflow as tf

tf1 = tf.compat.v1

NHWC = "NHWC"
NCHW = "NCHW"

# slim's defaults; initializer objects are stateless, so one instance serves every layer.
_XAVIER = tf1.glorot_uniform_initializer()
_ZEROS = tf1.zeros_initializer()

__all__ = [
    "add_arg_scope",
    "arg_scope",
    "avg_pool2d",
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
    "softmax",
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


def _rank4(inputs: Any, layer: str) -> tf.Tensor:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 4:
        raise ValueError(f"{layer} needs a 4-D input, got shape {inputs.shape}")
    return inputs


@functools.cache
def _native_nchw() -> bool:
    """Whether NCHW convolution/pooling kernels exist here: only GPU kernels implement them."""
    return bool(tf.config.list_physical_devices("GPU"))


def _in_layout(op: Callable[[tf.Tensor, str], tf.Tensor], inputs: tf.Tensor, data_format: str):
    """Run ``op(x, data_format)`` natively, or an NCHW op in NHWC between transposes on CPU."""
    if data_format == NHWC or _native_nchw():
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
) -> tf.Variable:
    """A variable in GLOBAL_VARIABLES and MODEL_VARIABLES, as slim's ``model_variable``."""
    if isinstance(variables_collections, dict):
        variables_collections = variables_collections.get(name)
    if isinstance(variables_collections, str):
        variables_collections = [variables_collections]
    collections = list(variables_collections or [])
    collections += [tf1.GraphKeys.GLOBAL_VARIABLES, tf1.GraphKeys.MODEL_VARIABLES]
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
):
    """2-D convolution with ``<scope>/weights`` ``[kh, kw, in, out]`` and ``<scope>/biases``.

    As ``slim.conv2d``: ``rate`` > 1 is an atrous (dilated) convolution and cannot be combined
    with ``stride`` > 1; with ``normalizer_fn`` (e.g. batch norm) no biases are created and
    ``normalizer_fn(outputs, **normalizer_params)`` runs before ``activation_fn``. The default
    scope is ``Conv`` (``Conv_1``, ... when repeated).
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
    with tf1.variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        weights = _model_variable(
            "weights",
            [*kernel, int(in_channels), num_outputs],
            inputs.dtype.base_dtype,
            weights_initializer,
            weights_regularizer,
            trainable,
            variables_collections,
        )

        def convolve(x, fmt):
            return tf.nn.conv2d(
                x,
                weights,
                strides=_spatial(strides, fmt),
                padding=padding,
                data_format=fmt,
                dilations=_spatial(rates, fmt),
            )

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
