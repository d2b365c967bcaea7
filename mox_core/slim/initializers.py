"""TF-Slim's initializers and regularizers (``slim.xavier_initializer``, ``slim.l1_regularizer``).

``tf.contrib.layers`` defined these and TF-Slim re-exported them; scripts pass them to
``arg_scope([slim.conv2d], weights_initializer=..., weights_regularizer=...)``. The initializers
are the functions ``get_variable`` calls with ``(shape, dtype, partition_info)``, computing the
same numbers as contrib's (its truncated normal uses ``stddev = sqrt(1.3 * factor / n)``, which
``tf.compat.v1.variance_scaling_initializer`` does not).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.nets.layers import l2_regularizer

tf1 = tf.compat.v1

__all__ = [
    "l1_l2_regularizer",
    "l1_regularizer",
    "l2_regularizer",
    "variance_scaling_initializer",
    "xavier_initializer",
    "xavier_initializer_conv2d",
]

_MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


def variance_scaling_initializer(factor: float = 2.0, mode: str = "FAN_IN", uniform: bool = False,
                                 seed: int | None = None, dtype: Any = tf.float32) -> Callable:
    """Weights with variance ``factor / n``, ``n`` the fan-in, fan-out or their mean (``mode``).

    TF-Slim's (contrib's) initializer: ``uniform`` draws from ``[-sqrt(3 f / n), sqrt(3 f / n)]``,
    otherwise from a normal truncated at two deviations with ``stddev = sqrt(1.3 f / n)``. The
    defaults are He et al.'s initialization for ReLU networks.
    """
    if not isinstance(factor, numbers.Real) or isinstance(factor, bool) or factor <= 0:
        raise ValueError(f"variance_scaling_initializer: factor must be a positive number, got "
                         f"{factor!r}")
    if mode not in _MODES:
        raise ValueError(f"variance_scaling_initializer: mode must be one of {', '.join(_MODES)}, "
                         f"got {mode!r}")
    default_dtype = tf.as_dtype(dtype)
    if not default_dtype.is_floating:
        raise TypeError(f"variance_scaling_initializer: dtype must be a floating type, got "
                        f"{default_dtype.name}")

    def initializer(shape, dtype=default_dtype, partition_info=None):
        del partition_info  # the full shape is what fan-in and fan-out are computed from
        dtype = tf.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError(f"variance_scaling_initializer cannot make a {dtype.name} variable")
        dims = [int(d) for d in shape]
        if dims:
            fan_in = float(dims[-2]) if len(dims) > 1 else float(dims[-1])
            fan_out = float(dims[-1])
        else:
            fan_in = fan_out = 1.0
        for dim in dims[:-2]:
            fan_in *= dim
            fan_out *= dim
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return tf1.random_uniform(dims, -limit, limit, dtype, seed=seed)
        return tf1.truncated_normal(dims, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed)

    return initializer


def xavier_initializer(uniform: bool = True, seed: int | None = None,
                       dtype: Any = tf.float32) -> Callable:
    """Glorot & Bengio's initializer: variance scaling with ``factor=1`` over the mean fan.

    ``uniform=True`` (the default) is ``tf.compat.v1.glorot_uniform_initializer``'s distribution,
    the default ``weights_initializer`` of every slim layer.
    """
    return variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)


#: TF-Slim's name for the same initializer used on convolution kernels.
xavier_initializer_conv2d = xavier_initializer


def _check_scale(scale: Any, who: str) -> float:
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool):
        raise TypeError(f"{who}: scale must be a number, got {scale!r}")
    if scale < 0:
        raise ValueError(f"{who}: scale must be >= 0, got {scale}")
    return float(scale)


def l1_regularizer(scale: float, scope: str | None = None) -> Callable:
    """``weights -> scale * sum(|weights|)``; ``scale == 0`` adds no loss (returns ``None``)."""
    scale = _check_scale(scale, "l1_regularizer")
    if scale == 0.0:
        return lambda _weights: None

    def l1(weights):
        with tf1.name_scope(scope, "l1_regularizer", [weights]) as name:
            factor = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(factor, tf.reduce_sum(tf.abs(weights)), name=name)

    return l1


def l1_l2_regularizer(scale_l1: float = 1.0, scale_l2: float = 1.0,
                      scope: str | None = None) -> Callable:
    """The sum of :func:`l1_regularizer` ``(scale_l1)`` and ``l2_regularizer(scale_l2)``
    (``scale * sum(w ** 2) / 2``, TF-Slim's L2)."""
    parts = [l1_regularizer(scale_l1), l2_regularizer(scale_l2)]

    def l1_l2(weights):
        with tf1.name_scope(scope, "l1_l2_regularizer", [weights]) as name:
            terms = [t for t in (part(weights) for part in parts) if t is not None]
            return tf.add_n(terms, name=name) if terms else None

    return l1_l2
