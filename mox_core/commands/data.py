"""What ``--data PATH`` names, opened through the datasets (which dispatch URL schemes).

PATH is one of

* a folder of class folders (``PATH/<class>/<image>``): :class:`ImageClassificationRawDataset`;
* TFRecords in TF-Slim's layout (``mox convert`` writes them): a folder holding ``*.tfrecord``
  files, or a file pattern such as ``PATH/flowers_train_*.tfrecord``:
  :class:`ImageClassificationTFRecordDataset`. In a folder with ``*_train_*`` /
  ``*_validation_*`` shards, training reads the train split and eval / predict the validation
  split;
* for ``predict`` only, a folder of images without class folders;
* with ``--dataset NAME`` (train, eval): the folder of a registered named dataset
  (``mox_datasets``; ``get_dataset(NAME, split, PATH)``): training reads its first split (the
  training split), eval its second (validation or test) when it has one.

Images are decoded and resized (nearest neighbour) to the network's input size, then given the
network's preprocessing pipeline (``augmentation_fn``), as ``mox.run`` input functions do.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from mox_core.datasets import fs, logs
from mox_core.datasets.images import (
    CONVERT_THEM,
    has_image_extension,
    unsupported_format,
    unsupported_summary,
)
from mox_core.datasets.raw import warn_links_outside

RAW, TFRECORD, IMAGES, NAMED = "class folders", "TFRecords", "images", "named dataset"
_SPLIT_OF = {"train": "train", "eval": "validation", "predict": "validation"}


@dataclasses.dataclass
class DataSource:
    """Where ``--data`` points and what kind of data it holds."""

    path: str
    kind: str
    base_dir: str
    file_pattern: str | None = None  # TFRecords only
    images: list[str] = dataclasses.field(default_factory=list)  # IMAGES only
    follow_symlinks: bool = False  # also read what links in the folder lead to outside it
    dataset: str | None = None  # NAMED only: the registered name
    split: str | None = None  # NAMED only: the split read


def _is_pattern(path: str) -> bool:
    return any(ch in os.path.basename(path) for ch in "*?[") or path.endswith(".tfrecord")


def locate(path: str, command: str, follow_symlinks: bool = False,
           dataset: str | None = None) -> DataSource:
    """What ``--data path`` holds, for ``command`` (train, eval or predict); clear errors for a
    missing path, an empty folder, or images without class folders where labels are needed.
    ``follow_symlinks`` (``--follow-symlinks``): links leading out of the folder are read too.
    ``dataset`` (``--dataset``): ``path`` is the folder of that registered named dataset."""
    if dataset is not None:
        return _locate_named(path, command, dataset)
    source = _locate(path, command, follow_symlinks)
    source.follow_symlinks = follow_symlinks
    return source


def _locate(path: str, command: str, follow_symlinks: bool) -> DataSource:
    if not path:
        raise ValueError("--data is empty: give a folder of class folders or of TFRecords")
    if _is_pattern(path):
        base_dir = os.path.dirname(path.rstrip("/")) or "."
        if not fs.isdir(base_dir):
            raise ValueError(f"--data {path!r}: folder {base_dir!r} does not exist")
        return DataSource(path, TFRECORD, base_dir, os.path.basename(path))
    if not fs.exists(path):
        raise ValueError(f"--data {path!r} does not exist")
    if not fs.isdir(path):
        raise ValueError(f"--data {path!r} is a file; give a folder of class folders, a folder "
                         f"of TFRecords, or a TFRecord file pattern")
    # links out of the folder are not followed (see ImageClassificationRawMetadata); a linked
    # class folder still makes class folders of it, so that the dataset names what it left out
    listing = fs.list_folder(path, check_dirs=True,
                             inside=fs.confinement_root(path, follow_symlinks))
    records = [f for f in listing.files if f.endswith(".tfrecord")]
    if listing.dirs or any(os.path.isdir(target) for _, target in listing.outside):
        return DataSource(path, RAW, path)
    if records:
        return DataSource(path, TFRECORD, path, _split_pattern(path, records, command))
    images = [f for f in listing.files if has_image_extension(f)]
    unsupported = [f for f in listing.files if unsupported_format(f)]
    if command == "predict":
        warn_links_outside(path, listing.outside)
    if images and command == "predict":
        if unsupported:
            logs.warning("Left out %s in %s: an unsupported format. %s",
                         unsupported_summary(unsupported), path, CONVERT_THEM)
        return DataSource(path, IMAGES, path, images=images)
    if images:
        raise ValueError(
            f"--data {path!r} holds images but no class folders: for {command}, put each "
            f"class's images in a sub-folder named after the class"
        )
    if unsupported:
        raise ValueError(f"--data {path!r} holds no images mox reads but "
                         f"{unsupported_summary(unsupported)}, an unsupported format: "
                         f"{CONVERT_THEM}")
    raise ValueError(f"--data {path!r} is empty: it holds no class folders, no .tfrecord files"
                     + (" and no images" if command == "predict" else ""))


def _locate_named(path: str, command: str, dataset: str) -> DataSource:
    """The split of named dataset ``dataset`` that ``command`` reads from folder ``path``."""
    from mox_core.datasets import get_dataset_meta

    if not path or not fs.isdir(path):
        raise ValueError(f"--data {path!r} is not a folder: with --dataset {dataset}, give the "
                         f"folder that dataset's files are in")
    splits = list(get_dataset_meta(dataset, dataset_dir=path).splits_to_sizes)
    if not splits:
        raise ValueError(f"--dataset {dataset!r} has no splits to read")
    split = splits[0] if command == "train" or len(splits) == 1 else splits[1]
    return DataSource(path, NAMED, path, dataset=dataset, split=split)


def _split_pattern(path: str, records: list[str], command: str) -> str:
    split = _SPLIT_OF[command]
    if any(f"_{split}_" in name for name in records):
        return f"*_{split}_*.tfrecord"
    if not any("_train_" in name or "_validation_" in name for name in records):
        return "*.tfrecord"
    raise ValueError(
        f"--data {path!r} has no {split} split (no *_{split}_*.tfrecord file); name the files "
        f"to read with a pattern, e.g. --data '{fs.join(path, '*_train_*.tfrecord')}'"
    )


def tfrecord_labels(source: DataSource) -> list[str] | None:
    """The class names in the TFRecords' ``labels.txt``, or ``None`` when there is none."""
    from mox_core.datasets import ImageClassificationTFRecordMetadata

    names = ImageClassificationTFRecordMetadata(source.base_dir, source.file_pattern,
                                                num_samples=0).labels_to_names
    return [names[i] for i in range(len(names))] if names else None


