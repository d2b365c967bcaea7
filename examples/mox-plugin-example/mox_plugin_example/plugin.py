"""What this distribution adds to mox (entry point ``example`` in the group ``mox``).

Registration hooks return records whose code targets are ``"module:attribute"`` strings, so mox
can list every installed network, pipeline and optimizer without importing TensorFlow or
building a graph. Behavioural hooks do their work when called: ``mox_commands`` adds the
``mox step-times`` command, ``mox_session_hooks`` times the steps of a run when the
``--step_times`` flag (registered by ``mox_flags``) is on. Every ``mox`` invocation imports this
module, so it imports nothing heavy at the top.
"""

from mox_core import hookimpl
from mox_core.constants import ModeKeys
from mox_core.registry import FlagSpec, NetworkSpec, OptimizerSpec, PreprocessingSpec
from mox_plugin_example import commands


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


@hookimpl
def mox_flags():
    return [
        FlagSpec("step_times", "boolean", False,
                 f"Write each training step's wall time to LOG_DIR/{commands.FILE_NAME} "
                 f"(`mox step-times LOG_DIR` summarizes it; mox-plugin-example)."),
    ]


@hookimpl
def mox_commands(subparsers):
    commands.register(subparsers)


@hookimpl
def mox_session_hooks(config):
    """Time the training steps of the chief, which owns the log folder."""
    # imported here: mox loads this module while mox_core (and its flags) are being imported
    from mox_core.flags import get_flag

    if not (get_flag("step_times") and config.mode == ModeKeys.TRAIN and config.is_chief
            and config.log_dir):
        return []
    from mox_plugin_example.step_times import StepTimer  # TensorFlow: a run has loaded it

    return [StepTimer(config.log_dir)]
