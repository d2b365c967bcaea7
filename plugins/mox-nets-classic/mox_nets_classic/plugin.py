"""Registers the classic networks with mox (entry point ``classic`` in group ``mox``).

This module is the plugin's ``nets_factory``: one record per network holds everything known
about it (builder, arg scope, default image size, labels offset, logits pattern for warm
starts, preprocessing pipeline), beside the records of its family. Code is named by
``"module:function"`` strings, so listing networks imports no network module (nor TensorFlow).
"""

import functools

from mox_core.hookspecs import hookimpl
from mox_core.recipes import Recipe
from mox_core.registry import network_family

#: ``_family(arg_scope, [(module, name, default_image_size, description), ...], **fields)``.
_family = functools.partial(network_family, "mox_nets_classic")

# Training recipes (mox train's defaults; bench/recipes.py measures them). Every one trains with
# momentum SGD, a linear warm-up and a cosine decay, which train from scratch on a few thousand
# images as well as on ImageNet; what differs is what each family's papers and TF-Slim's arg
# scopes set: the rate per 256 images, weight decay, label smoothing.
# LeNet: TF-Slim's initializer (truncated normal, stddev 0.1) starts it at a loss of ~10; at
# 0.1 per 256 images two seeds of six never left chance level on mox demo's shapes, at 0.04
# none did (each reached a loss < 0.21 in 150 steps).
_LENET = Recipe(learning_rate=0.04, weight_decay=0.0, epochs=20,
                source="0.04 per 256 images (TF-Slim's large initial weights), warm-up, cosine, "
                       "no weight decay (TF-Slim's lenet_arg_scope default)")
_CIFARNET = Recipe(epochs=30, source="0.1 per 256 images, warm-up, cosine, weight decay 1e-4")
_NO_BATCH_NORM = Recipe(learning_rate=0.01, warmup_epochs=2, weight_decay=0.0005,
                        source="Simonyan & Zisserman 2015: 0.01 per 256 images, weight decay "
                               "5e-4; warm-up, cosine")
_VGG_BN = Recipe(weight_decay=0.0005,
                 source="VGG with batch norm: 0.1 per 256 images, weight decay 5e-4; warm-up, "
                        "cosine")
_INCEPTION = Recipe(weight_decay=0.00004, label_smoothing=0.1,
                    source="Szegedy et al. 2016: label smoothing 0.1; TF-Slim's weight decay "
                           "4e-5; 0.1 per 256 images, warm-up, cosine")
_RESNET = Recipe(weight_decay=0.0001,
                 source="He et al. 2016: 0.1 per 256 images, weight decay 1e-4; Goyal et al. "
                        "2017's warm-up; cosine")


# ImageNet classifiers of 1000 classes (no background class) have labels offset 1, those of
# 1001 classes (background first, as the datasets) and the CIFAR / MNIST ones 0.
_IMAGENET_1000 = {"default_labels_offset": 1}

