"""Optimizer wrappers: ``lars`` and ``batch_gradients`` for ``get_optimizer_wrapper_fn``.

A wrapper is itself a ``tf.compat.v1.train.Optimizer`` that holds another one (an optimizer or
another wrapper, so wrappers nest) and changes what reaches it: ``mox.run`` and user code keep
calling ``compute_gradients``/``apply_gradients``/``minimize`` and averaging tower gradients as
they would for a plain optimizer. Gradients are computed by the wrapped optimizer (a wrapper
that customises them keeps doing so) and the wrapper acts in ``apply_gradients``. Slots and
variables are looked up through the whole chain, so ``get_slot(var, 'm')`` of a wrapped Adam
works on the outermost wrapper.

Constructors only check and record their arguments; graph is built in ``apply_gradients``.
``get_optimizer_wrapper_fn`` relies on this to check the arguments when it is called (with a
stand-in optimizer) rather than when ``mox.run`` first creates the optimizer; a plugin's wrapper
factory should behave the same way.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = [
    "BatchGradientsOptimizer",
    "LarsOptimizer",
    "OptimizerWrapper",
    "batch_gradients",
    "lars",
]

_Optimizer = tf.compat.v1.train.Optimizer


class OptimizerWrapper(_Optimizer):
    """A ``tf.compat.v1.train.Optimizer`` that delegates to the optimizer it wraps.

    Subclasses override ``apply_gradients``; everything a caller may ask of an optimizer
    (gradients, slots, variables) answers for the whole chain of wrapped optimizers.
    """

    #: The registry name, used in error messages.
    wrapper_name = "optimizer wrapper"

    def __init__(self, optimizer: Any, name: str) -> None:
        if not isinstance(optimizer, _Optimizer):
            hint = ""
            if type(optimizer).__module__.partition(".")[0] in ("keras", "tf_keras"):
                hint = " (a Keras optimizer, which these wrappers cannot drive)"
            raise TypeError(
                f"optimizer wrapper {self.wrapper_name!r} wraps a tf.compat.v1.train.Optimizer, "
                f"e.g. one made by get_optimizer_fn; got {type(optimizer).__name__}{hint}"
            )
        super().__init__(use_locking=False, name=name)
        self._optimizer = optimizer

    @property
    def optimizer(self) -> _Optimizer:
        """The wrapped optimizer (possibly another wrapper)."""
        return self._optimizer

    def compute_gradients(self, *args: Any, **kwargs: Any) -> list:
        """The wrapped optimizer's gradients: wrappers act when gradients are applied."""
        return self._optimizer.compute_gradients(*args, **kwargs)

    def get_slot(self, var: Any, name: str) -> Any:
        own = super().get_slot(var, name)
        return own if own is not None else self._optimizer.get_slot(var, name)

    def get_slot_names(self) -> list[str]:
        return sorted(set(super().get_slot_names()) | set(self._optimizer.get_slot_names()))

    def variables(self) -> list:
        """This wrapper's variables and those of every optimizer it wraps, sorted by name."""
        found = {id(v): v for v in [*super().variables(), *self._optimizer.variables()]}
        return sorted(found.values(), key=lambda v: v.name)

    def _error(self, text: str) -> ValueError:
        return ValueError(f"optimizer wrapper {self.wrapper_name!r}: {text}")


