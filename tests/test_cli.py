"""The ``mox`` command, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mox_core import plugins


def mox(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mox_core.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_plugins_lists_the_core_with_its_version_and_registrations():
    result = mox("plugins")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("mox-core ")
    assert "mox_core.builtin.optimizers" in first
    line = next(x for x in result.stdout.splitlines() if x.startswith("    optimizers: "))
    assert {"adadelta", "adagrad", "adam", "ftrl", "momentum", "rmsprop", "sgd"} <= set(
        line.split(": ", 1)[1].split(", "))
    assert "    flags: " in result.stdout and "num_gpus" in result.stdout


def test_plugins_json_is_machine_readable():
    data = json.loads(mox("plugins", "--json").stdout)
    core = next(entry for entry in data if entry["distribution"] == "mox-core")
    assert core["loaded"] is True
    assert core["registered"]["optimizers"][0] == "adadelta"
    assert core["modules"] == list(plugins.BUILTIN_PLUGINS)


def test_nets_with_a_pattern_that_matches_nothing_says_so():
    result = mox("nets", "no_such_net*")
    assert result.returncode == 1
    assert "no network matching 'no_such_net*' is installed" in result.stdout
    assert json.loads(mox("nets", "no_such_net*", "--json").stdout) == []


def test_nets_with_the_name_of_a_missing_api_network_says_what_to_install():
    if "pnasnet_large" in plugins.registry("networks"):
        pytest.skip("mox-nets-mobile is installed here; tox's core environment runs this")
    result = mox("nets", "pnasnet_large")
    assert result.returncode == 1
    assert "provided by the distribution 'mox-nets-mobile'" in result.stdout


def test_flags_lists_types_defaults_and_help():
    result = mox("flags")
    assert result.returncode == 0, result.stderr
    assert "--num_gpus (integer, default 1)  [mox-core]" in result.stdout
    assert "--worker_hosts (string, default '')  [mox-core]" in result.stdout
    data = {entry["name"]: entry for entry in json.loads(mox("flags", "--json").stdout)}
    assert data["log_first_clone"]["default"] is True
    assert data["loss_scale"]["type"] == "float"


def test_listing_imports_no_tensorflow():
    code = (
        "import sys, mox_core.cli as cli; cli.main(['nets']); cli.main(['plugins']);"
        "cli.main(['flags']); print('TF LOADED' if 'tensorflow' in sys.modules else 'NO TF')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip().endswith("NO TF"), result.stdout + result.stderr


def test_unknown_command_is_an_error_with_usage():
    result = mox("trian")
    assert result.returncode == 2
    assert "invalid choice: 'trian'" in result.stderr