_NETWORKS = [
    *_family("lenet:lenet_arg_scope", [
        ("lenet", "lenet", 28,
         "LeNet-5 style network of TF-Slim (2 conv + 2 fully connected layers)"),
    ], preprocessing="lenet_preprocessing", default_logits_pattern="fc4", recipe=_LENET),
    *_family("cifarnet:cifarnet_arg_scope", [
        ("cifarnet", "cifarnet", 32,
         "CifarNet of TF-Slim (2 conv + LRN, 3 fully connected layers)"),
    ], preprocessing="cifarnet_preprocessing", default_logits_pattern="logits",
       recipe=_CIFARNET),
    # TF-Slim writes their fully connected layers as convolutions: the logits layer is fc8.
    *_family("alexnet:alexnet_v2_arg_scope", [
        ("alexnet", "alexnet_v2", 224,
         "AlexNet v2 of TF-Slim (one weird trick; fully convolutional fc layers)"),
    ], preprocessing="vgg_preprocessing", default_logits_pattern="fc8", recipe=_NO_BATCH_NORM,
       **_IMAGENET_1000),
    *_family("overfeat:overfeat_arg_scope", [
        ("overfeat", "overfeat", 231,
         "OverFeat fast model of TF-Slim (fully convolutional fc layers)"),
    ], preprocessing="vgg_preprocessing", default_logits_pattern="fc8", recipe=_NO_BATCH_NORM,
       **_IMAGENET_1000),
    *_family("vgg:vgg_arg_scope", [
        ("vgg", "vgg_a", 224, "VGG configuration A (11 layers) of TF-Slim"),
        ("vgg", "vgg_16", 224, "VGG configuration D (16 layers) of TF-Slim"),
        ("vgg", "vgg_19", 224, "VGG configuration E (19 layers) of TF-Slim"),
    ], preprocessing="vgg_preprocessing", default_logits_pattern="fc8", recipe=_NO_BATCH_NORM,
       **_IMAGENET_1000),
    *_family("vgg:vgg_bn_arg_scope", [
        ("vgg", "vgg_a_bn", 224,
         "VGG A with batch norm after every convolution but the logits"),
        ("vgg", "vgg_16_bn", 224,
         "VGG 16 with batch norm after every convolution but the logits"),
        ("vgg", "vgg_19_bn", 224,
         "VGG 19 with batch norm after every convolution but the logits"),
    ], preprocessing="vgg_preprocessing", default_logits_pattern="fc8", recipe=_VGG_BN,
       **_IMAGENET_1000),
    # 'Logits' also matches the AuxLogits head, which fine-tuning on new classes must
    # re-initialize too (slim's recipe).
    *_family("inception_utils:inception_arg_scope", [
        ("inception_v1", "inception_v1", 224,
         "Inception v1 (GoogLeNet) of TF-Slim, with batch norm"),
        ("inception_v2", "inception_v2", 224, "Inception v2 (BN-Inception) of TF-Slim"),
        ("inception_v3", "inception_v3", 299, "Inception v3 of TF-Slim, with its auxiliary head"),
        ("inception_v4", "inception_v4", 299, "Inception v4 of TF-Slim, with its auxiliary head"),
    ], preprocessing="inception_preprocessing", default_logits_pattern="Logits",
       recipe=_INCEPTION),
    *_family("inception_resnet_v2:inception_resnet_v2_arg_scope", [
        ("inception_resnet_v2", "inception_resnet_v2", 299,
         "Inception-ResNet v2 of TF-Slim, auxiliary head"),
    ], preprocessing="inception_preprocessing", default_logits_pattern="Logits",
       recipe=_INCEPTION),
    *_family("pvanet:pvanet_arg_scope", [
        ("pvanet", "pvanet", 224,
         "PVANet (Kim et al. 2016): C.ReLU and Inception blocks, hyper-feature"),
    ], preprocessing="pvanet_preprocessing", default_logits_pattern="logits", **_IMAGENET_1000),
    *_family("resnet_utils:resnet_arg_scope", [
        ("resnet_v1", "resnet_v1_18", 224, "ResNet-18 of the ResNet paper (basic units)"),
        ("resnet_v1", "resnet_v1_50", 224, "ResNet-50 v1 of TF-Slim"),
        ("resnet_v1", "resnet_v1_50_8k", 224,
         "ResNet-50 v1 with zero-initialized last BN gamma per block (Goyal et al. 2017)"),
        ("resnet_v1", "resnet_v1_101", 224, "ResNet-101 v1 of TF-Slim"),
        ("resnet_v1", "resnet_v1_152", 224, "ResNet-152 v1 of TF-Slim"),
        ("resnet_v1", "resnet_v1_200", 224, "ResNet-200 v1 of TF-Slim"),
        ("resnet_v2", "resnet_v2_50", 224, "ResNet-50 v2 (pre-activation) of TF-Slim"),
        ("resnet_v2", "resnet_v2_101", 224, "ResNet-101 v2 (pre-activation) of TF-Slim"),
        ("resnet_v2", "resnet_v2_152", 224, "ResNet-152 v2 (pre-activation) of TF-Slim"),
        ("resnet_v2", "resnet_v2_200", 224, "ResNet-200 v2 (pre-activation) of TF-Slim"),
        ("resnext", "resnext_b_50", 224, "ResNeXt-50 32x4d, split-transform-concat form"),
        ("resnext", "resnext_b_101", 224, "ResNeXt-101 32x4d, split-transform-concat form"),
        ("resnext", "resnext_c_50", 224, "ResNeXt-50 32x4d, grouped-convolution form"),
        ("resnext", "resnext_c_101", 224, "ResNeXt-101 32x4d, grouped-convolution form"),
    ], preprocessing="vgg_preprocessing", default_logits_pattern="logits", recipe=_RESNET,
       **_IMAGENET_1000),
    *_family("resnet_utils:resnet_arg_scope", [
        ("resnet_v1", "resnet_v1_20", 32, "ResNet-20 of the ResNet paper for CIFAR-10"),
        ("resnet_v1", "resnet_v1_110", 32, "ResNet-110 of the ResNet paper for CIFAR-10"),
    ], preprocessing="cifarnet_preprocessing", default_logits_pattern="logits", recipe=_RESNET),
]  # fmt: skip


@hookimpl
def mox_networks():
    return list(_NETWORKS)
