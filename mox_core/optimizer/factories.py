"""Factories of the built-in optimizers, one per ``tf.compat.v1.train`` optimizer class.

A factory takes exactly its class's arguments, in the class's order, so what works with
TensorFlow works here (``momentum(0.1, 0.9)`` is ``MomentumOptimizer(0.1, 0.9)``); the one
difference is the registry contract's ``name=None``, which keeps the class's default name
(TensorFlow refuses a ``None`` name). Each factory advertises its class's signature, which is
what lets ``get_optimizer_fn`` reject a misspelt argument when it is called rather than when the
executor first creates the optimizer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mox_core.builtin.optimizers import BUILTIN_OPTIMIZERS


def _factory(registry_name: str, class_name: str) -> Callable[..., Any]:
    optimizer_class = getattr(tf.compat.v1.train, class_name)

    def factory(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("name", "") is None:
            del kwargs["name"]
        return optimizer_class(*args, **kwargs)

    factory.__name__ = factory.__qualname__ = registry_name
    factory.__doc__ = (
        f"Create a ``tf.compat.v1.train.{class_name}``; ``name=None`` keeps its default."
    )
    factory.__signature__ = inspect.signature(optimizer_class)  # type: ignore[attr-defined]
    return factory


adadelta = _factory("adadelta", BUILTIN_OPTIMIZERS["adadelta"])
adagrad = _factory("adagrad", BUILTIN_OPTIMIZERS["adagrad"])
adam = _factory("adam", BUILTIN_OPTIMIZERS["adam"])
ftrl = _factory("ftrl", BUILTIN_OPTIMIZERS["ftrl"])
momentum = _factory("momentum", BUILTIN_OPTIMIZERS["momentum"])
rmsprop = _factory("rmsprop", BUILTIN_OPTIMIZERS["rmsprop"])
sgd = _factory("sgd", BUILTIN_OPTIMIZERS["sgd"])
