"""MoXing's constant tables."""

import mox_core as mox
from mox_core import constants
from mox_core.constants import NETWORK_NAMES


def test_mode_and_export_keys_are_the_seed_strings():
    assert (mox.ModeKeys.TRAIN, mox.ModeKeys.EVAL, mox.ModeKeys.PREDICT, mox.ModeKeys.EXPORT) == (
        "TRAIN",
        "EVAL",
        "PREDICT",
        "EXPORT",
    )
    assert mox.ExportKeys.TF_SERVING == "TF_SERVING"


def test_network_keys_hold_the_44_api_networks():
    assert len(NETWORK_NAMES) == 44 == len(set(NETWORK_NAMES))
    assert mox.NetworkKeys.RESNET_V1_50 == "resnet_v1_50"
    assert mox.NetworkKeys.PNASNET_MOBILE == "pnasnet_mobile"
    for key, value in vars(mox.NetworkKeys).items():
        if key.isupper():
            assert key.lower() == value


def test_preprocessing_keys_follow_the_seed_table():
    keys = mox.PreprocessingKeys
    assert keys.RESNET_V1_50 == keys.VGG_16 == keys.ALEXNET_V2 == "vgg_preprocessing"
    assert keys.INCEPTION_V3 == keys.MOBILENET_V2 == keys.NASNET_LARGE == "inception_preprocessing"
    assert keys.RESNET_V1_20 == keys.NASNET_CIFAR == keys.CIFARNET == "cifarnet_preprocessing"
    assert keys.LENET == "lenet_preprocessing"
    assert keys.PVANET == "pvanet_preprocessing"
    assert all(getattr(keys, name.upper()).endswith("_preprocessing") for name in NETWORK_NAMES)


def test_the_constants_name_no_distribution():
    # Which distribution provides what is the install-hint catalog's (mox_core.install_hints).
    assert not [name for name in vars(constants) if "distribution" in name.lower()]
