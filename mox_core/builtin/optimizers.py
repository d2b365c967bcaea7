"""The core's built-in optimizers and optimizer wrappers, registered through ``mox_optimizers``.

They go through the same hook as any plugin's optimizers so that ``mox plugins`` lists them, a
plugin that registers one of these names fails loudly, and ``get_optimizer_fn`` has one code
path. Factories are ``"module:function"`` strings: listing optimizers imports no TensorFlow.
"""

from __future__ import annotations

from mox_core.hookspecs import hookimpl
from mox_core.registry import OptimizerSpec

_FACTORIES = "mox_core.optimizer.factories"
_WRAPPERS = "mox_core.optimizer.wrappers"

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

#: name -> what the ``get_optimizer_wrapper_fn`` wrapper does.
BUILTIN_OPTIMIZER_WRAPPERS = {
    "batch_gradients": "apply the mean gradient of every num_batches batches",
    "lars": "layer-wise adaptive rate scaling (You et al., 2017)",
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
    ] + [
        OptimizerSpec(
            name=name, factory=f"{_WRAPPERS}:{name}", wrapper=True, description=description
        )
        for name, description in BUILTIN_OPTIMIZER_WRAPPERS.items()
    ]
