"""The core's named datasets, registered through the public ``mox_datasets`` hook.

TF-Slim's four TFRecord layouts (``mnist``, ``cifar10``, ``flowers``, ``imagenet``), so that
``get_dataset('mnist', 'train', dir)`` reads what TF-Slim's ``download_and_convert_*`` scripts
and ``build_imagenet_data.py`` wrote. Targets are ``"module:attribute"`` strings: listing
datasets imports no TensorFlow.
"""

from __future__ import annotations

from mox_core.hookspecs import hookimpl
from mox_core.registry import DatasetSpec

_NAMED = "mox_core.datasets.named"

#: name -> (attribute in mox_core.datasets.named, description)
BUILTIN_DATASETS = {
    "mnist": ("MNIST", "MNIST in TF-Slim's layout: mnist_{train,test}.tfrecord, 28x28x1 PNG"),
    "cifar10": ("CIFAR10", "CIFAR-10 in TF-Slim's layout: cifar10_{train,test}.tfrecord"),
    "flowers": ("FLOWERS", "TF-Slim's flowers: flowers_{train,validation}_*.tfrecord, 5 classes"),
    "imagenet": ("IMAGENET", "ILSVRC-2012 as build_imagenet_data.py shards it: "
                             "{train,validation}-*, 1001 classes (0 = background)"),
}


@hookimpl
def mox_datasets():
    return [
        DatasetSpec(
            name=name,
            loader=f"{_NAMED}:{attribute}",
            meta=f"{_NAMED}:{attribute}.meta",
            description=description,
        )
        for name, (attribute, description) in BUILTIN_DATASETS.items()
    ]
