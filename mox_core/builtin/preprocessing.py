"""The core's preprocessing pipelines, registered through the public ``mox_preprocessing`` hook.

Going through the hook like any plugin means ``mox plugins`` lists them, a plugin registering
one of these names fails loudly, and ``get_data_augmentation_fn`` has one code path. Factories
are ``"module:function"`` strings, so listing pipelines imports no TensorFlow.
"""

from __future__ import annotations

from mox_core import constants
from mox_core.hookspecs import hookimpl
from mox_core.registry import PreprocessingSpec

_PACKAGE = "mox_core.preprocessing"

#: pipeline name -> (module under mox_core.preprocessing, description)
BUILTIN_PIPELINES = {
    constants.VGG: ("vgg", "TF-Slim's VGG/ResNet pipeline: scale jitter, crop, flip, RGB means"),
    constants.INCEPTION: (
        "inception",
        "TF-Slim's Inception pipeline: distorted box crop, flip, colour distortion, [-1, 1]",
    ),
    constants.CIFARNET: (
        "cifarnet",
        "TF-Slim's CIFAR-10 pipeline: pad, crop, flip, brightness/contrast, standardization",
    ),
    constants.LENET: ("lenet", "TF-Slim's LeNet pipeline: crop or pad, (x - 128) / 128"),
    constants.PVANET: ("pvanet", "PVANet's Caffe input: covering resize, crop, flip, BGR means"),
}


@hookimpl
def mox_preprocessing():
    return [
        PreprocessingSpec(name=name, factory=f"{_PACKAGE}.{module}:factory", description=text)
        for name, (module, text) in BUILTIN_PIPELINES.items()
    ]
