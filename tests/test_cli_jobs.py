"""Argument errors of ``mox train | eval | predict | export`` (no network needed; the jobs
themselves are tested with lenet in plugins/mox-nets-classic/tests/test_cli_jobs.py)."""

from __future__ import annotations

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