def check_same_labels(source: DataSource, trained: list[str], labels_path: str) -> None:
    """An error when TFRecords' ``labels.txt`` names other classes than the model knows.

    (Class folders are read with the model's own labels file instead, which checks them.)
    """
    if source.kind != TFRECORD:
        return
    declared = tfrecord_labels(source)
    if declared is None:
        logs.warning("%s has no labels.txt: assuming its labels are the model's %d classes "
                     "(%s)", source.base_dir, len(trained), labels_path)
        return
    if declared != trained:
        raise ValueError(_mismatch(source.path, declared, trained, labels_path))


def _mismatch(path: str, declared: list[str], trained: list[str], labels_path: str) -> str:
    only_data = [n for n in declared if n not in trained]
    only_model = [n for n in trained if n not in declared]
    detail = []
    if only_data:
        detail.append(f"classes the model does not know: {logs.first_few(only_data)}")
    if only_model:
        detail.append(f"classes missing from the data: {logs.first_few(only_model)}")
    if not detail:
        detail.append("the same classes in another order")
    return (f"--data {path!r} does not hold the classes the model was trained on "
            f"({labels_path}): {'; '.join(detail)}")


def open_dataset(source: DataSource, *, batch_size: int, image_size: int, training: bool,
                 augmentation_fn: Callable | None, labels_path: str | None = None,
                 num_epochs: int | None = None, skip_corrupt: bool = False,
                 part: tuple[str, list[str]] | None = None) -> Any:
    """A dataset object whose ``get(['image', 'label', 'image_name'])`` gives batches.

    ``labels_path`` (class folders): read labels in the order of that labels file (the
    model's), with an error naming the difference when the folders hold other classes.
    ``part`` (class folders): ``(name, files)``, read only those files (paths relative to the
    folder, as :func:`validation_split` gives them).
    """
    from mox_core import datasets

    common = dict(batch_size=batch_size, shuffle=training, num_epochs=num_epochs,
                  image_size=image_size, augmentation_fn=augmentation_fn,
                  skip_corrupt=skip_corrupt)
    if source.kind == RAW:
        try:
            meta = datasets.ImageClassificationRawMetadata(
                source.base_dir, labels_filename=labels_path or "labels.txt",
                follow_symlinks=source.follow_symlinks)
        except ValueError as exc:
            if labels_path is None or "labels file" not in str(exc):
                raise
            raise ValueError(f"--data {source.path!r} does not hold the classes the model was "
                             f"trained on: {exc}") from None
        if part is not None:
            meta = meta.subset(part[1], part[0])
        return datasets.ImageClassificationRawDataset(
            meta, shuffle_buffer_size=256 if training else 0, **common)
    if source.kind == NAMED:
        return datasets.get_dataset(source.dataset, source.split, source.base_dir, **common)
    if source.kind == TFRECORD:
        meta = datasets.ImageClassificationTFRecordMetadata(source.base_dir, source.file_pattern)
        return datasets.ImageClassificationTFRecordDataset(
            meta, shuffle_buffer_size=1024 if training else 0, **common)
    return ImageFolder(source, batch_size, image_size, augmentation_fn, skip_corrupt)


