"""Which mox distribution provides each network and dataset reader of MoXing's API.

The one catalog behind the "pip install ..." hint of an unknown-name error: a script that asks
for ``resnet_v1_50`` or ``reader_class=mox.AsyncRawGenerator`` without the plugin that provides
it learns what to install. The names are the API's (``NetworkKeys``, MoXing's reader classes);
what an installed plugin registers is the registries' business, not this table's.
"""

from __future__ import annotations

_CLASSIC = "mox-nets-classic"
_MOBILE = "mox-nets-mobile"

#: Network name of the API (``NetworkKeys``) -> the distribution that registers it.
NETWORK_DISTRIBUTIONS: dict[str, str] = {
    "alexnet_v2": _CLASSIC,
    "cifarnet": _CLASSIC,
    "overfeat": _CLASSIC,
    "vgg_a": _CLASSIC,
    "vgg_16": _CLASSIC,
    "vgg_19": _CLASSIC,
    "vgg_a_bn": _CLASSIC,
    "vgg_16_bn": _CLASSIC,
    "vgg_19_bn": _CLASSIC,
    "inception_v1": _CLASSIC,
    "inception_v2": _CLASSIC,
    "inception_v3": _CLASSIC,
    "inception_v4": _CLASSIC,
    "inception_resnet_v2": _CLASSIC,
    "lenet": _CLASSIC,
    "resnet_v1_18": _CLASSIC,
    "resnet_v1_50": _CLASSIC,
    "resnet_v1_50_8k": _CLASSIC,
    "resnet_v1_101": _CLASSIC,
    "resnet_v1_152": _CLASSIC,
    "resnet_v1_200": _CLASSIC,
    "resnet_v2_50": _CLASSIC,
    "resnet_v2_101": _CLASSIC,
    "resnet_v2_152": _CLASSIC,
    "resnet_v2_200": _CLASSIC,
    "resnext_b_50": _CLASSIC,
    "resnext_b_101": _CLASSIC,
    "resnext_c_50": _CLASSIC,
    "resnext_c_101": _CLASSIC,
    "pvanet": _CLASSIC,
    "mobilenet_v1": _MOBILE,
    "mobilenet_v1_075": _MOBILE,
    "mobilenet_v1_050": _MOBILE,
    "mobilenet_v1_025": _MOBILE,
    "mobilenet_v2": _MOBILE,
    "mobilenet_v2_140": _MOBILE,
    "mobilenet_v2_035": _MOBILE,
    "resnet_v1_20": _CLASSIC,
    "resnet_v1_110": _CLASSIC,
    "nasnet_cifar": _MOBILE,
    "nasnet_mobile": _MOBILE,
    "nasnet_large": _MOBILE,
    "pnasnet_large": _MOBILE,
    "pnasnet_mobile": _MOBILE,
}

#: Dataset reader of the API (``reader_class=`` names and ``mox.<name>`` attributes) -> the
#: distribution that registers it.
READER_DISTRIBUTIONS: dict[str, str] = {"AsyncRawGenerator": "mox-datasets-obs"}


def distribution_for_network(name: str) -> str | None:
    """The distribution providing a network of the API (``None`` for other names)."""
    return NETWORK_DISTRIBUTIONS.get(name)


def distribution_for_reader(name: str) -> str | None:
    """The distribution providing a dataset reader of the API (``None`` for other names)."""
    return READER_DISTRIBUTIONS.get(name)