def _real(wrapper: OptimizerWrapper, argument: str, value: Any, minimum: float, strict: bool):
    """``value`` as a finite float, or a ``ValueError`` naming the wrapper and the argument."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise wrapper._error(f"{argument} must be a number {bound}, got {value!r}")
    return value


class LarsOptimizer(OptimizerWrapper):
    """Layer-wise Adaptive Rate Scaling (You, Gitman and Ginsburg, 2017, arXiv:1708.03888).

    Large-batch training diverges when one global learning rate is too large for some layers
    and too small for others; LARS gives each variable ``w`` its own rate from the ratio of
    its weight norm to its gradient norm::

        local_lr = ratio * ||w|| / (||g|| + weight_decay * ||w||)
        gradient passed on = local_lr * (g + weight_decay * w)

    and the wrapped optimizer then applies its own (global) learning rate, momentum, etc. to
    that gradient. ``local_lr`` is 1.0 when ``||w||`` or ``||g||`` is zero (a freshly zeroed
    bias, a variable the loss does not reach), where the ratio means nothing. Since LARS adds
    the weight decay itself, do not also add an L2 loss for the same variables.

    Every variable is adapted by default, as in the paper. ``skip_pattern`` (a regular
    expression searched in the variable's name, e.g. ``r'biases|BatchNorm'``) excludes
    variables: their gradient is passed on unchanged, with neither scaling nor weight decay,
    which is the usual choice for biases and batch-norm parameters.

    Norms are computed in float32 whatever the variable's type. A sparse gradient
    (``tf.IndexedSlices``, from an embedding lookup) is made dense, because its norm and the
    weight decay concern the whole variable.
    """

    wrapper_name = "lars"

    def __init__(
        self,
        optimizer: Any,
        ratio: float,
        weight_decay: float = 0.0,
        skip_pattern: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(optimizer, name or "LARS")
        self.ratio = _real(self, "ratio", ratio, 0.0, strict=True)
        self.weight_decay = _real(self, "weight_decay", weight_decay, 0.0, strict=False)
        if skip_pattern is not None:
            try:
                re.compile(skip_pattern)
            except (TypeError, re.error) as exc:
                raise self._error(
                    f"skip_pattern must be a regular expression, got {skip_pattern!r} ({exc})"
                ) from None
        self.skip_pattern = skip_pattern

    def skips(self, var: Any) -> bool:
        """Whether ``var`` is excluded from layer adaptation (``skip_pattern`` matches it)."""
        return (
            self.skip_pattern is not None and re.search(self.skip_pattern, var.op.name) is not None
        )

    def local_learning_rate(self, grad: Any, var: Any) -> tf.Tensor:
        """The float32 scalar ``local_lr`` of ``var`` for gradient ``grad`` (see the class)."""
        g = tf.cast(tf.convert_to_tensor(grad), tf.float32)
        w = tf.cast(tf.convert_to_tensor(var), tf.float32)
        w_norm = tf.norm(w)
        g_norm = tf.norm(g)
        denominator = g_norm + self.weight_decay * w_norm
        adaptive = tf.math.divide_no_nan(self.ratio * w_norm, denominator)
        return tf.where(
            tf.logical_and(w_norm > 0.0, g_norm > 0.0), adaptive, tf.ones_like(adaptive)
        )

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        scaled = []
        with tf.compat.v1.name_scope(None, default_name=self._name):
            for grad, var in grads_and_vars:
                if grad is not None and not self.skips(var):
                    grad = tf.convert_to_tensor(grad)
                    local_lr = tf.cast(self.local_learning_rate(grad, var), grad.dtype)
                    if self.weight_decay:
                        grad = grad + self.weight_decay * tf.cast(var, grad.dtype)
                    grad = local_lr * grad
                scaled.append((grad, var))
        return self._optimizer.apply_gradients(scaled, global_step=global_step, name=name)


class BatchGradientsOptimizer(OptimizerWrapper):
    """Gradient accumulation: apply the mean gradient of every ``num_batches`` batches.

    It trains with an effective batch ``num_batches`` times larger than fits in memory. Each
    ``apply_gradients`` call adds the gradients into one accumulator per variable (a slot named
    ``'accumulator'``) and counts; every ``num_batches``-th call hands the accumulators' mean to
    the wrapped optimizer and zeroes them. So Adam's moments, Momentum's velocity, and any
    wrapped LARS see one update per ``num_batches`` batches, computed from the mean gradient.

    ``global_step`` still grows by one on every call, as in MoXing, which counts steps in
    batches: ``max_number_of_steps``, logging and learning-rate schedules driven by the global
    step all count batches, and the variables change on steps ``num_batches``,
    ``2 * num_batches``, ... (``global_step=None`` increments nothing).

    The accumulators and the counter are global (not local) variables, so checkpoints hold
    them: a run restored in the middle of a window resumes that window where it stopped,
    instead of applying a partial sum too early or out of step with the global step.
    (Restoring a checkpoint written without this wrapper therefore needs these variables
    excluded from the restore.)

    ``sync_on_apply`` is MoXing's switch for distributed training, where it makes the workers
    synchronise gradients only when applying them, not on every batch. Gradients here are
    accumulated per process and tower gradients are averaged before ``apply_gradients``, so on
    one machine there is nothing more to synchronise and it changes nothing; it is accepted so
    MoXing scripts run, and recorded as ``self.sync_on_apply``.
    """

    wrapper_name = "batch_gradients"

    def __init__(
        self,
        optimizer: Any,
        num_batches: int,
        sync_on_apply: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(optimizer, name or "BatchGradients")
        try:
            if isinstance(num_batches, bool):
                raise TypeError
            count = operator.index(num_batches)
        except TypeError:
            count = 0
        if count < 1:
            raise self._error(f"num_batches must be an integer >= 1, got {num_batches!r}")
        if not isinstance(sync_on_apply, bool):
            raise self._error(f"sync_on_apply must be True or False, got {sync_on_apply!r}")
        self.num_batches = count
        self.sync_on_apply = sync_on_apply

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = tuple(grads_and_vars)  # may be a generator, read twice
        pairs = [(grad, var) for grad, var in grads_and_vars if grad is not None]
        if not pairs:
            raise ValueError(
                f"optimizer wrapper {self.wrapper_name!r}: no gradients provided for any "
                f"variable: {[var.name for _, var in grads_and_vars]}"
            )
        variables = [var for _, var in pairs]
        with tf.init_scope():  # out of any control flow, like the base class's slots
            accumulators = [self._zeros_slot(var, "accumulator", self._name) for var in variables]
            counter = self._create_non_slot_variable(
                initial_value=np.int64(0), name=f"{self._name}_counter", colocate_with=variables[0]
            )
        with tf.compat.v1.name_scope(name, default_name=self._name) as scope:
            added = []
            for (grad, _), accumulator in zip(pairs, accumulators, strict=True):
                if isinstance(grad, tf.IndexedSlices):
                    added.append(accumulator.scatter_add(grad))
                else:
                    added.append(accumulator.assign_add(grad))
            with tf.control_dependencies(added):
                count = counter.assign_add(1)
            with tf.control_dependencies([count]):
                applied = tf.cond(
                    tf.equal(count % self.num_batches, 0),
                    lambda: self._apply_mean(accumulators, variables),
                    lambda: tf.constant(False),
                    name="apply_every_num_batches",
                )
            if global_step is not None:
                with tf.control_dependencies([applied]):
                    applied = tf.compat.v1.assign_add(global_step, 1)
            # ``scope`` ends in '/', so the operation takes the scope's own name, as the result
            # of ``tf.compat.v1.train.Optimizer.apply_gradients`` does.
            return tf.group(applied, name=scope)

    def _apply_mean(self, accumulators: list, variables: list) -> tf.Tensor:
        """Apply the accumulators' mean through the wrapped optimizer, then zero them."""
        mean = [
            (accumulator.read_value() / tf.cast(self.num_batches, accumulator.dtype), var)
            for accumulator, var in zip(accumulators, variables, strict=True)
        ]
        update = self._optimizer.apply_gradients(mean)
        with tf.control_dependencies([update]):
            zeroed = [
                accumulator.assign(tf.zeros_like(accumulator)) for accumulator in accumulators
            ]
        with tf.control_dependencies(zeroed):
            return tf.constant(True)


def lars(
    optimizer: Any,
    ratio: float,
    weight_decay: float = 0.0,
    skip_pattern: str | None = None,
    name: str | None = None,
) -> LarsOptimizer:
    """The ``lars`` wrapper factory: :class:`LarsOptimizer` around ``optimizer``."""
    return LarsOptimizer(optimizer, ratio, weight_decay, skip_pattern, name=name)


def batch_gradients(
    optimizer: Any, num_batches: int, sync_on_apply: bool = True, name: str | None = None
) -> BatchGradientsOptimizer:
    """The ``batch_gradients`` wrapper factory: :class:`BatchGradientsOptimizer`."""
    return BatchGradientsOptimizer(optimizer, num_batches, sync_on_apply, name=name)
