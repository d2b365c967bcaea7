"""``batch_norm``: batch normalization and renormalization with TF-Slim's variables.

Fused (``tf.nn.fused_batch_norm``) or not, training with the batch's statistics or inferring with
the moving ones (decided while building or, for a boolean tensor ``is_training``, at run time),
and batch renormalization as ``tf.compat.v1.layers`` implements it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from mox_core.nets.layers.arg_scope import add_arg_scope
from mox_core.nets.layers.utils import (
    NCHW,
    NHWC,
    ONES,
    ZEROS,
    check_data_format,
    collect_named_outputs,
    layer_variable,
)

tf1 = tf.compat.v1

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
    data_format = check_data_format(data_format)
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
            return layer_variable(
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
        gamma = variable("gamma", ONES, trainable) if scale else None
        beta = variable("beta", ZEROS, trainable) if center else None
        moving_mean = variable("moving_mean", ZEROS, False, moving)
        moving_variance = variable("moving_variance", ONES, False, moving)
        stats = _BatchStatistics(inputs, axis, param_dtype, epsilon, gamma, beta, data_format)
        if renorm:
            variance_initializer = initializers.get("moving_variance", ONES)

            def stddev_initializer(*args, **kwargs):
                return tf.sqrt(variance_initializer(*args, **kwargs))

            moving_stddev = variable("moving_stddev", stddev_initializer, False, moving)
            renorm_mean = variable("renorm_mean", initializers.get("moving_mean", ZEROS), False)
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
