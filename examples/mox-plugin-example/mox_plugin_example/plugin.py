"""What this distribution registers with mox (entry point ``example`` in the group ``mox``).

Only records live here. Their code targets are ``"module:attribute"`` strings, so mox can list
every installed network, pipeline and optimizer without importing TensorFlow or building a graph.
"""

from mox_core import hookimpl
from mox_core.registry import NetworkSpec, OptimizerSpec, PreprocessingSpec


@hookimpl
def mox_networks():
    return [
        NetworkSpec(
            name="tiny_convnet",
            builder="mox_plugin_example.tiny_convnet:tiny_convnet",
            default_image_size=32,
            default_labels_offset=0,
            default_logits_pattern="TinyConvNet/logits",
            preprocessing="tiny_preprocessing",
            description="Two conv + batch-norm blocks, global average pooling, one dense layer",
        )
    ]


@hookimpl
def mox_preprocessing():
    return [
        PreprocessingSpec(
            name="tiny_preprocessing",
            factory="mox_plugin_example.preprocessing:factory",
            description="Resize, scale to [-1, 1]; in training also flip and jitter brightness",
        )
    ]


@hookimpl
def mox_optimizers():
    return [
        OptimizerSpec(
            name="nesterov",
            factory="mox_plugin_example.optimizers:nesterov",
            description="tf.compat.v1.train.MomentumOptimizer with Nesterov momentum",
        )
    ]
