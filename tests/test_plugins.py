"""The plugin system: discovery through entry points, registries, conflicts and failures."""

from __future__ import annotations

import importlib.metadata
import sys

import pytest

from mox_core import plugins
from mox_core.registry import RegistrationConflict

NETS_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import NetworkSpec

    @hookimpl
    def mox_networks():
        return [NetworkSpec(name=n, builder="fake_builders:build", default_image_size=32)
                for n in {names!r}]
"""


def nets_plugin(*names: str) -> str:
    return NETS_PLUGIN.format(names=list(names))


def test_builtin_features_are_registered_by_the_core_through_the_hooks():
    optimizers = plugins.registry("optimizers")
    builtin = [rec for rec in optimizers if rec.distribution == "mox-core"]  # plugins add more
    assert [rec.name for rec in builtin if not rec.wrapper] == [
        "adadelta", "adagrad", "adam", "ftrl", "momentum", "rmsprop", "sgd"]
    assert [rec.name for rec in builtin if rec.wrapper] == ["batch_gradients", "lars"]
    assert "num_gpus" in plugins.registry("flags")
    core = [info for info in plugins.plugin_infos() if info.distribution == "mox-core"]
    assert [info.module for info in core] == list(plugins.BUILTIN_PLUGINS)


def test_a_distribution_with_an_entry_point_is_discovered(fake_dists):
    fake_dists.add(
        "fake-nets",
        {"fake_nets_plugin": nets_plugin("tiny_a", "tiny_b")},
        {"tiny": "fake_nets_plugin"},
        version="2.3",
    )
    networks = plugins.registry("networks")
    assert {"tiny_a", "tiny_b"} <= set(networks.names())
    assert networks.get("tiny_a").distribution == "fake-nets"
    info = next(i for i in plugins.plugin_infos() if i.distribution == "fake-nets")
    assert (info.name, info.module, info.version, info.loaded) == (
        "tiny", "fake_nets_plugin", "2.3", True
    )
    assert plugins.registered_by("fake-nets") == {"networks": ["tiny_a", "tiny_b"]}


def test_listing_networks_imports_no_network_module(fake_dists):
    fake_dists.add("fake-nets", {"fake_nets_plugin": nets_plugin("tiny_a"),
                                 "fake_builders": "raise RuntimeError('imported!')"},
                   {"tiny": "fake_nets_plugin"})
    assert "tiny_a" in plugins.list_networks()
    assert "fake_builders" not in sys.modules
    with pytest.raises(RuntimeError, match="imported!"):
        from mox_core.registry import resolve

        resolve(plugins.registry("networks").get("tiny_a").builder)


def test_wildcard_listing_is_naturally_sorted(fake_dists):
    fake_dists.add(
        "fake-nets",
        {"fake_nets_plugin": nets_plugin("fake_resnet_v1_101", "fake_resnet_v1_50",
                                         "fake_resnet_v1_18", "fake_resnet_v2_50", "fake_vgg")},
        {"tiny": "fake_nets_plugin"},
    )
    assert plugins.list_networks("fake_resnet_v1_*") == [
        "fake_resnet_v1_18", "fake_resnet_v1_50", "fake_resnet_v1_101"
    ]
    assert plugins.list_networks("fake_resnet*")[-1] == "fake_resnet_v2_50"
    assert plugins.list_networks("fake*50") == ["fake_resnet_v1_50", "fake_resnet_v2_50"]


def test_two_distributions_registering_one_name_make_that_name_alone_unusable(fake_dists):
    fake_dists.add("fake-one", {"fake_one": nets_plugin("twin", "solo_one")}, {"one": "fake_one"})
    fake_dists.add("fake-two", {"fake_two": nets_plugin("twin")}, {"two": "fake_two"})
    with pytest.warns(plugins.PluginConflictWarning, match="'fake-one' and by 'fake-two'"):
        networks = plugins.registry("networks")
    with pytest.raises(RegistrationConflict) as excinfo:
        networks.get("twin")
    assert str(excinfo.value).startswith(
        "network 'twin' is registered by distribution 'fake-one' and by 'fake-two', so neither "
        "can be used: one of the plugins must rename it")
    assert "twin" not in networks.names()
    assert networks.get("solo_one").distribution == "fake-one"


def test_a_plugin_that_fails_to_import_warns_once_and_the_core_keeps_working(fake_dists):
    fake_dists.add("fake-broken", {"fake_broken": "import no_such_module_anywhere\n"},
                   {"broken": "fake_broken"})
    fake_dists.add("fake-nets", {"fake_nets_plugin": nets_plugin("tiny_a")},
                   {"tiny": "fake_nets_plugin"})
    with pytest.warns(plugins.PluginLoadWarning) as record:
        infos = plugins.plugin_infos()
    assert len(record) == 1
    message = str(record[0].message)
    assert "'fake-broken'" in message
    assert "ModuleNotFoundError" in message and "no_such_module_anywhere" in message
    broken = next(i for i in infos if i.distribution == "fake-broken")
    assert not broken.loaded and "no_such_module_anywhere" in broken.error
    assert "tiny_a" in plugins.list_networks()
    assert "sgd" in plugins.registry("optimizers")


def test_an_entry_point_that_names_no_module_is_reported(fake_dists):
    fake_dists.add("fake-odd", {"fake_odd": "def not_a_module():\n    pass\n"},
                   {"odd": "fake_odd:not_a_module"})
    with pytest.warns(plugins.PluginLoadWarning, match="entry point must name a module"):
        plugins.plugin_infos()


def test_unknown_name_lists_close_matches_and_installed_names(fake_dists):
    fake_dists.add("fake-nets", {"fake_nets_plugin": nets_plugin("tiny_a", "tiny_b")},
                   {"tiny": "fake_nets_plugin"})
    with pytest.raises(ValueError) as excinfo:
        plugins.registry("networks").get("tiny_c")
    message = str(excinfo.value)
    assert message.startswith("unknown network 'tiny_c'.")
    assert "Did you mean: tiny_" in message and "tiny_a" in message and "tiny_b" in message
    assert "Installed networks:" in message
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'\. Did you mean: adam"):
        plugins.registry("optimizers").get("adamm")


def test_an_api_network_whose_plugin_is_missing_names_the_distribution_to_install():
    if "pnasnet_large" in plugins.registry("networks"):
        pytest.skip("mox-nets-mobile is installed here; tox's core environment runs this")
    try:
        version = importlib.metadata.version("mox-nets-mobile")
    except importlib.metadata.PackageNotFoundError:
        version = None
    with pytest.raises(ValueError) as excinfo:
        plugins.registry("networks").get("pnasnet_large")
    message = str(excinfo.value)
    assert "'mox-nets-mobile'" in message
    if version is None:
        assert "pip install mox-nets-mobile" in message
    else:
        assert f"installed version {version} does not register it" in message


def test_registry_kind_must_exist():
    with pytest.raises(ValueError, match="unknown registry 'nets'; expected one of networks"):
        plugins.registry("nets")
