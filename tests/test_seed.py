"""The run flag ``seed``: the same command on the same data gives the same loss curve on CPU,
and a run without it is a new draw."""

from __future__ import annotations

import pytest
from tensorflow.python.framework import config as tf_config
from test_cli_jobs import POOL_NET, POOL_NET_PLUGIN

import mox_core as mox
from mox_core import cli, flags
from mox_core.demo import write_shapes_dataset
from mox_core.testing import logged_values, step_lines


@pytest.fixture
def unseeded():
    """Flag seed unset (back to its default, None) before and after the test."""
    flags.FLAGS["seed"].unparse()
    yield
    flags.FLAGS["seed"].unparse()


@pytest.fixture
def shapes(fake_dists, tmp_path):
    """A small image folder and the one-layer network ``fake_pool`` to train on it."""
    fake_dists.add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN, "fake_pool_net": POOL_NET},
                   {"pool": "fake_pool_plugin"})
    return write_shapes_dataset(str(tmp_path / "data"), images_per_class=4, size=28)


def loss_curve(caplog, shapes, log_dir, *flags: str) -> list[float]:
    """The losses ``mox train`` logs at every step of a short run on ``shapes``."""
    caplog.clear()
    assert cli.main(["train", "--net", "fake_pool", "--data", shapes, "--log-dir", str(log_dir),
                     "--max-steps", "4", "--batch-size", "4", "--log-every", "1",
                     *flags]) == 0
    return [logged_values(line)["loss"] for line in step_lines(caplog.records)]


def test_the_same_seed_gives_the_same_loss_curve(shapes, tmp_path, caplog, unseeded):
    first = loss_curve(caplog, shapes, tmp_path / "first", "--seed=3")
    second = loss_curve(caplog, shapes, tmp_path / "second", "--seed", "3")  # both spellings
    assert len(first) == 4
    assert first == second
    other = loss_curve(caplog, shapes, tmp_path / "other", "--seed=4")
    assert other != first
    assert not tf_config.is_op_determinism_enabled()  # for the run only


def test_without_a_seed_each_run_is_a_new_draw(shapes, tmp_path, caplog, unseeded):
    assert mox.get_flag("seed") is None
    assert (loss_curve(caplog, shapes, tmp_path / "first")
            != loss_curve(caplog, shapes, tmp_path / "second"))


def test_a_negative_seed_is_refused_naming_the_flag(shapes, tmp_path, capsys, unseeded):
    assert cli.main(["train", "--net", "fake_pool", "--data", shapes, "--log-dir",
                     str(tmp_path / "log"), "--seed=-1"]) == 2
    assert "mox: error: flag seed must be an int >= 0 (or unset), got -1" in capsys.readouterr().err
