"""mox-nets-mobile is found through its installed entry point, on its own with mox-core."""

import importlib.metadata

import pytest

from mox_core import plugins


def test_the_mobile_plugin_is_discovered_through_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="mox", name="mobile")
    assert [ep.value for ep in entry_points] == ["mox_nets_mobile.plugin"]
    info = next(i for i in plugins.plugin_infos() if i.distribution == "mox-nets-mobile")
    assert info.loaded, info.error
    assert info.module == "mox_nets_mobile.plugin"
    assert info.version == importlib.metadata.version("mox-nets-mobile")


def test_it_registers_no_network_yet_and_says_so_when_asked_for_one():
    assert plugins.registered_by("mox-nets-mobile") == {}
    with pytest.raises(ValueError) as excinfo:
        plugins.registry("networks").get("mobilenet_v1")
    version = importlib.metadata.version("mox-nets-mobile")
    assert f"'mox-nets-mobile', but the installed version {version} does not register it" in str(
        excinfo.value
    )
