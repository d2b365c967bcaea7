"""Named datasets and dataset readers (``moxing.tensorflow.datasets``).

Both are registered by plugins (``mox_datasets`` and ``mox_dataset_readers`` hooks).
"""

from __future__ import annotations

from typing import Any

from mox_core.plugins import registry
from mox_core.registry import resolve

__all__ = ["get_dataset", "get_dataset_meta", "get_reader_class", "list_datasets"]


def list_datasets(pattern: str | None = None) -> list[str]:
    """Installed named datasets matching a shell-style pattern, naturally sorted."""
    return registry("datasets").names(pattern)


def get_dataset_meta(name: str) -> Any:
    """The metadata of named dataset ``name`` (``splits_to_sizes``, ``num_classes``, ...)."""
    spec = registry("datasets").get(name)
    meta = resolve(spec.meta, what=f"dataset {name!r} metadata")
    return meta() if callable(meta) else meta


def get_dataset(name: str, split_name: str, dataset_dir: str, **kwargs: Any) -> Any:
    """Named dataset ``name``'s split ``split_name`` read from ``dataset_dir``."""
    spec = registry("datasets").get(name)
    loader = resolve(spec.loader, what=f"dataset {name!r} loader")
    return loader(split_name, dataset_dir, **kwargs)


def get_reader_class(name: str) -> Any:
    """The reader class registered as ``name`` (for ``reader_class=`` of the raw datasets)."""
    spec = registry("dataset_readers").get(name)
    return resolve(spec.reader, what=f"dataset reader {name!r}")
