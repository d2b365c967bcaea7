"""mox-nets-mobile is found through its installed entry point, on its own with mox-core."""

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import mox_nets_mobile

import mox_core as mox
from mox_core import plugins

ALLOWED_IMPORTS = {"__future__", "collections", "contextlib", "copy", "dataclasses", "functools",
                   "tensorflow", "mox_core", "mox_nets_mobile"}  # fmt: skip

NETWORKS = {
    # name: (default image size, labels offset, logits pattern, preprocessing)
    "mobilenet_v1": (224, 0, "Logits", "inception_preprocessing"),
    "mobilenet_v1_075": (224, 0, "Logits", "inception_preprocessing"),
    "mobilenet_v1_050": (224, 0, "Logits", "inception_preprocessing"),
    "mobilenet_v1_025": (224, 0, "Logits", "inception_preprocessing"),
    "mobilenet_v2": (224, 0, "Logits", "inception_preprocessing"),
    "mobilenet_v2_140": (224, 0, "Logits", "inception_preprocessing"),
    "mobilenet_v2_035": (224, 0, "Logits", "inception_preprocessing"),
    "nasnet_cifar": (32, 0, "FC", "cifarnet_preprocessing"),
    "nasnet_mobile": (224, 0, "FC", "inception_preprocessing"),
    "nasnet_large": (331, 0, "FC", "inception_preprocessing"),
    "pnasnet_large": (331, 0, "FC", "inception_preprocessing"),
    "pnasnet_mobile": (224, 0, "FC", "inception_preprocessing"),
}


def test_the_mobile_plugin_is_discovered_through_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="mox", name="mobile")
    assert [ep.value for ep in entry_points] == ["mox_nets_mobile.plugin"]
    info = next(i for i in plugins.plugin_infos() if i.distribution == "mox-nets-mobile")
    assert info.loaded, info.error
    assert info.module == "mox_nets_mobile.plugin"
    assert info.version == importlib.metadata.version("mox-nets-mobile")


def test_it_registers_the_mobile_networks_with_their_meta():
    assert set(plugins.registered_by("mox-nets-mobile")) == {"networks"}
    assert set(plugins.registered_by("mox-nets-mobile")["networks"]) == set(NETWORKS)
    registry = plugins.registry("networks")
    for name, (size, offset, pattern, preprocessing) in NETWORKS.items():
        assert mox.get_model_meta(name) == (size, offset, pattern), name
        assert registry.get(name).preprocessing == preprocessing, name
        assert registry.get(name).distribution == "mox-nets-mobile"
    assert mox.list_networks("mobilenet_v1*") == [
        "mobilenet_v1", "mobilenet_v1_025", "mobilenet_v1_050", "mobilenet_v1_075"
    ]  # fmt: skip


def test_listing_the_networks_imports_no_network_module():
    code = (
        "import sys, mox_core as mox; mox.list_networks(); mox.get_model_meta('nasnet_large'); "
        "print(sorted(m for m in sys.modules if m.startswith('mox_nets_mobile.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "['mox_nets_mobile.plugin']", result.stderr


def test_no_module_needs_mox_nets_classic():
    """The tox env ``mobile`` installs mox-core and this plugin only: nothing may import more."""
    package = Path(mox_nets_mobile.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert all(n.split(".")[0] in ALLOWED_IMPORTS for n in names), (path.name, names)
