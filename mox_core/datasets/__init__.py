"""Datasets (``moxing.tensorflow.datasets``): raw class folders, TFRecords, multi-label folders,
named datasets in TF-Slim's layouts, and the readers behind the raw datasets.

Named datasets and readers are registered by plugins (``mox_datasets`` and
``mox_dataset_readers`` hooks); the core registers its own (``mox_core.builtin.datasets``,
``mox_core.builtin.readers``) through the same hooks. The dataset classes are imported on first
use, so ``import mox_core.datasets`` stays light (no TensorFlow).
"""

from __future__ import annotations

import importlib
from typing import Any

from mox_core.plugins import registry
from mox_core.registry import resolve

__all__ = [
    "BaseTFRecordDataset",
    "ImageClassificationRawDataset",
    "ImageClassificationRawMetadata",
    "ImageClassificationTFRecordDataset",
    "ImageClassificationTFRecordMetadata",
    "MultilabelClassificationRawDataset",
    "MultilabelClassificationRawMetadata",
    "ParallelReader",
    "convert_to_tfrecord",
    "get_dataset",
    "get_dataset_meta",
    "get_reader_class",
    "get_tfrecord",
    "list_datasets",
    "split_image_classification_dataset",
]

# public name -> submodule defining it; imported on first access (PEP 562).
_LAZY = {
    "BaseTFRecordDataset": "tfrecord_common",
    "ImageClassificationRawDataset": "raw",
    "ImageClassificationRawMetadata": "raw",
    "ImageClassificationTFRecordDataset": "tfrecord",
    "ImageClassificationTFRecordMetadata": "tfrecord",
    "MultilabelClassificationRawDataset": "multilabel",
    "MultilabelClassificationRawMetadata": "multilabel",
    "ParallelReader": "readers",
    "convert_to_tfrecord": "convert",
    "get_tfrecord": "generic_tfrecord",
    "split_image_classification_dataset": "split",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mox_core.datasets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def list_datasets(pattern: str | None = None) -> list[str]:
    """Installed named datasets matching a shell-style pattern, naturally sorted."""
    return registry("datasets").names(pattern)


def get_dataset_meta(name: str, dataset_dir: str | None = None) -> Any:
    """The metadata of named dataset ``name`` (``splits_to_sizes``, ``num_classes``,
    ``labels_to_names``); ``dataset_dir`` reaches a ``meta`` that takes it (the built-in
    datasets then read ``labels_to_names`` from its ``labels.txt``)."""
    spec = registry("datasets").get(name)
    meta = resolve(spec.meta, what=f"dataset {name!r} metadata")
    if not callable(meta):
        return meta
    if dataset_dir is not None and _takes_dataset_dir(meta):
        return meta(dataset_dir=dataset_dir)
    return meta()


def _takes_dataset_dir(function: Any) -> bool:
    import inspect

    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return "dataset_dir" in parameters or any(
        parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values())


def get_dataset(name: str, split_name: str, dataset_dir: str, capacity: int | None = None,
                **kwargs: Any) -> Any:
    """Named dataset ``name``'s split ``split_name`` read from ``dataset_dir``.

    ``capacity``: MoXing's data buffer, the records read ahead from the files (``capacity=4000``
    in MoXing's ``mox.run`` example). The built-in TF-Slim datasets read it as TF-Slim's data
    provider did, the queue that records are read ahead into and drawn from at random: it sets
    their ``shuffle_buffer_size`` (6400 when neither is given; an explicit
    ``shuffle_buffer_size`` wins). It reaches the loader only when given, so a plugin's loader
    that has no buffer need not take it. ``kwargs`` go to the dataset (for the built-in
    datasets: :class:`ImageClassificationTFRecordDataset`'s arguments).
    """
    spec = registry("datasets").get(name)
    loader = resolve(spec.loader, what=f"dataset {name!r} loader")
    if capacity is not None:
        kwargs["capacity"] = capacity
    return loader(split_name, dataset_dir, **kwargs)


def get_reader_class(name: str) -> Any:
    """The reader class registered as ``name`` (for ``reader_class=`` of the raw datasets)."""
    spec = registry("dataset_readers").get(name)
    return resolve(spec.reader, what=f"dataset reader {name!r}")
