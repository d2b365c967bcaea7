"""The named datasets of TF-Slim (``datasets/{mnist,cifar10,flowers,imagenet}.py``).

Each reads the TFRecords that TF-Slim's converters write, with TF-Slim's file patterns, split
sizes and class counts. ``splits_to_sizes`` lists the training split first: MoXing scripts
unpack ``split_name_train, split_name_eval = meta.splits_to_sizes.keys()``.

``labels_to_names`` is read from ``labels.txt`` in ``dataset_dir`` when there is one (TF-Slim's
converters write it); otherwise the built-in names (MNIST, CIFAR-10, flowers) or ``None``
(ImageNet: TF-Slim downloaded its synset names, which mox does not do).
"""

from __future__ import annotations

import dataclasses
from typing import Any

_MNIST_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                  "truck")
_FLOWERS_NAMES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")


@dataclasses.dataclass(frozen=True)
class NamedDatasetMeta:
    """What ``get_dataset_meta(name)`` returns."""

    name: str
    file_pattern: str  # one ``%s``, the split name
    splits_to_sizes: dict[str, int]
    num_classes: int
    labels_to_names: dict[int, str] | None
    items_to_descriptions: dict[str, str]
    channels: int = 3
    image_shape: tuple[int, int, int] | None = None

    @property
    def split_names(self) -> list[str]:
        return list(self.splits_to_sizes)


class NamedDataset:
    """A TF-Slim dataset: ``meta()`` describes it, calling it reads one split.

    ``dataset(split_name, dataset_dir, capacity=None, **kwargs)`` returns an
    :class:`~mox_core.datasets.tfrecord.ImageClassificationTFRecordDataset`; ``kwargs`` are its
    arguments (``batch_size``, ``shuffle``, ``num_epochs``, ``image_size``, ...). MoXing's
    ``capacity`` (the reading queue of TF-Slim's data provider) sets ``shuffle_buffer_size``
    when that is not given. ``num_samples`` defaults to the split's TF-Slim size; pass
    ``num_samples=None`` to count the records instead.
    """

    def __init__(self, meta: NamedDatasetMeta) -> None:
        self._meta = meta

    def meta(self, dataset_dir: str | None = None) -> NamedDatasetMeta:
        """A fresh copy of the metadata (scripts may edit what they are given); with
        ``dataset_dir``, ``labels_to_names`` comes from its ``labels.txt`` when it has one."""
        names = self._meta.labels_to_names
        if dataset_dir is not None:
            from mox_core.datasets import fs
            from mox_core.datasets.labels import parse_labels
            from mox_core.datasets.raw import labels_file_path

            path = labels_file_path(dataset_dir, "labels.txt")
            if path is not None:
                names = dict(enumerate(parse_labels(fs.read_text(path, "label map file"), path)))
        return dataclasses.replace(
            self._meta,
            splits_to_sizes=dict(self._meta.splits_to_sizes),
            labels_to_names=dict(names) if names is not None else None,
        )

    def __call__(self, split_name: str, dataset_dir: str, capacity: int | None = None,
                 **kwargs: Any) -> Any:
        from mox_core.datasets.tfrecord import (
            ImageClassificationTFRecordDataset,
            ImageClassificationTFRecordMetadata,
        )

        meta = self._meta
        if split_name not in meta.splits_to_sizes:
            raise ValueError(
                f"dataset {meta.name!r} has no split {split_name!r}; its splits are "
                f"{', '.join(meta.splits_to_sizes)}"
            )
        num_samples = kwargs.pop("num_samples", meta.splits_to_sizes[split_name])
        metadata = ImageClassificationTFRecordMetadata(
            dataset_dir, meta.file_pattern % split_name, num_samples=num_samples,
            num_classes=meta.num_classes,
        )
        if not metadata.labels_to_names and meta.labels_to_names:
            metadata.labels_to_names = dict(meta.labels_to_names)
        metadata.channels = meta.channels
        metadata.image_shape = meta.image_shape
        if capacity is not None:
            if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
                raise ValueError(f"capacity (the records read ahead and shuffled among) must be "
                                 f"an int >= 0, got {capacity!r}")
            kwargs.setdefault("shuffle_buffer_size", capacity)
        return ImageClassificationTFRecordDataset(metadata, **kwargs)


_IMAGE = "A color image of varying size."

MNIST = NamedDataset(NamedDatasetMeta(
    name="mnist",
    file_pattern="mnist_%s.tfrecord",
    splits_to_sizes={"train": 60000, "test": 10000},
    num_classes=10,
    labels_to_names=dict(enumerate(_MNIST_NAMES)),
    items_to_descriptions={"image": "A [28 x 28 x 1] grayscale image.",
                           "label": "A single integer between 0 and 9"},
    channels=1,
    image_shape=(28, 28, 1),
))

CIFAR10 = NamedDataset(NamedDatasetMeta(
    name="cifar10",
    file_pattern="cifar10_%s.tfrecord",
    splits_to_sizes={"train": 50000, "test": 10000},
    num_classes=10,
    labels_to_names=dict(enumerate(_CIFAR10_NAMES)),
    items_to_descriptions={"image": "A [32 x 32 x 3] color image.",
                           "label": "A single integer between 0 and 9"},
    image_shape=(32, 32, 3),
))

FLOWERS = NamedDataset(NamedDatasetMeta(
    name="flowers",
    file_pattern="flowers_%s_*.tfrecord",
    splits_to_sizes={"train": 3320, "validation": 350},
    num_classes=5,
    labels_to_names=dict(enumerate(_FLOWERS_NAMES)),
    items_to_descriptions={"image": _IMAGE, "label": "A single integer between 0 and 4"},
))

IMAGENET = NamedDataset(NamedDatasetMeta(
    name="imagenet",
    file_pattern="%s-*",
    splits_to_sizes={"train": 1281167, "validation": 50000},
    num_classes=1001,
    labels_to_names=None,
    items_to_descriptions={
        "image": _IMAGE,
        "label": "The label id of the image, integer between 0 and 1000 (0: background)",
        "label_text": "The text of the label.",
        "object/bbox": "A list of bounding boxes.",
        "object/label": "A list of labels, one per each object.",
    },
))
