"""Split a class-folder dataset into train / eval folders (MoXing's
``split_image_classification_dataset``, which ModelArts notebooks import from
``moxing.tensorflow.datasets.raw.raw_dataset``).

::

    split_image_classification_dataset(split_spec={'train': 0.9, 'eval': 0.1},
                                       src_dir='s3://bucket/flower_photos',
                                       dst_dir='s3://bucket/flowers_split')
    # -> dst_dir/train/<class>/..., dst_dir/eval/<class>/..., labels.txt in each

The split is stratified (every class is cut by the same ratios) and deterministic (the same
``seed`` gives the same files in each part), so re-running a notebook never moves an image from
eval into train. Every part gets a ``labels.txt`` listing all classes in one order, so label
numbers mean the same classes in every part even when a small class is missing from one.
"""

from __future__ import annotations

import math
import random
from typing import Any

from mox_core.datasets import fs, logs
from mox_core.datasets.labels import format_labels
from mox_core.file.atomic import write_atomically


def _check_split_spec(split_spec: Any) -> dict[str, float]:
    if not isinstance(split_spec, dict) or not split_spec:
        raise ValueError(f"split_spec must be a dict of part name -> ratio, e.g. "
                         f"{{'train': 0.9, 'eval': 0.1}}; got {split_spec!r}")
    for name, ratio in split_spec.items():
        if not isinstance(name, str) or not name or name in (".", "..") or "/" in name \
                or "\\" in name:
            raise ValueError(f"split_spec part names become folder names under dst_dir; "
                             f"{name!r} is not a plain folder name")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio > 0:
            raise ValueError(f"split_spec ratio of {name!r} must be a number > 0, got {ratio!r}")
    total = sum(split_spec.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"split_spec ratios must add up to 1 so that every image goes to one "
                         f"part; {split_spec!r} adds up to {total:g}")
    return dict(split_spec)


def _counts(total: int, ratios: list[float]) -> list[int]:
    """``total`` items cut by ``ratios`` (largest remainder); every part gets at least one item
    when there are enough, so no class is missing from the eval part of a small dataset."""
    exact = [total * r for r in ratios]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(ratios)), key=lambda i: exact[i] - counts[i], reverse=True)
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    if total >= len(ratios):
        for index, count in enumerate(counts):
            if count == 0:
                donor = max(range(len(counts)), key=lambda i: counts[i])
                counts[donor] -= 1
                counts[index] = 1
    return counts


def stratified_parts(samples: list[tuple[str, int]], spec: dict[str, float],
                     seed: int = 0) -> dict[str, list[str]]:
    """The files of each part of ``spec`` (part name -> ratio), from ``(file, label)``
    ``samples``: each class's files, sorted, shuffled with ``seed`` and cut by the ratios
    (:func:`_counts`), so the same samples and seed always give the same parts."""
    by_class: dict[int, list[str]] = {}
    for relative, label in samples:
        by_class.setdefault(label, []).append(relative)
    chosen: dict[str, list[str]] = {part: [] for part in spec}
    rng = random.Random(seed)
    for label in sorted(by_class):
        files = sorted(by_class[label])
        rng.shuffle(files)
        start = 0
        for part, count in zip(spec, _counts(len(files), list(spec.values()))):
            chosen[part].extend(files[start:start + count])
            start += count
    return chosen


def split_image_classification_dataset(split_spec: dict[str, float], src_dir: str, dst_dir: str,
                                       overwrite: bool = False, seed: int = 0,
                                       labels_filename: str = "labels.txt") -> dict[str, int]:
    """Copy the class folders of ``src_dir`` into ``dst_dir/<part>/<class>/`` by ``split_spec``.

    ``split_spec`` maps part names (folder names) to ratios adding up to 1. Each class's images
    are shuffled with ``seed`` and cut by the ratios. Local paths and any URL that ``mox.file``
    serves work for both folders. A part folder that already holds files is an error unless
    ``overwrite=True``, which removes that part folder first (nothing else under ``dst_dir`` is
    touched). Returns the number of images copied into each part.
    """
    from mox_core.datasets.raw import ImageClassificationRawMetadata
    from mox_core.file import api as mox_file

    spec = _check_split_spec(split_spec)
    if not isinstance(dst_dir, str) or not dst_dir:
        raise ValueError(f"dst_dir must be a folder path, got {dst_dir!r}")
    meta = ImageClassificationRawMetadata(src_dir, labels_filename=labels_filename)
    parts = list(spec)
    for part in parts:
        target = fs.join(dst_dir, part)
        if mox_file.exists(target) and mox_file.list_directory(target):
            if not overwrite:
                raise ValueError(f"split part folder {target!r} already holds files; pass "
                                 f"overwrite=True to replace it, or choose another dst_dir")
            mox_file.remove(target, recursive=True)
    chosen = stratified_parts(meta.samples, spec, seed)
    for part in parts:
        target = fs.join(dst_dir, part)
        mox_file.copy_parallel(src_dir, target, file_list=chosen[part])
        write_atomically(fs.join(target, "labels.txt"), format_labels(meta.labels_list))
        logs.info("Split %s: %d images of %d classes into %s", src_dir, len(chosen[part]),
                  meta.num_classes, target)
    return {part: len(chosen[part]) for part in parts}
