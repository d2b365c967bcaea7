"""Registers the mobile networks with mox (entry point ``mobile`` in group ``mox``).

MobileNet v1 (and its 0.75 / 0.5 / 0.25 depth multipliers), MobileNet v2 (and 1.4 / 0.35),
NASNet-A (CIFAR, Mobile, Large) and PNASNet-5 (Large, Mobile), all with TF-Slim's variables.
This module is the plugin's ``nets_factory``: one record per network holds everything known
about it (builder, arg scope, default image size, labels offset, logits pattern for warm
starts, preprocessing pipeline). Code is named by ``"module:function"`` strings, so listing
networks imports no network module (nor TensorFlow).
"""

import functools

from mox_core.hookspecs import hookimpl
from mox_core.recipes import Recipe
from mox_core.registry import network_family

#: ``_family(arg_scope, [(module, name, default_image_size, description), ...], **fields)``.
_family = functools.partial(network_family, "mox_nets_mobile")

# All classify 1001 ImageNet classes (background first, as the datasets: labels offset 0) but
# NASNet-A CIFAR, which classifies CIFAR-10's 10. TF-Slim's MobileNet logits scope is
# MobilenetV1/Logits/Conv2d_1c_1x1 (V2 alike); the NASNets' classifiers are final_layer/FC and,
# in training, aux_N/aux_logits/FC: the layers whose shape depends on the number of classes.
# Training recipes (mox train's defaults; bench/recipes.py measures them): momentum SGD with a
# warm-up and a cosine decay, which trains from scratch on a few thousand images as well as on
# ImageNet, with the weight decay of TF-Slim's arg scopes and the label smoothing of their
# papers' training.
_MOBILE_RECIPE = Recipe(weight_decay=0.00004, label_smoothing=0.1,
                        source="TF-Slim's weight decay 4e-5, label smoothing 0.1; 0.1 per 256 "
                               "images, warm-up, cosine")
_MOBILENET = {"preprocessing": "inception_preprocessing", "default_logits_pattern": "Logits",
              "recipe": _MOBILE_RECIPE}
_NASNET = {"preprocessing": "inception_preprocessing", "default_logits_pattern": "FC",
           "recipe": _MOBILE_RECIPE}

_NETWORKS = [
    *_family("mobilenet_v1:mobilenet_v1_arg_scope", [
        ("mobilenet_v1", "mobilenet_v1", 224,
         "MobileNet v1 of TF-Slim (depthwise-separable convolutions)"),
        ("mobilenet_v1", "mobilenet_v1_075", 224, "MobileNet v1 with 0.75 of its channels"),
        ("mobilenet_v1", "mobilenet_v1_050", 224, "MobileNet v1 with half of its channels"),
        ("mobilenet_v1", "mobilenet_v1_025", 224, "MobileNet v1 with a quarter of its channels"),
    ], **_MOBILENET),
    *_family("mobilenet_v2:training_scope", [
        ("mobilenet_v2", "mobilenet_v2", 224, "MobileNet v2 of TF-Slim (inverted residual blocks)"),
        ("mobilenet_v2", "mobilenet_v2_140", 224, "MobileNet v2 with 1.4 times its channels"),
        ("mobilenet_v2", "mobilenet_v2_035", 224,
         "MobileNet v2 with 0.35 of its channels (last layer kept at 1280)"),
    ], **_MOBILENET),
    *_family("nasnet:nasnet_cifar_arg_scope", [
        ("nasnet", "nasnet_cifar", 32, "NASNet-A 6@768 for CIFAR-10 of TF-Slim"),
    ], **{**_NASNET, "preprocessing": "cifarnet_preprocessing"}),
    *_family("nasnet:nasnet_mobile_arg_scope", [
        ("nasnet", "nasnet_mobile", 224, "NASNet-A Mobile 4@1056 of TF-Slim"),
    ], **_NASNET),
    *_family("nasnet:nasnet_large_arg_scope", [
        ("nasnet", "nasnet_large", 331, "NASNet-A Large 6@4032 of TF-Slim"),
    ], **_NASNET),
    *_family("pnasnet:pnasnet_large_arg_scope", [
        ("pnasnet", "pnasnet_large", 331, "PNASNet-5 Large of TF-Slim"),
    ], **_NASNET),
    *_family("pnasnet:pnasnet_mobile_arg_scope", [
        ("pnasnet", "pnasnet_mobile", 224, "PNASNet-5 Mobile of TF-Slim"),
    ], **_NASNET),
]  # fmt: skip


@hookimpl
def mox_networks():
    return list(_NETWORKS)
