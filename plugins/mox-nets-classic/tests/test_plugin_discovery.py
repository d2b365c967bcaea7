"""mox-nets-classic is found through its installed entry point."""

import importlib.metadata
import subprocess
import sys

from mox_core import plugins
from mox_core.constants import NETWORK_NAMES, PreprocessingKeys
from mox_core.install_hints import distribution_for_network


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


def test_listing_the_records_imports_neither_tensorflow_nor_a_network_module():
    code = (
        "import sys\n"
        "from mox_core import plugins\n"
        "records = [r for r in plugins.registry('networks') if r.distribution == "
        "'mox-nets-classic']\n"
        "assert len(records) == 32, len(records)\n"
        "assert all(r.arg_scope for r in records)\n"
        "from mox_core.recipes import Recipe\n"
        "without = [r.name for r in records if not isinstance(r.recipe, Recipe)]\n"
        "assert without == ['pvanet'], without  # the generic recipe\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('mox_nets_classic.'))\n"
        "assert loaded == ['mox_nets_classic.plugin'], loaded\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_each_record_names_the_seeds_pipeline_for_its_network():
    for name in plugins.registered_by("mox-nets-classic")["networks"]:
        record = plugins.registry("networks").get(name)
        assert record.preprocessing == getattr(PreprocessingKeys, name.upper()), name
