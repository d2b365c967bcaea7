"""A registered optimizer (or optimizer wrapper), minimizing a known loss: it must build a
TensorFlow optimizer whose steps go downhill."""

from __future__ import annotations

from typing import Any

import numpy as np

from mox_core import plugins
from mox_core.testing._common import check_finite, tf


def check_optimizer(name: str, learning_rate: float = 0.1, *args: Any, steps: int = 1,
                    wrapped: str = "sgd", **kwargs: Any) -> np.ndarray:
    """Check that the optimizer (or optimizer wrapper) ``name`` builds and updates variables.

    ``get_optimizer_fn(name, learning_rate, None, *args, **kwargs)`` (a wrapper:
    ``get_optimizer_wrapper_fn(name, get_optimizer_fn(wrapped, learning_rate), **kwargs)``)
    must create a ``tf.compat.v1.train.Optimizer`` whose ``minimize`` of ``sum(w ** 2)`` for
    ``steps`` steps changes ``w``, keeps it finite and lowers the loss. Returns the final ``w``.
    """
    from mox_core.optimizer import get_optimizer_fn, get_optimizer_wrapper_fn

    tf1 = tf().compat.v1
    record = plugins.registry("optimizers").get(name)
    kind = "optimizer wrapper" if record.wrapper else "optimizer"
    what = f"{kind} {name!r} (distribution {record.distribution!r})"
    if record.wrapper:
        optimizer_fn = get_optimizer_wrapper_fn(name, get_optimizer_fn(wrapped, learning_rate),
                                                **kwargs)
    else:
        optimizer_fn = get_optimizer_fn(name, learning_rate, None, *args, **kwargs)
    start = np.array([1.0, -2.0, 0.5], np.float32)
    with tf().Graph().as_default():
        weights = tf1.get_variable("w", initializer=start)
        loss = tf().reduce_sum(tf().square(weights))
        optimizer = optimizer_fn()
        if not isinstance(optimizer, tf1.train.Optimizer):
            raise AssertionError(f"{what}: its factory returned {type(optimizer).__name__}, "
                                 f"expected a tf.compat.v1.train.Optimizer")
        global_step = tf1.train.get_or_create_global_step()
        train_op = optimizer.minimize(loss, global_step=global_step)
        with tf1.Session() as session:
            session.run([tf1.global_variables_initializer(), tf1.local_variables_initializer()])
            before = session.run(loss)
            for _ in range(steps):
                session.run(train_op)
            after, final = session.run([loss, weights])
    check_finite(what, "updated variables", final)
    if np.array_equal(final, start):
        raise AssertionError(f"{what}: {steps} step(s) of minimize left the variable unchanged")
    if not after < before:
        raise AssertionError(f"{what}: {steps} step(s) of minimize on sum(w ** 2) did not lower "
                             f"the loss ({before:.4g} -> {after:.4g}); is the update's sign or "
                             f"the learning rate right?")
    return final
