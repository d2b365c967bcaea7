"""``mox train --checkpoint``: fine-tuning a trained network on the user's classes.

:func:`foreign_logits` finds the logits variables of a checkpoint (a TF-Slim release or another
mox run) that were trained for another number of classes; ``mox train`` leaves them out of the
warm start (``checkpoint_exclude_patterns``), naming them, so a checkpoint of 1000 ImageNet
classes fine-tunes on 5 flower classes without a flag. :class:`HeadFirstOptimizer` trains only
the head for the first steps (``--freeze-backbone-epochs``), then everything.
"""

from __future__ import annotations

from typing import Any

import tensorflow.compat.v1 as tf

from mox_core.executor import checkpoints
from mox_core.optimizer.wrappers import OptimizerWrapper


def foreign_logits(checkpoint: str, logits_pattern: str, num_classes: int) -> list[str]:
    """``name [shape]`` of every variable of ``checkpoint`` matching ``logits_pattern`` when
    any of them is shaped for another number of classes than ``num_classes`` (the last
    dimension of a weight or bias), else ``[]``."""
    shapes = dict(tf.train.list_variables(checkpoint))
    names = checkpoints.select(sorted(shapes), logits_pattern, None, "logits pattern", "")
    # an optimizer's slots (name/Momentum, name/Adam) follow their variable: not listed
    head = [(name, shapes[name]) for name in names if shapes[name]
            and not any(name.startswith(other + "/") for other in names)]
    if not any(shape[-1] != num_classes for _, shape in head):
        return []
    return [f"{name} {list(shape)}" for name, shape in head]


class HeadFirstOptimizer(OptimizerWrapper):
    """Applies only the gradients of variables matching ``head_pattern`` until global step
    ``first_steps``, then all: the new head learns before the pretrained body moves.

    The other gradients are multiplied by 0 until then, so momentum and Adam's moments of the
    body start at that step. Batch-norm moving averages still follow the new data.
    """

    wrapper_name = "head first"

    def __init__(self, optimizer: Any, head_pattern: str, first_steps: int,
                 name: str = "HeadFirst") -> None:
        super().__init__(optimizer, name)
        self.head_pattern = head_pattern
        self.first_steps = int(first_steps)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = list(grads_and_vars)
        head = set(checkpoints.select([v.op.name for _, v in grads_and_vars], self.head_pattern,
                                      None, "logits pattern", ""))
        if not head:
            raise self._error(f"no trained variable matches the network's logits pattern "
                              f"{self.head_pattern!r}: nothing would train while the backbone "
                              f"is frozen")
        step = tf.train.get_or_create_global_step()
        with tf.name_scope("head_first"):
            open_body = tf.cast(step >= self.first_steps, tf.float32)
            gated = [(g if v.op.name in head or g is None else _scaled(g, open_body), v)
                     for g, v in grads_and_vars]
        return self._optimizer.apply_gradients(gated, global_step=global_step, name=name)


def _scaled(gradient: Any, factor: tf.Tensor) -> Any:
    if isinstance(gradient, tf.IndexedSlices):  # an embedding's sparse gradient
        return tf.IndexedSlices(gradient.values * tf.cast(factor, gradient.values.dtype),
                                gradient.indices, gradient.dense_shape)
    return gradient * tf.cast(factor, gradient.dtype)
