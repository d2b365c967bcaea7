"""The core's built-in optimizers, registered through the public ``mox_optimizers`` hook.

They go through the same hook as any plugin's optimizers so that ``mox plugins`` lists them, a
plugin that registers one of these names fails loudly, and ``get_optimizer_fn`` has one code
path. Factories are ``"module:function"`` strings: listing optimizers imports no TensorFlow.
"""

from __future__ import annotations

from mox_core.hookspecs import hookimpl
from mox_core.registry import OptimizerSpec

_FACTORIES = "mox_core.optimizer.factories"

#: name -> the ``tf.compat.v1.train`` class its factory creates.
BUILTIN_OPTIMIZERS = {
    "adadelta": "AdadeltaOptimizer",
    "adagrad": "AdagradOptimizer",
    "adam": "AdamOptimizer",
    "ftrl": "FtrlOptimizer",
    "momentum": "MomentumOptimizer",
    "rmsprop": "RMSPropOptimizer",
    "sgd": "GradientDescentOptimizer",
}


@hookimpl
def mox_optimizers():
    return [
        OptimizerSpec(
            name=name,
            factory=f"{_FACTORIES}:{name}",
            description=f"tf.compat.v1.train.{class_name}",
        )
        for name, class_name in BUILTIN_OPTIMIZERS.items()
    ]
