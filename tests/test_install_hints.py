"""The one catalog of install hints: which distribution provides each name of MoXing's API."""

import pytest

from mox_core.constants import NETWORK_NAMES
from mox_core.install_hints import (
    NETWORK_DISTRIBUTIONS,
    READER_DISTRIBUTIONS,
    distribution_for_network,
    distribution_for_reader,
)


def test_every_api_network_has_exactly_one_distribution():
    assert list(NETWORK_DISTRIBUTIONS) == list(NETWORK_NAMES)
    assert set(NETWORK_DISTRIBUTIONS.values()) == {"mox-nets-classic", "mox-nets-mobile"}
    mobile = [name for name in NETWORK_NAMES if distribution_for_network(name) == "mox-nets-mobile"]
    assert len(mobile) == 12
    assert all(name.startswith(("mobilenet_", "nasnet_", "pnasnet_")) for name in mobile)


@pytest.mark.parametrize(
    ("name", "distribution"),
    [
        ("vgg_16", "mox-nets-classic"),
        ("resnet_v1_20", "mox-nets-classic"),
        ("mobilenet_v1_025", "mox-nets-mobile"),
        ("nasnet_cifar", "mox-nets-mobile"),
        ("my_net", None),
    ],
)
def test_distribution_for_network(name, distribution):
    assert distribution_for_network(name) == distribution


def test_distribution_for_reader():
    assert READER_DISTRIBUTIONS == {"AsyncRawGenerator": "mox-datasets-obs"}
    assert distribution_for_reader("AsyncRawGenerator") == "mox-datasets-obs"
    assert distribution_for_reader("RawGenerator") is None