def validation_split(source: DataSource, share: float) -> dict[str, list[str]]:
    """``--val-split share``: the files of ``source`` (class folders) for ``train`` and
    ``validation``, each class cut by ``share`` (stratified; the same files every run)."""
    from mox_core import datasets
    from mox_core.datasets.split import stratified_parts

    if not 0.0 < share < 1.0:
        raise ValueError(f"--val-split must be a share of the data in (0, 1), e.g. 0.1; "
                         f"got {share}")
    if source.kind != RAW:
        raise ValueError(f"--val-split cuts a folder of class folders; --data {source.path!r} "
                         f"holds {source.kind}: give the validation data with --eval-data")
    meta = datasets.ImageClassificationRawMetadata(source.base_dir,
                                                   follow_symlinks=source.follow_symlinks)
    parts = stratified_parts(meta.samples, {"train": 1.0 - share, "validation": share})
    if not parts["validation"] or not parts["train"]:
        raise ValueError(f"--val-split {share}: --data {source.path!r} has too few images "
                         f"({len(meta.samples)}) to keep some for validation")
    return parts


def num_samples(dataset: Any) -> int:
    if isinstance(dataset, ImageFolder):
        return len(dataset.source.images)
    return dataset.metadata.total_num_samples


class ImageFolder:
    """Images directly in one folder, for ``predict``: ``get(['image', 'image_name'])``, read
    once in name order, decoded and resized as the datasets do; a file that does not decode
    (every file is tried: few images, and no dataset scan follows a failure) is an error naming
    it, or with ``skip_corrupt`` a warning naming it (and no CSV row)."""

    def __init__(self, source: DataSource, batch_size: int, image_size: int,
                 augmentation_fn: Callable | None, skip_corrupt: bool = False) -> None:
        self.skip_corrupt = skip_corrupt
        self.source = source
        self.batch_size = batch_size
        self.image_size = image_size
        self.augmentation_fn = augmentation_fn
        logs.info("Total %d images found in %s", len(source.images), source.base_dir)

    def get(self, keys: list[str]) -> list[Any]:
        import tensorflow as tf

        from mox_core.datasets.images import CorruptImagePolicy
        from mox_core.file import tfdata

        size = [self.image_size, self.image_size]
        policy = CorruptImagePolicy(self.skip_corrupt, check_every_file=True)
        policy.expect(self.source.base_dir, len(self.source.images))  # all skipped: an error

        def load(path: Any, name: Any) -> dict:
            image, ok = policy.decode(tfdata.read_file(path), path)
            image = tf.image.resize(image, size, method="nearest")
            image = tf.cast(image, tf.uint8)
            image.set_shape([*size, 3])
            if self.augmentation_fn is not None:
                image = self.augmentation_fn(image)
            return {"image": image, "image_name": name, "ok": ok}

        paths = [fs.join(self.source.base_dir, name) for name in self.source.images]
        data = tf.data.Dataset.from_tensor_slices((paths, self.source.images))
        data = data.map(load, num_parallel_calls=4, deterministic=True)
        data = data.filter(lambda element: element["ok"]).map(
            lambda element: {"image": element["image"], "image_name": element["image_name"]})
        data = data.batch(self.batch_size).prefetch(1)
        element = tf.compat.v1.data.make_one_shot_iterator(data).get_next()
        unknown = [key for key in keys if key not in element]
        if unknown:
            raise ValueError(f"a folder of images without class folders has no {unknown}")
        return [element[key] for key in keys]
