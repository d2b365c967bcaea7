"""mox-nets-classic is found through its installed entry point."""

import importlib.metadata
import subprocess
import sys

from mox_core import plugins
from mox_core.constants import NETWORK_NAMES, distribution_for_network


def test_the_classic_plugin_is_discovered_through_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="mox", name="classic")
    assert [ep.value for ep in entry_points] == ["mox_nets_classic.plugin"]
    info = next(i for i in plugins.plugin_infos() if i.distribution == "mox-nets-classic")
    assert info.loaded, info.error
    assert info.version == importlib.metadata.version("mox-nets-classic")
    registered = plugins.registered_by("mox-nets-classic")["networks"]
    classic = [n for n in NETWORK_NAMES if distribution_for_network(n) == "mox-nets-classic"]
    assert sorted(registered) == sorted(classic)  # every classic network of the API


def test_mox_plugins_and_mox_nets_show_the_classic_networks():
    run = [sys.executable, "-m", "mox_core.cli"]
    listing = subprocess.run([*run, "plugins"], capture_output=True, text=True, check=True)
    assert "mox-nets-classic" in listing.stdout
    assert "    networks: alexnet_v2, cifarnet, inception_resnet_v2, inception_v1," in listing.stdout
    nets = subprocess.run([*run, "nets", "resnet_v1_*"], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    assert [line.split()[0] for line in nets[1:]] == [
        "resnet_v1_18", "resnet_v1_20", "resnet_v1_50", "resnet_v1_50_8k", "resnet_v1_101",
        "resnet_v1_110", "resnet_v1_152", "resnet_v1_200",
    ]
    assert nets[3].split() == ["resnet_v1_50", "224", "1", "vgg_preprocessing",
                               "mox-nets-classic"]
