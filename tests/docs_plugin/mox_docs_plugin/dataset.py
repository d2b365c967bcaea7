"""A named dataset: ``DIR/train`` and ``DIR/validation``, one sub-folder per class each, as
``mox demo`` writes them."""

import os
from types import SimpleNamespace

from mox_core.demo import SHAPES

SPLITS = ("train", "validation")


def meta(dataset_dir=None):
    """The splits' sizes are counted in ``dataset_dir`` when it is given."""
    sizes = {split: 8 for split in SPLITS}
    if dataset_dir is not None:
        sizes = {split: sum(len(files) for _, _, files in os.walk(os.path.join(dataset_dir, split)))
                 for split in SPLITS}
    return SimpleNamespace(splits_to_sizes=sizes, num_classes=len(SHAPES),
                           labels_to_names=dict(enumerate(SHAPES)))


def load(split_name, dataset_dir, **kwargs):
    from mox_core.datasets import ImageClassificationRawDataset, ImageClassificationRawMetadata

    if split_name not in SPLITS:
        raise ValueError(f"dataset 'docs_shapes' has no split {split_name!r}; its splits are "
                         f"{', '.join(SPLITS)}")
    metadata = ImageClassificationRawMetadata(os.path.join(dataset_dir, split_name))
    return ImageClassificationRawDataset(metadata, **kwargs)
