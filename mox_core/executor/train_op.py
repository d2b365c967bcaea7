"""The training step: each loss's gradients, averaged over the towers, applied by its optimizer.

``tf.estimator``'s ``EstimatorSpec.train_op``, built by the executor from the towers' losses:
one optimizer per loss (``optimizer_fn`` may be a list), the variables each loss trains
(``ModelSpec`` var scopes and the trainable-pattern flags), the loss scale of float16 training
(flag ``loss_scale``, fixed, or :class:`~mox_core.executor.precision.DynamicLossScale` under
``mixed_precision=fp16``: a step whose gradients overflow is skipped), and the global step
advanced once per step -- or, in synchronous distributed training, through
:class:`~mox_core.executor.distributed.SyncReplicas`.
"""

from __future__ import annotations

import contextlib

import tensorflow.compat.v1 as tf
from tensorflow.python.training import training_util

from mox_core.executor import checkpoints
from mox_core.executor.config import RunConfig
from mox_core.executor.distributed import SyncReplicas
from mox_core.executor.inputs import call_with_mode
from mox_core.executor.precision import DynamicLossScale
from mox_core.executor.specs import ModelSpec


def _trainable_variables(config: RunConfig, scopes: list[str] | None) -> list[tf.Variable]:
    variables = tf.trainable_variables()
    if scopes is not None:
        variables = [v for v in variables
                     if any(v.op.name == s or v.op.name.startswith(s.rstrip("/") + "/")
                            for s in scopes)]
    names = checkpoints.select([v.op.name for v in variables],
                               config.trainable_include_patterns,
                               config.trainable_exclude_patterns,
                               "trainable_include_patterns", "trainable_exclude_patterns")
    chosen = set(names)
    return [v for v in variables if v.op.name in chosen]


def _average_gradients(tower_grads: list[list[tuple]]) -> list[tuple]:
    if len(tower_grads) == 1:
        return [(g, v) for g, v in tower_grads[0] if g is not None]
    averaged = []
    for pairs in zip(*tower_grads):
        grads = [g for g, _ in pairs if g is not None]
        if not grads:
            continue
        variable = pairs[0][1]
        if isinstance(grads[0], tf.IndexedSlices):
            grads = [tf.convert_to_tensor(g) for g in grads]
        averaged.append((tf.add_n(grads) / len(grads), variable))
    return averaged


def train_op(config: RunConfig, specs: list[ModelSpec], global_step,
             sync: SyncReplicas | None = None) -> tf.Tensor:
    """One training step: every loss updates its variables, then the global step advances
    (through ``sync`` in synchronous distributed training).

    Returns the global step's value before the increment (what the step is logged as).
    """
    spec = specs[0]
    losses = spec.losses
    scopes = spec.scopes_per_loss()
    functions = (list(config.optimizer_fn) if isinstance(config.optimizer_fn, (list, tuple))
                 else [config.optimizer_fn] * len(losses))
    if len(functions) != len(losses):
        raise ValueError(f"mox.run got {len(functions)} optimizer functions for "
                         f"{len(losses)} losses; give one, or one per loss")
    dynamic = None
    if config.precision.dynamic_loss_scale and config.loss_scale == 1.0:
        if sync is not None:
            raise ValueError("mixed_precision=fp16 with synchronous distributed training needs "
                             "a fixed loss scale: set flag loss_scale (e.g. 1024)")
        dynamic = DynamicLossScale()
    loss_scale = dynamic.scale if dynamic is not None else config.loss_scale
    updates = []
    for index, (function, loss_scopes) in enumerate(zip(functions, scopes)):
        optimizer = call_with_mode(function, "optimizer_fn")
        if not isinstance(optimizer, tf.train.Optimizer):
            raise TypeError(f"optimizer_fn must return a tf.compat.v1.train.Optimizer, got "
                            f"{type(optimizer).__name__}")
        variables = _trainable_variables(config, loss_scopes)
        if not variables:
            raise ValueError(f"loss {index} has no trainable variable to update (var_scopes "
                             f"{loss_scopes!r}, trainable patterns flags)")
        tower_grads = []
        for tower_index, tower_spec in enumerate(specs):
            device = config.towers.devices[tower_index]
            with tf.device(device) if device else contextlib.nullcontext():
                loss = tower_spec.losses[index]
                scaled = loss * tf.cast(loss_scale, loss.dtype) if _scaled(loss_scale) else loss
                grads = optimizer.compute_gradients(scaled, var_list=variables)
                if _scaled(loss_scale):
                    grads = [(_unscale(g, loss_scale), v) for g, v in grads]
                tower_grads.append(grads)
        grads_and_vars = _average_gradients(tower_grads)
        if not grads_and_vars:
            raise ValueError(f"loss {index} does not depend on any of its variables "
                             f"({', '.join(v.op.name for v in variables[:5])})")
        updates.append((optimizer, grads_and_vars))
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS,
                                   scope="tower_0/" if len(specs) > 1 else None)
    if sync is not None:
        step = sync.train_step(updates, update_ops)
        _note_optimizer_variables(updates)
        return step
    if dynamic is None:
        applies = [optimizer.apply_gradients(grads_and_vars)
                   for optimizer, grads_and_vars in updates]
    else:
        applies = [_apply_if_finite(dynamic, updates)]
    _note_optimizer_variables(updates)
    # The global-step read that TensorFlow's step hooks fetch with each step (summaries,
    # checkpoints) happens before the increment, as tf.estimator orders it; unordered, a hook
    # reads the old or the new value by chance and its every-n steps shift by one at random.
    read = training_util._get_or_create_global_step_read()
    with tf.control_dependencies(applies + update_ops + [read]):
        new_step = global_step.assign_add(1)
    return tf.identity(new_step - 1, name="mox_step")


def _note_optimizer_variables(updates: list[tuple]) -> None:
    """Put the optimizers' own variables (slots such as momentum, Adam's moments and powers)
    in :data:`checkpoints.OPTIMIZER_VARIABLES`, which a warm start leaves alone."""
    for optimizer, _ in updates:
        for variable in optimizer.variables():
            tf.add_to_collection(checkpoints.OPTIMIZER_VARIABLES, variable)


def _scaled(loss_scale) -> bool:
    return isinstance(loss_scale, tf.Variable) or loss_scale != 1.0


def _unscale(grad, loss_scale):
    if grad is None:
        return None
    if isinstance(grad, tf.IndexedSlices):
        return tf.IndexedSlices(grad.values / tf.cast(loss_scale, grad.values.dtype),
                                grad.indices, grad.dense_shape)
    return grad / tf.cast(loss_scale, grad.dtype)


def _apply_if_finite(dynamic: DynamicLossScale, updates: list[tuple]) -> tf.Operation:
    """Every optimizer's update when all gradients are finite, none otherwise; then the loss
    scale follows (halved after an overflow). The optimizers' slots are made outside the
    condition (``apply_gradients`` creates them in an init scope)."""
    finite = dynamic.gradients_finite([pair for _, pairs in updates for pair in pairs])

    def apply():
        with tf.control_dependencies([optimizer.apply_gradients(grads_and_vars)
                                      for optimizer, grads_and_vars in updates]):
            return tf.constant(True)

    applied = tf.cond(finite, apply, lambda: tf.constant(False), name="apply_if_finite")
    with tf.control_dependencies([applied]):
        return dynamic.update(finite)
