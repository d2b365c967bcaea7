"""A TF-Slim-compatible module for hand-ported ``tf.contrib.slim`` scripts.

    import mox_core.slim as slim          # or: from moxing.tensorflow import slim

``tf.contrib.slim`` is gone on TensorFlow 2 and ``tf_slim`` no longer builds layers on Keras 3.
This package answers the names MoXing-era scripts use, under TF-Slim's module layout:

* layers and ``arg_scope`` (``slim.conv2d``, ``slim.fully_connected``, ``slim.batch_norm``,
  ``slim.max_pool2d``, ``slim.dropout``, ``slim.flatten``, ``slim.repeat``, ``slim.stack``, ...):
  mox's own :mod:`mox_core.nets.layers`, the layers mox's networks are made of, with TF-Slim's
  variable names; plus ``slim.one_hot_encoding`` (:mod:`mox_core.slim.layers`);
* initializers and regularizers (``slim.xavier_initializer``, ``slim.l2_regularizer``, ...);
* variables (``slim.get_variables_to_restore``, ``slim.assign_from_checkpoint_fn``,
  ``slim.get_model_variables``, ``slim.model_variable``, ...: :mod:`mox_core.slim.variables`);
* ``slim.losses`` with TF-Slim's argument order (logits first: :mod:`mox_core.slim.losses`);
* data: ``slim.tfexample_decoder``, ``slim.dataset``, ``slim.dataset_data_provider``,
  ``slim.parallel_reader`` on ``tf.data`` (no queue runners), also under ``slim.data``.

Not provided: ``slim.learning`` (``train`` / ``evaluation`` loops: use ``mox.run``),
``slim.nets`` (use ``mox.get_model_fn``), layers mox's networks do not use
(``conv2d_transpose``, ``layer_norm``, ...) and ``slim.summaries`` / ``slim.metrics``
(use ``tf.compat.v1.summary`` / ``tf.compat.v1.metrics``).
"""

from __future__ import annotations

import types

from mox_core.slim import (
    dataset,
    dataset_data_provider,
    initializers,
    layers,
    losses,
    parallel_reader,
    tfexample_decoder,
    variables,
)
from mox_core.slim.initializers import (
    l1_l2_regularizer,
    l1_regularizer,
    variance_scaling_initializer,
    xavier_initializer,
    xavier_initializer_conv2d,
)
from mox_core.slim.layers import (
    add_arg_scope,
    arg_scope,
    avg_pool2d,
    batch_norm,
    collect_named_outputs,
    conv2d,
    convert_collection_to_dict,
    convolution2d,
    current_arg_scope,
    dropout,
    flatten,
    fully_connected,
    has_arg_scope,
    l2_regularizer,
    linear,
    max_pool2d,
    one_hot_encoding,
    repeat,
    separable_conv2d,
    separable_convolution2d,
    softmax,
    stack,
)
from mox_core.slim.variables import (
    add_model_variable,
    assign_from_checkpoint,
    assign_from_checkpoint_fn,
    get_global_step,
    get_local_variables,
    get_model_variables,
    get_or_create_global_step,
    get_trainable_variables,
    get_unique_variable,
    get_variables,
    get_variables_by_name,
    get_variables_by_suffix,
    get_variables_to_restore,
    local_variable,
    model_variable,
    variable,
)

#: TF-Slim's ``slim.data`` package (``slim.data.tfexample_decoder``, ...): the same modules.
data = types.SimpleNamespace(
    dataset=dataset,
    dataset_data_provider=dataset_data_provider,
    parallel_reader=parallel_reader,
    tfexample_decoder=tfexample_decoder,
)

__all__ = [
    "add_arg_scope",
    "add_model_variable",
    "arg_scope",
    "assign_from_checkpoint",
    "assign_from_checkpoint_fn",
    "avg_pool2d",
    "batch_norm",
    "collect_named_outputs",
    "conv2d",
    "convert_collection_to_dict",
    "convolution2d",
    "current_arg_scope",
    "data",
    "dataset",
    "dataset_data_provider",
    "dropout",
    "flatten",
    "fully_connected",
    "get_global_step",
    "get_local_variables",
    "get_model_variables",
    "get_or_create_global_step",
    "get_trainable_variables",
    "get_unique_variable",
    "get_variables",
    "get_variables_by_name",
    "get_variables_by_suffix",
    "get_variables_to_restore",
    "has_arg_scope",
    "initializers",
    "l1_l2_regularizer",
    "l1_regularizer",
    "l2_regularizer",
    "layers",
    "linear",
    "local_variable",
    "losses",
    "max_pool2d",
    "model_variable",
    "one_hot_encoding",
    "parallel_reader",
    "repeat",
    "separable_conv2d",
    "separable_convolution2d",
    "softmax",
    "stack",
    "tfexample_decoder",
    "variable",
    "variables",
    "variance_scaling_initializer",
    "xavier_initializer",
    "xavier_initializer_conv2d",
]

# TF-Slim's parts that mox does not carry, and what a script uses instead.
_INSTEAD = {
    "learning": "slim.learning (train loops) is not provided: train with mox.run(..., "
    "run_mode=mox.ModeKeys.TRAIN), which also checkpoints, logs and resumes",
    "evaluation": "slim.evaluation is not provided: evaluate with mox.run(..., "
    "run_mode=mox.ModeKeys.EVAL, checkpoint_path=...)",
    "nets": "slim.nets is not provided: build TF-Slim's networks with mox.get_model_fn(name, "
    "run_mode, num_classes) (same variable names, so TF-Slim checkpoints load)",
    "metrics": "slim.metrics is not provided: use tf.compat.v1.metrics, or scalars in "
    "ModelSpec(log_info=...) which mox.run averages in EVAL mode",
    "summaries": "slim.summaries is not provided: use tf.compat.v1.summary; mox.run writes "
    "every log_info scalar to TensorBoard",
}


def __getattr__(name: str):
    if name in _INSTEAD:
        raise AttributeError(_INSTEAD[name])
    raise AttributeError(f"module 'mox_core.slim' has no attribute {name!r}: mox's slim module "
                         f"carries TF-Slim's layers, losses, variables and data readers "
                         f"(see help(mox_core.slim))")
