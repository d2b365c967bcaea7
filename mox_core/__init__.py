"""mox: the MoXing API (``moxing.tensorflow``) on open-source TensorFlow.

    import mox_core as mox            # or: import moxing.tensorflow as mox

Importing the package defines the run flags (so ``--num_gpus=2`` works next to a script's own
flags) and finds the installed plugins; TensorFlow and the heavier parts (networks, optimizers,
datasets, the executor) are imported the first time one of their names is used.
"""

from __future__ import annotations

import importlib
from typing import Any

# hookimpl first: plugin modules loaded while the flags are defined import it from here.
from mox_core.hookspecs import hookimpl  # isort: skip
from mox_core.constants import ExportKeys, ModeKeys, NetworkKeys, PreprocessingKeys  # isort: skip
from mox_core.flags import get_flag, set_flag  # isort: skip
from mox_core import console_logging  # isort: skip

console_logging.install()  # under tf.app.run(main), each log line printed once

__all__ = [
    "ExportKeys",
    "ModeKeys",
    "NetworkKeys",
    "PreprocessingKeys",
    "get_flag",
    "set_flag",
    "hookimpl",
    "get_model_fn",
    "get_model_meta",
    "list_networks",
    "get_optimizer_fn",
    "learning_rate_scheduler",
]

# public name -> module that defines it; imported on first access (PEP 562).
_LAZY = {
    "get_model_fn": "mox_core.nets",
    "get_model_meta": "mox_core.nets",
    "list_networks": "mox_core.plugins",
    "get_optimizer_fn": "mox_core.optimizer",
    "get_optimizer_wrapper_fn": "mox_core.optimizer",
    "run": "mox_core.executor",
    "ModelSpec": "mox_core.executor",
    "ExportSpec": "mox_core.executor",
    "get_collection": "mox_core.executor",
    "var_scope": "mox_core.executor",
    "AggregativeSessionRunHook": "mox_core.executor",
    "FeedSessionRunHook": "mox_core.executor",
    "LogEvaluationMetricHook": "mox_core.executor",
    "BestModelHook": "mox_core.executor",
    "EarlyStoppingHook": "mox_core.executor",
    "PlateauLREarlyStoppingHook": "mox_core.executor",
    "get_data_augmentation_fn": "mox_core.preprocessing",
    "ImageClassificationRawMetadata": "mox_core.datasets",
    "ImageClassificationRawDataset": "mox_core.datasets",
    "ImageClassificationTFRecordMetadata": "mox_core.datasets",
    "ImageClassificationTFRecordDataset": "mox_core.datasets",
    "MultilabelClassificationRawMetadata": "mox_core.datasets",
    "MultilabelClassificationRawDataset": "mox_core.datasets",
    "get_dataset": "mox_core.datasets",
    "get_dataset_meta": "mox_core.datasets",
    "get_tfrecord": "mox_core.datasets",
    "split_image_classification_dataset": "mox_core.datasets",
}
_LAZY_MODULES = {
    "learning_rate_scheduler": "mox_core.optimizer.learning_rate_scheduler",
    "file": "mox_core.file",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(_LAZY_MODULES[name])
    else:
        value = _reader_class(name)
    globals()[name] = value
    return value


# Names of MoXing's API that mox does not provide, and what to do instead (the error says it).
_NOT_PROVIDED = {
    "auto": "mox.auto is ModelArts' hyper-parameter search service, which mox does not provide; "
    "run mox.run with fixed hyper-parameters, or call it from a search library of your choice "
    "(one mox.run per trial, each with its own log_dir)",
    "InputSpec": "mox.InputSpec is not provided; return the input tensors (a tuple or list) or a "
    "tf.data.Dataset from input_fn: model_fn receives them as a list, split between devices",
}


def _reader_class(name: str) -> Any:
    """``mox.AsyncRawGenerator``-style access to the dataset readers plugins register (MoXing
    scripts pass ``reader_class=mox.AsyncRawGenerator``); a reader of MoXing's API whose plugin
    is not installed is an ``AttributeError`` naming the distribution to install."""
    if name in _NOT_PROVIDED:
        raise AttributeError(_NOT_PROVIDED[name])
    missing = AttributeError(f"module 'mox_core' has no attribute {name!r}")
    if name.startswith("_") or not name[:1].isupper():
        raise missing  # readers are classes; never load plugins for dunder or module probes
    from mox_core.install_hints import distribution_for_reader
    from mox_core.plugins import registry
    from mox_core.registry import resolve

    readers = registry("dataset_readers")
    if name in readers:
        return resolve(readers.get(name).reader, what=f"dataset reader {name!r}")
    if distribution_for_reader(name) is not None:
        raise AttributeError(f"mox.{name} is not available: {readers.unknown_message(name)}")
    raise missing


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_MODULES))
