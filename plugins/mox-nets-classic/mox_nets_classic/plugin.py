"""Registers the classic networks with mox (entry point ``classic`` in group ``mox``).

Only records live here: each builder is a ``"module:function"`` string, so listing networks
imports no network module.
"""

from mox_core.constants import PreprocessingKeys
from mox_core.hookspecs import hookimpl
from mox_core.registry import NetworkSpec


@hookimpl
def mox_networks():
    return [
        NetworkSpec(
            name="lenet",
            builder="mox_nets_classic.lenet:lenet",
            default_image_size=28,
            default_labels_offset=0,
            default_logits_pattern="fc4",  # TF-Slim's LeNet names its logits layer fc4
            preprocessing=PreprocessingKeys.LENET,
            description="LeNet-5 style network of TF-Slim (2 conv + 2 fully connected layers)",
        ),
        NetworkSpec(
            name="cifarnet",
            builder="mox_nets_classic.cifarnet:cifarnet",
            default_image_size=32,
            default_labels_offset=0,
            preprocessing=PreprocessingKeys.CIFARNET,
            description="CifarNet of TF-Slim (2 conv + LRN, 3 fully connected layers)",
        ),
        NetworkSpec(
            name="alexnet_v2",
            builder="mox_nets_classic.alexnet:alexnet_v2",
            default_image_size=224,
            default_labels_offset=1,  # 1000 ImageNet classes, no background class
            default_logits_pattern="fc8",  # slim's fully convolutional logits layer
            preprocessing=PreprocessingKeys.ALEXNET_V2,
            description="AlexNet v2 of TF-Slim (one weird trick; fully convolutional fc layers)",
        ),
        NetworkSpec(
            name="overfeat",
            builder="mox_nets_classic.overfeat:overfeat",
            default_image_size=231,
            default_labels_offset=1,
            default_logits_pattern="fc8",
            preprocessing=PreprocessingKeys.OVERFEAT,
            description="OverFeat fast model of TF-Slim (fully convolutional fc layers)",
        ),
        *[
            NetworkSpec(
                name=name,
                builder=f"mox_nets_classic.vgg:{name}",
                default_image_size=224,
                default_labels_offset=1,
                default_logits_pattern="fc8",
                preprocessing=PreprocessingKeys.for_network(name),
                description=description,
            )
            for name, description in [
                ("vgg_a", "VGG configuration A (11 layers) of TF-Slim"),
                ("vgg_16", "VGG configuration D (16 layers) of TF-Slim"),
                ("vgg_19", "VGG configuration E (19 layers) of TF-Slim"),
                ("vgg_a_bn", "VGG A with batch norm after every convolution but the logits"),
                ("vgg_16_bn", "VGG 16 with batch norm after every convolution but the logits"),
                ("vgg_19_bn", "VGG 19 with batch norm after every convolution but the logits"),
            ]
        ],
        *[
            NetworkSpec(
                name=name,
                builder=f"mox_nets_classic.{name}:{name}",
                default_image_size=size,
                default_labels_offset=0,  # 1001 classes: background first, as the dataset
                # A substring of the variable names: 'Logits' also matches the AuxLogits head,
                # which fine-tuning on new classes must re-initialize too (slim's recipe).
                default_logits_pattern="Logits",
                preprocessing=PreprocessingKeys.for_network(name),
                description=description,
            )
            for name, size, description in [
                ("inception_v1", 224, "Inception v1 (GoogLeNet) of TF-Slim, with batch norm"),
                ("inception_v2", 224, "Inception v2 (BN-Inception) of TF-Slim"),
                ("inception_v3", 299, "Inception v3 of TF-Slim, with its auxiliary head"),
                ("inception_v4", 299, "Inception v4 of TF-Slim, with its auxiliary head"),
                ("inception_resnet_v2", 299, "Inception-ResNet v2 of TF-Slim, auxiliary head"),
            ]
        ],
        NetworkSpec(
            name="pvanet",
            builder="mox_nets_classic.pvanet:pvanet",
            default_image_size=224,
            default_labels_offset=1,  # an ImageNet classifier of 1000 classes, as VGG/ResNet
            default_logits_pattern="logits",
            preprocessing=PreprocessingKeys.PVANET,
            description="PVANet (Kim et al. 2016): C.ReLU and Inception blocks, hyper-feature",
        ),
        *[
            NetworkSpec(
                name=name,
                builder=f"mox_nets_classic.{module}:{name}",
                default_image_size=size,
                # ImageNet ResNets classify 1000 classes (no background): offset 1, as MoXing.
                default_labels_offset=1 if size == 224 else 0,
                default_logits_pattern="logits",
                preprocessing=PreprocessingKeys.for_network(name),
                description=description,
            )
            for module, name, size, description in [
                ("resnet_v1", "resnet_v1_18", 224, "ResNet-18 of the ResNet paper (basic units)"),
                ("resnet_v1", "resnet_v1_50", 224, "ResNet-50 v1 of TF-Slim"),
                ("resnet_v1", "resnet_v1_50_8k", 224,
                 "ResNet-50 v1 with zero-initialized last BN gamma per block (Goyal et al. 2017)"),
                ("resnet_v1", "resnet_v1_101", 224, "ResNet-101 v1 of TF-Slim"),
                ("resnet_v1", "resnet_v1_152", 224, "ResNet-152 v1 of TF-Slim"),
                ("resnet_v1", "resnet_v1_200", 224, "ResNet-200 v1 of TF-Slim"),
                ("resnet_v1", "resnet_v1_20", 32, "ResNet-20 of the ResNet paper for CIFAR-10"),
                ("resnet_v1", "resnet_v1_110", 32, "ResNet-110 of the ResNet paper for CIFAR-10"),
                ("resnet_v2", "resnet_v2_50", 224, "ResNet-50 v2 (pre-activation) of TF-Slim"),
                ("resnet_v2", "resnet_v2_101", 224, "ResNet-101 v2 (pre-activation) of TF-Slim"),
                ("resnet_v2", "resnet_v2_152", 224, "ResNet-152 v2 (pre-activation) of TF-Slim"),
                ("resnet_v2", "resnet_v2_200", 224, "ResNet-200 v2 (pre-activation) of TF-Slim"),
                ("resnext", "resnext_b_50", 224, "ResNeXt-50 32x4d, split-transform-concat form"),
                ("resnext", "resnext_b_101", 224, "ResNeXt-101 32x4d, split-transform-concat form"),
                ("resnext", "resnext_c_50", 224, "ResNeXt-50 32x4d, grouped-convolution form"),
                ("resnext", "resnext_c_101", 224, "ResNeXt-101 32x4d, grouped-convolution form"),
            ]
        ],  # fmt: skip
    ]
