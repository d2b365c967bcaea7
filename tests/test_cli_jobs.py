"""Argument and data errors of ``mox train | eval | predict | export`` (with no network, or a
one-layer network of a test plugin; the jobs themselves are tested with lenet in
plugins/mox-nets-classic/tests/test_cli_jobs.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mox_core import cli


def mox(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mox_core.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_an_unknown_network_is_named():
    result = mox("train", "--net", "lenett", "--data", "d", "--log-dir", "l")
    assert result.returncode == 2
    assert "mox: error: unknown network 'lenett'" in result.stderr


def test_a_misspelt_framework_flag_suggests_the_right_one():
    result = mox("train", "--net", "lenet", "--data", "d", "--log-dir", "l", "--num_gpu=2")
    assert result.returncode == 2
    assert "unknown flag 'num_gpu'. Closest known flags: num_gpus." in result.stderr


def test_a_flag_value_of_the_wrong_type_is_an_error():
    result = mox("eval", "--data", "d", "--checkpoint", "c", "--num_gpus=two")
    assert result.returncode == 2
    assert "bad framework flag" in result.stderr and "num_gpus" in result.stderr


def test_learning_rate_and_lr_strategy_exclude_each_other():
    result = mox("train", "--net", "lenet", "--data", "d", "--log-dir", "l",
                 "--learning-rate", "0.1", "--lr-strategy", "5:0.1")
    assert result.returncode == 2
    assert "argument --lr-strategy: not allowed with argument --learning-rate" in result.stderr


def test_summary_every_must_be_a_positive_number_of_steps():
    result = mox("train", "--net", "lenet", "--data", "d", "--log-dir", "l",
                 "--summary-every", "0")
    assert result.returncode == 2
    assert "mox: error: --summary-every must be at least 1, got 0" in result.stderr


def test_commands_without_run_flags_refuse_extra_arguments():
    result = mox("nets", "--num_gpus=2")
    assert result.returncode == 2
    assert "unrecognized arguments: --num_gpus=2" in result.stderr


def test_export_of_a_missing_checkpoint_names_it(tmp_path):
    missing = str(tmp_path / "nowhere")
    result = mox("export", "--net", "lenet", "--checkpoint", missing, "--log-dir",
                 str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"--checkpoint {missing!r} is neither a folder holding checkpoints nor a " \
           f"checkpoint prefix" in result.stderr


@pytest.mark.parametrize("command", ["train", "eval", "predict", "export", "demo"])
def test_every_job_command_is_registered(command):
    parser = cli.build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args([command, "--help"])
    assert exit_info.value.code == 0


POOL_NET_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import NetworkSpec

    @hookimpl
    def mox_networks():
        return [NetworkSpec(name="fake_pool", builder="fake_pool_net:build",
                            default_image_size=28, preprocessing="lenet_preprocessing")]
"""

POOL_NET = """
    import tensorflow.compat.v1 as tf

    def build(images, num_classes, is_training=False, **arch):
        with tf.variable_scope("FakePool"):
            pooled = tf.reduce_mean(images, axis=[1, 2])
            weights = tf.get_variable("weights", [int(pooled.shape[-1]), num_classes])
            logits = tf.matmul(pooled, weights, name="logits")
        return logits, {"Logits": logits}
"""


def test_a_file_damaged_inside_is_one_error_line_naming_it_and_the_flag(fake_dists, tmp_path):
    from mox_core.demo import write_shapes_dataset

    fake_dists.add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN, "fake_pool_net": POOL_NET},
                   {"pool": "fake_pool_plugin"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake_dists.root), *sys.path])}

    def mox_with_plugin(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mox_core.cli", *map(str, args)],
                              capture_output=True, text=True, timeout=300, env=env)

    data = write_shapes_dataset(str(tmp_path / "data"), images_per_class=2, size=28)
    log_dir = tmp_path / "log"
    result = mox_with_plugin("train", "--net", "fake_pool", "--data", data, "--log-dir", log_dir,
                             "--max-steps", 2, "--quiet")
    assert result.returncode == 0, result.stderr
    png = (tmp_path / "data" / "circle" / "circle_0000.png").read_bytes()
    third = len(png) // 3  # damaged inside, the end intact: only decoding it tells
    damaged = tmp_path / "data" / "circle" / "circle_0001.png"
    damaged.write_bytes(png[:third] + bytes(third) + png[2 * third:])
    expected = (f"mox: error: cannot decode image file {damaged}: the file is truncated or "
                f"corrupt. Fix or remove the file, or pass --skip-corrupt to skip such files.")
    for command in (["eval", "--checkpoint", log_dir],
                    ["train", "--net", "fake_pool", "--log-dir", tmp_path / "log2",
                     "--max-steps", 2, "--quiet"]):
        result = mox_with_plugin(*command, "--data", data)
        assert result.returncode == 2, result.stderr
        assert [line for line in result.stderr.splitlines() if "mox: error" in line] == [expected]
        assert "Traceback" not in result.stderr
