"""MoXing's API constants: run modes, export kinds, network names and their pipelines."""

from __future__ import annotations


class ModeKeys:
    """Run modes of ``mox.run`` (``run_mode`` and ``inter_mode``)."""

    TRAIN = "TRAIN"
    EVAL = "EVAL"
    PREDICT = "PREDICT"
    EXPORT = "EXPORT"

    ALL = (TRAIN, EVAL, PREDICT, EXPORT)


class ExportKeys:
    """Export formats of ``mox.run(export_model=...)``."""

    TF_SERVING = "TF_SERVING"


class NetworkKeys:
    """The names of every network of the MoXing API (44)."""

    ALEXNET_V2 = "alexnet_v2"
    CIFARNET = "cifarnet"
    OVERFEAT = "overfeat"
    VGG_A = "vgg_a"
    VGG_16 = "vgg_16"
    VGG_19 = "vgg_19"
    VGG_A_BN = "vgg_a_bn"
    VGG_16_BN = "vgg_16_bn"
    VGG_19_BN = "vgg_19_bn"
    INCEPTION_V1 = "inception_v1"
    INCEPTION_V2 = "inception_v2"
    INCEPTION_V3 = "inception_v3"
    INCEPTION_V4 = "inception_v4"
    INCEPTION_RESNET_V2 = "inception_resnet_v2"
    LENET = "lenet"
    RESNET_V1_18 = "resnet_v1_18"
    RESNET_V1_50 = "resnet_v1_50"
    RESNET_V1_50_8K = "resnet_v1_50_8k"
    RESNET_V1_101 = "resnet_v1_101"
    RESNET_V1_152 = "resnet_v1_152"
    RESNET_V1_200 = "resnet_v1_200"
    RESNET_V2_50 = "resnet_v2_50"
    RESNET_V2_101 = "resnet_v2_101"
    RESNET_V2_152 = "resnet_v2_152"
    RESNET_V2_200 = "resnet_v2_200"
    RESNEXT_B_50 = "resnext_b_50"
    RESNEXT_B_101 = "resnext_b_101"
    RESNEXT_C_50 = "resnext_c_50"
    RESNEXT_C_101 = "resnext_c_101"
    PVANET = "pvanet"
    MOBILENET_V1 = "mobilenet_v1"
    MOBILENET_V1_075 = "mobilenet_v1_075"
    MOBILENET_V1_050 = "mobilenet_v1_050"
    MOBILENET_V1_025 = "mobilenet_v1_025"
    MOBILENET_V2 = "mobilenet_v2"
    MOBILENET_V2_140 = "mobilenet_v2_140"
    MOBILENET_V2_035 = "mobilenet_v2_035"
    RESNET_V1_20 = "resnet_v1_20"
    RESNET_V1_110 = "resnet_v1_110"
    NASNET_CIFAR = "nasnet_cifar"
    NASNET_MOBILE = "nasnet_mobile"
    NASNET_LARGE = "nasnet_large"
    PNASNET_LARGE = "pnasnet_large"
    PNASNET_MOBILE = "pnasnet_mobile"


#: Every network name of the API, in MoXing's order.
NETWORK_NAMES: tuple[str, ...] = tuple(
    value for key, value in vars(NetworkKeys).items() if key.isupper()
)

VGG = "vgg_preprocessing"
INCEPTION = "inception_preprocessing"
CIFARNET = "cifarnet_preprocessing"
LENET = "lenet_preprocessing"
PVANET = "pvanet_preprocessing"


class PreprocessingKeys:
    """MoXing's API constants: network name (upper case) -> preprocessing pipeline name.

    MoXing scripts read them (``mox.PreprocessingKeys.RESNET_V1_50``). An installed network's
    pipeline is its registration's (``NetworkSpec.preprocessing``); this table only answers
    for a network of the API that is not installed.
    """

    ALEXNET_V2 = VGG
    CIFARNET = CIFARNET
    OVERFEAT = VGG
    INCEPTION = INCEPTION
    INCEPTION_V1 = INCEPTION
    INCEPTION_V2 = INCEPTION
    INCEPTION_V3 = INCEPTION
    INCEPTION_V4 = INCEPTION
    INCEPTION_RESNET_V2 = INCEPTION
    LENET = LENET
    RESNET_V1_18 = VGG
    RESNET_V1_50 = VGG
    RESNET_V1_50_8K = VGG
    RESNET_V1_101 = VGG
    RESNET_V1_152 = VGG
    RESNET_V1_200 = VGG
    RESNET_V2_50 = VGG
    RESNET_V2_101 = VGG
    RESNET_V2_152 = VGG
    RESNET_V2_200 = VGG
    RESNEXT_B_50 = VGG
    RESNEXT_B_101 = VGG
    RESNEXT_C_50 = VGG
    RESNEXT_C_101 = VGG
    VGG = VGG
    VGG_A = VGG
    VGG_16 = VGG
    VGG_19 = VGG
    VGG_A_BN = VGG
    VGG_16_BN = VGG
    VGG_19_BN = VGG
    PVANET = PVANET
    MOBILENET_V1 = INCEPTION
    # MoXing's table omits the thinner MobileNet v1 variants; they share MobileNet's pipeline.
    MOBILENET_V1_075 = INCEPTION
    MOBILENET_V1_050 = INCEPTION
    MOBILENET_V1_025 = INCEPTION
    MOBILENET_V2 = INCEPTION
    MOBILENET_V2_140 = INCEPTION
    MOBILENET_V2_035 = INCEPTION
    RESNET_V1_20 = CIFARNET
    NASNET_CIFAR = CIFARNET
    RESNET_V1_110 = CIFARNET
    NASNET_MOBILE = INCEPTION
    NASNET_LARGE = INCEPTION
    PNASNET_LARGE = INCEPTION
    PNASNET_MOBILE = INCEPTION


#: the values of the run flag ``mixed_precision`` (mox_core.executor.precision decides them)
MIXED_PRECISION_MODES = ("off", "bf16", "fp16", "auto")
