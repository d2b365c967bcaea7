"""``mox plugin new NAME``: write a plugin distribution that installs, is listed by ``mox
plugins`` and passes its own tests out of the box.

The distribution ``NAME`` (``demo-plugin``) holds the package ``NAME`` with ``_`` for ``-``
(``demo_plugin``), whose plugin module registers one network, ``<package>_net``, and tests on
``mox_core.testing``; its ``tox.ini`` tests it against an installed mox-core.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
from typing import Any

_DISTRIBUTION = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*\Z")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = "A mox plugin"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["mox-core>={core_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The entry point in the group "mox" is how mox finds the plugin module.
[project.entry-points.mox]
{package} = "{package}.plugin"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

README = """\
# {distribution}

A mox plugin: it registers the network `{network}` (see `{package}/plugin.py`).

```console
$ pip install ./{distribution}
$ mox plugins          # lists {distribution} and its network
$ mox nets {network}
```

Test it with `tox` (against an installed mox-core: set `MOX_CORE` to a path or requirement
of mox-core when it is not on your package index), or `pip install -e ".[test]"` and
`pytest`. The hooks a plugin may implement, with their contracts, are in `mox_core.hookspecs`
(and mox's docs/plugins.md).
"""

TOX_INI = """\
[tox]
env_list = py3

[testenv]
description = the plugin's tests against an installed mox-core
deps = {{env:MOX_CORE:mox-core}}
extras = test
commands = pytest -q -p mox_core.testing.no_skips {{posargs:tests}}
"""

INIT = '''\
"""The mox plugin {distribution}: its hooks are in {package}.plugin."""
'''

PLUGIN = '''\
"""The hook implementations (mox_core.hookspecs). Keep this module light: mox imports it
whenever it needs a registry, so name code with "module:attribute" strings."""

from mox_core import hookimpl
from mox_core.registry import NetworkSpec


@hookimpl
def mox_networks():
    return [
        NetworkSpec(
            name="{network}",
            builder="{package}.network:{network}",
            default_image_size=32,
            default_logits_pattern="{scope}/logits",
            preprocessing="lenet_preprocessing",  # a pipeline of mox-core
            description="Global average pooling and one dense layer",
        )
    ]
'''

NETWORK = '''\
"""The network's builder. Its record has no arg_scope, so it takes the layer options itself
(the contract of mox_networks in mox_core.hookspecs)."""

import tensorflow.compat.v1 as tf


def {network}(images, num_classes, *, is_training, weight_decay=0.0, data_format="NHWC",
{indent}batch_norm_fused=False, batch_renorm=False, scope="{scope}"):
    del is_training, data_format, batch_norm_fused, batch_renorm  # none matter to this net
    with tf.variable_scope(scope):
        pooled = tf.reduce_mean(images, axis=[1, 2])  # NHWC in
        with tf.variable_scope("logits"):
            weights = tf.get_variable("weights", [int(pooled.shape[-1]), num_classes])
            biases = tf.get_variable("biases", [num_classes],
                                     initializer=tf.zeros_initializer())
        if weight_decay:
            tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES,
                                 weight_decay * tf.nn.l2_loss(weights))
        logits = tf.nn.bias_add(tf.matmul(pooled, weights), biases, name="logits")
    return logits, {{"Logits": logits, "Predictions": tf.nn.softmax(logits)}}
'''

TESTS = '''\
"""The plugin as mox sees it, checked with mox_core.testing (install it first)."""

import pytest

from mox_core import testing

DISTRIBUTION = "{distribution}"


def test_the_plugin_is_found_and_registers_its_network():
    testing.check_plugin_registrations(DISTRIBUTION, expected={{"networks": ["{network}"]}})


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "networks"))
def test_network_builds_trains_one_step_and_exports(name, tmp_path):
    testing.check_network(name, tmp_dir=tmp_path, distribution=DISTRIBUTION,
                          end_points=["Predictions"])
'''


def write_plugin(distribution: str, parent: str = ".") -> str:
    """Write the distribution ``distribution`` into the new folder ``parent/distribution``;
    return that folder. ``ValueError`` for a name that is no distribution name, or a folder
    that exists."""
    if not isinstance(distribution, str) or not _DISTRIBUTION.match(distribution):
        raise ValueError(f"plugin name {distribution!r} must be a distribution name: letters "
                         f"and digits, words joined by '-' or '_', starting with a letter "
                         f"(e.g. my-nets)")
    folder = os.path.join(parent, distribution)
    if os.path.exists(folder):
        raise ValueError(f"{folder!r} exists already; choose another name or folder")
    package = distribution.replace("-", "_").lower()
    network = f"{package}_net"
    scope = "".join(word.capitalize() for word in package.split("_")) + "Net"
    fields = {"distribution": distribution, "package": package, "network": network,
              "scope": scope, "core_version": _core_version(),
              "indent": " " * (len(network) + 5)}
    files = {
        "pyproject.toml": PYPROJECT, "README.md": README, "tox.ini": TOX_INI,
        f"{package}/__init__.py": INIT, f"{package}/plugin.py": PLUGIN,
        f"{package}/network.py": NETWORK, "tests/test_plugin.py": TESTS,
    }
    for relative, template in files.items():
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(template.format(**fields))
    return folder


def _core_version() -> str:
    """The installed mox-core's version (the template depends on at least it)."""
    try:
        return importlib.metadata.version("mox-core")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"


def cmd_plugin_new(args: argparse.Namespace) -> int:
    folder = write_plugin(args.name, args.dir)
    print(f"wrote the mox plugin {args.name!r} into {folder}/; next:\n"
          f"  pip install {folder}      # then `mox plugins` lists it\n"
          f"  cd {folder} && tox        # its tests, against an installed mox-core")
    return 0


def register(sub: Any) -> None:
    """Add ``plugin`` (``plugin new NAME``) to the ``mox`` subparsers."""
    p = sub.add_parser("plugin", help="write a new plugin distribution (mox plugin new NAME)")
    actions = p.add_subparsers(dest="plugin_command", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="write a plugin distribution that installs, is listed "
                                         "and passes its tests")
    new.add_argument("name", help="the distribution's name, e.g. my-nets")
    new.add_argument("--dir", default=".", help="the folder to write it into (default: here)")
    new.set_defaults(func=cmd_plugin_new)
