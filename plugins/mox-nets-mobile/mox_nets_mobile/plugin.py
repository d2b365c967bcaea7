"""Registers the mobile networks with mox (entry point ``mobile`` in group ``mox``).

MobileNet v1 (and its 0.75 / 0.5 / 0.25 depth multipliers), MobileNet v2 (and 1.4 / 0.35),
NASNet-A (CIFAR, Mobile, Large) and PNASNet-5 (Large, Mobile), all with TF-Slim's variables.
Only records live here: each builder is a ``"module:function"`` string, so listing networks
imports no network module (nor TensorFlow).
"""

from mox_core.constants import PreprocessingKeys
from mox_core.hookspecs import hookimpl
from mox_core.registry import NetworkSpec

_MOBILENETS = [
    ("mobilenet_v1", "mobilenet_v1", "MobileNet v1 of TF-Slim (depthwise-separable convolutions)"),
    ("mobilenet_v1", "mobilenet_v1_075", "MobileNet v1 with 0.75 of its channels"),
    ("mobilenet_v1", "mobilenet_v1_050", "MobileNet v1 with half of its channels"),
    ("mobilenet_v1", "mobilenet_v1_025", "MobileNet v1 with a quarter of its channels"),
    ("mobilenet_v2", "mobilenet_v2", "MobileNet v2 of TF-Slim (inverted residual blocks)"),
    ("mobilenet_v2", "mobilenet_v2_140", "MobileNet v2 with 1.4 times its channels"),
    ("mobilenet_v2", "mobilenet_v2_035",
     "MobileNet v2 with 0.35 of its channels (last layer kept at 1280)"),
]  # fmt: skip

_NASNETS = [
    ("nasnet", "nasnet_cifar", 32, "NASNet-A 6@768 for CIFAR-10 of TF-Slim"),
    ("nasnet", "nasnet_mobile", 224, "NASNet-A Mobile 4@1056 of TF-Slim"),
    ("nasnet", "nasnet_large", 331, "NASNet-A Large 6@4032 of TF-Slim"),
    ("pnasnet", "pnasnet_large", 331, "PNASNet-5 Large of TF-Slim"),
    ("pnasnet", "pnasnet_mobile", 224, "PNASNet-5 Mobile of TF-Slim"),
]


@hookimpl
def mox_networks():
    return [
        *[
            NetworkSpec(
                name=name,
                builder=f"mox_nets_mobile.{module}:{name}",
                default_image_size=224,
                default_labels_offset=0,  # 1001 classes: background first, as the dataset
                # TF-Slim's logits scope: MobilenetV1/Logits/Conv2d_1c_1x1 (V2 alike).
                default_logits_pattern="Logits",
                preprocessing=PreprocessingKeys.for_network(name),
                description=description,
            )
            for module, name, description in _MOBILENETS
        ],
        *[
            NetworkSpec(
                name=name,
                builder=f"mox_nets_mobile.{module}:{name}",
                default_image_size=size,
                default_labels_offset=0,  # CIFAR's 10 classes; ImageNet's 1001 with background
                # The classifiers are final_layer/FC and, in training, aux_N/aux_logits/FC: the
                # two layers whose shape depends on the number of classes.
                default_logits_pattern="FC",
                preprocessing=PreprocessingKeys.for_network(name),
                description=description,
            )
            for module, name, size, description in _NASNETS
        ],
    ]
