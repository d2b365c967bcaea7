"""A dataset reader and a named dataset, checked the way the datasets and MoXing scripts use
them (the contracts of ``mox_dataset_readers`` and ``mox_datasets`` in ``mox_core.hookspecs``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from mox_core.testing._common import tf
from mox_core.testing.graphs import run_graph


def check_reader(name: str, *, tmp_dir: str, root: str | None = None, files: int = 5,
                 num_readers: int = 2, capacity: int = 4,
                 reader_kwargs: dict[str, Any] | None = None) -> list[bytes]:
    """Check the registered reader ``name``: it is built as
    ``Reader(num_readers=..., capacity=..., **reader_kwargs)``, has ``read(elements,
    deterministic)``, and reads ``files`` small files, each element keeping its other keys and
    gaining ``image_buf`` with its own file's bytes: in order when ``deterministic``, in any
    order otherwise. The files are written to the local ``tmp_dir``, or with ``mox.file`` under
    ``root`` (a URL of a scheme a plugin serves: the reader's ``mox_file_urls`` is then
    True). Returns the contents read, in order."""
    from mox_core import file as mox_file
    from mox_core.datasets import get_reader_class

    what = f"dataset reader {name!r}"
    cls = get_reader_class(name)
    try:
        reader = cls(num_readers=num_readers, capacity=capacity, **(reader_kwargs or {}))
    except TypeError as exc:
        raise AssertionError(f"{what}: cannot be built as {cls.__name__}(num_readers=..., "
                             f"capacity=..., **reader_kwargs): {exc}") from exc
    if not callable(getattr(reader, "read", None)):
        raise AssertionError(f"{what}: {cls.__name__} has no read(elements, deterministic)")
    if "deterministic" not in inspect.signature(reader.read).parameters:
        raise AssertionError(f"{what}: its read takes no 'deterministic' argument")
    folder = root.rstrip("/") if root else tmp_dir
    contents = [f"file {index}: ".encode() + bytes(range(index * 7 % 256)) for index in
                range(files)]
    paths = [f"{folder}/{index}.bin" if root else os.path.join(folder, f"{index}.bin")
             for index in range(files)]
    if root:
        mox_file.make_dirs(folder)
    for path, data in zip(paths, contents):
        if root:
            mox_file.write(path, data, binary=True)
        else:
            with open(path, "wb") as handle:
                handle.write(data)
    if hasattr(reader, "mox_file_urls"):
        reader.mox_file_urls = root is not None
    for deterministic in (True, False):
        got = _read_all(reader, paths, deterministic)
        label_of = {path: index for index, path in enumerate(paths)}
        for element in got:
            path = element["path"].decode()
            if element["label"] != label_of.get(path):
                raise AssertionError(f"{what}: the element of {path!r} came back with label "
                                     f"{element['label']}, not {label_of.get(path)}: elements "
                                     f"must travel whole")
            if element["image_buf"] != contents[label_of[path]]:
                raise AssertionError(f"{what}: image_buf of {path!r} is not that file's bytes")
        order = [element["path"].decode() for element in got]
        if deterministic and order != paths:
            raise AssertionError(f"{what}: read(deterministic=True) changed the order: {order}")
        if sorted(order) != sorted(paths):
            raise AssertionError(f"{what}: read {len(order)} elements of {len(paths)} files "
                                 f"(deterministic={deterministic})")
    return contents


def _read_all(reader: Any, paths: Sequence[str], deterministic: bool) -> list[dict]:
    tf2 = tf()
    with tf2.Graph().as_default():
        elements = tf2.data.Dataset.from_tensor_slices(
            {"path": list(paths), "label": np.arange(len(paths), dtype=np.int64)})
        read = reader.read(elements, deterministic)
        following = tf2.compat.v1.data.make_one_shot_iterator(read).get_next()
        found = []
        with tf2.compat.v1.Session() as session:
            while True:
                try:
                    found.append(session.run(following))
                except tf2.errors.OutOfRangeError:
                    return found


def check_named_dataset(name: str, dataset_dir: str, *, split_name: str | None = None,
                        keys: Sequence[str] = ("image", "label"),
                        **dataset_kwargs: Any) -> dict[str, Any]:
    """Check the registered named dataset ``name`` on the data in ``dataset_dir``: its
    ``meta`` (given ``dataset_dir`` when it takes it) has ``splits_to_sizes`` (positive
    counts), ``num_classes`` and ``labels_to_names``; ``loader(split_name, dataset_dir,
    **dataset_kwargs)`` (``split_name``: the first split) returns an object with ``keys``,
    ``get(keys)`` and ``metadata.total_num_samples``, and one batch of ``get(keys)`` runs,
    its labels within ``num_classes``. Returns that batch, by key."""
    from mox_core.datasets import get_dataset, get_dataset_meta

    what = f"named dataset {name!r}"
    meta = get_dataset_meta(name, dataset_dir=dataset_dir)
    sizes = getattr(meta, "splits_to_sizes", None)
    if not isinstance(sizes, dict) or not sizes or not all(
            isinstance(count, int) and count > 0 for count in sizes.values()):
        raise AssertionError(f"{what}: meta's splits_to_sizes must map split names to positive "
                             f"counts, got {sizes!r}")
    num_classes = getattr(meta, "num_classes", None)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise AssertionError(f"{what}: meta's num_classes must be a positive int, got "
                             f"{num_classes!r}")
    names = getattr(meta, "labels_to_names", "missing")
    if names is not None and not isinstance(names, dict):
        raise AssertionError(f"{what}: meta's labels_to_names must be a dict or None, got "
                             f"{names!r:.80}")
    split_name = split_name or next(iter(sizes))
    with tf().Graph().as_default():
        dataset = get_dataset(name, split_name, dataset_dir, **dataset_kwargs)
        for attribute in ("keys", "get", "metadata"):
            if not hasattr(dataset, attribute):
                raise AssertionError(f"{what}: its dataset object {type(dataset).__name__} has "
                                     f"no {attribute!r} (see mox_core.hookspecs.mox_datasets)")
        missing = [key for key in keys if key not in dataset.keys]
        if missing:
            raise AssertionError(f"{what}: its dataset has no key(s) {missing}; it has "
                                 f"{list(dataset.keys)}")
        total = dataset.metadata.total_num_samples
        if not isinstance(total, int) or total < 1:
            raise AssertionError(f"{what}: metadata.total_num_samples must be a positive int, "
                                 f"got {total!r}")
        batch = dict(zip(keys, run_graph(dataset.get(list(keys)))))
    labels = np.asarray(batch.get("label", []))
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise AssertionError(f"{what}: labels {labels.tolist()} are not all within "
                             f"[0, {num_classes})")
    return batch
