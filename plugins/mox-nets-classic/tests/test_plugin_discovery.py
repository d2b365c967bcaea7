"""mox-nets-classic is found through its installed entry point."""

import importlib.metadata
import subprocess
import sys

from mox_core import plugins


def test_the_classic_plugin_is_discovered_through_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="mox", name="classic")
    assert [ep.value for ep in entry_points] == ["mox_nets_classic.plugin"]
    info = next(i for i in plugins.plugin_infos() if i.distribution == "mox-nets-classic")
    assert info.loaded, info.error
    assert info.version == importlib.metadata.version("mox-nets-classic")
    assert plugins.registered_by("mox-nets-classic")["networks"] == ["cifarnet", "lenet"]


def test_mox_plugins_and_mox_nets_show_the_classic_networks():
    run = [sys.executable, "-m", "mox_core.cli"]
    listing = subprocess.run([*run, "plugins"], capture_output=True, text=True, check=True)
    assert "mox-nets-classic" in listing.stdout
    assert "    networks: cifarnet, lenet" in listing.stdout
    nets = subprocess.run([*run, "nets"], capture_output=True, text=True, check=True).stdout
    assert nets.splitlines()[2].split() == [
        "lenet", "28", "0", "lenet_preprocessing", "mox-nets-classic"
    ]
