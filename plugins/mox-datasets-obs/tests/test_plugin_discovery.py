"""mox-datasets-obs is found through its installed entry point."""

import importlib.metadata

from mox_core import plugins


def test_the_obs_plugin_is_discovered_through_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="mox", name="obs")
    assert [ep.value for ep in entry_points] == ["mox_datasets_obs.plugin"]
    info = next(i for i in plugins.plugin_infos() if i.distribution == "mox-datasets-obs")
    assert info.loaded, info.error
    assert info.version == importlib.metadata.version("mox-datasets-obs")


def test_it_registers_no_url_scheme_or_reader_yet():
    assert plugins.registered_by("mox-datasets-obs") == {}
    assert "obs" not in plugins.registry("filesystems")
