"""``mox train`` loses little and says what is wrong: checkpoints every minute (or as asked,
in MoXing's spelling too), numbers that are not finite refused naming the option, a run whose
loss turns NaN stopped with one error line, batches larger than the data cut to it."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf
from test_cli_jobs import POOL_NET, POOL_NET_PLUGIN

import mox_core as mox
from mox_core import cli
from mox_core.commands import train as train_command
from mox_core.demo import SHAPES, write_shapes_dataset

IMAGES = 2 * len(SHAPES)  # write_shapes_dataset(images_per_class=2): two of each shape


@pytest.fixture
def pool_net(fake_dists):
    """The plugin distributions of the test, with the one-layer network ``fake_pool``."""
    fake_dists.add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN, "fake_pool_net": POOL_NET},
                   {"pool": "fake_pool_plugin"})
    yield fake_dists


@pytest.fixture
def shapes(tmp_path):
    return write_shapes_dataset(str(tmp_path / "data"), images_per_class=2, size=28)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "mox: error" in line]


@pytest.mark.parametrize("option, value, expected", [
    ("--learning-rate", "nan", "--learning-rate must be a finite number > 0, got nan"),
    ("--learning-rate", "inf", "--learning-rate must be a finite number > 0, got inf"),
    ("--learning-rate", "0", "--learning-rate must be a finite number > 0, got 0.0"),
    ("--learning-rate", "-0.1", "--learning-rate must be a finite number > 0, got -0.1"),
    ("--weight-decay", "nan", "--weight-decay must be a finite number >= 0, got nan"),
    ("--weight-decay", "-inf", "--weight-decay must be a finite number >= 0, got -inf"),
    ("--weight-decay", "-1e-4", "--weight-decay must be a finite number >= 0, got -0.0001"),
    ("--save-model-secs", "0", "--save-model-secs must be at least 1, got 0"),
    ("--save_model_steps", "-5", "--save-model-steps must be at least 1, got -5"),
])
def test_a_number_that_cannot_train_is_one_error_line_naming_the_option(option, value, expected,
                                                                        tmp_path, capsys):
    status = cli.main(["train", "--net", "lenet", "--data", str(tmp_path), "--log-dir",
                       str(tmp_path / "log"), f"{option}={value}"])
    assert status == 2
    assert capsys.readouterr().err == f"mox: error: {expected}\n"
    assert not os.path.exists(tmp_path / "log")  # refused before anything was written


def test_checkpoint_cadence_takes_both_spellings_and_one_of_seconds_or_steps():
    parser = cli.build_parser()
    args, _ = parser.parse_known_args(["train", "--net", "n", "--data", "d", "--log-dir", "l",
                                       "--save_model_secs=5"])
    assert (args.save_model_secs, args.save_model_steps) == (5, None)
    args, _ = parser.parse_known_args(["train", "--net", "n", "--data", "d", "--log-dir", "l",
                                       "--save-model-steps", "100"])
    assert (args.save_model_secs, args.save_model_steps) == (None, 100)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_known_args(["train", "--net", "n", "--data", "d", "--log-dir", "l",
                                 "--save-model-secs", "5", "--save-model-steps", "100"])
    assert exit_info.value.code == 2


def test_by_default_a_crash_loses_about_a_minute_of_training(capsys):
    assert train_command.DEFAULT_SAVE_MODEL_SECS == 60
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--save-model-secs S, --save_model_secs S write a checkpoint every S seconds " \
           "(default 60: a crash loses about a minute of training)" in help_text


def test_save_model_steps_checkpoints_every_n_steps(pool_net, shapes, tmp_path, capsys):
    log_dir = tmp_path / "log"
    assert cli.main(["train", "--net", "fake_pool", "--data", shapes, "--log-dir", str(log_dir),
                     "--max-steps", "6", "--save_model_steps=2", "--quiet"]) == 0
    state = tf.train.get_checkpoint_state(str(log_dir))
    assert [os.path.basename(path) for path in state.all_model_checkpoint_paths] == [
        "model.ckpt-0", "model.ckpt-2", "model.ckpt-4", "model.ckpt-6"]


def test_a_batch_larger_than_the_data_is_cut_to_it_for_train_eval_and_predict(pool_net, shapes, tmp_path,
                                                                       caplog, capsys):
    note = f"--batch-size 100000 is more than the {IMAGES} samples in --data: using {IMAGES}"
    log_dir = str(tmp_path / "log")
    assert cli.main(["train", "--net", "fake_pool", "--data", shapes, "--log-dir", log_dir,
                     "--batch-size", "100000", "--epochs", "2", "--quiet"]) == 0
    assert note in caplog.text
    # two epochs, one step each: every step holds the whole data once
    assert os.path.basename(tf.train.latest_checkpoint(log_dir)) == "model.ckpt-2"
    caplog.clear()

    assert cli.main(["eval", "--data", shapes, "--checkpoint", log_dir,
                     "--batch-size", "100000"]) == 0
    assert note in caplog.text
    assert f"over {IMAGES} samples (1 steps)" in caplog.text
    assert "accuracy: " in capsys.readouterr().out
    caplog.clear()

    predictions = tmp_path / "predictions.csv"
    assert cli.main(["predict", "--data", shapes, "--checkpoint", log_dir,
                     "--output", str(predictions), "--batch-size", "100000"]) == 0
    assert note in caplog.text
    assert len(predictions.read_text().splitlines()) == IMAGES + 1  # a header, a row per image


NAN_NET_PLUGIN = """
    import dataclasses

    import fake_pool_plugin
    from mox_core import hookimpl

    @hookimpl
    def mox_networks():
        [pool] = fake_pool_plugin.mox_networks()
        return [dataclasses.replace(pool, name="fake_nan_at_3", builder="fake_nan_net:build")]
"""

NAN_NET = """
    import math

    import fake_pool_net
    import tensorflow.compat.v1 as tf

    def build(images, num_classes, is_training=False, **arch):
        # fake_pool, whose logits are NaN from global step 3 on
        logits, _ = fake_pool_net.build(images, num_classes)
        logits += tf.where(tf.train.get_global_step() >= 3, math.nan, 0.0)
        return logits, {"Logits": logits}
"""


def test_a_loss_that_turns_nan_stops_training_with_one_error_line(pool_net, shapes, tmp_path):
    pool_net.add("fake-nan", {"fake_nan_plugin": NAN_NET_PLUGIN, "fake_nan_net": NAN_NET},
                   {"nan": "fake_nan_plugin"})
    log_dir = tmp_path / "log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pool_net.root), *sys.path]),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-m", "mox_core.cli", "train", "--net", "fake_nan_at_3", "--data",
         shapes, "--log-dir", str(log_dir), "--max-steps", "20", "--save-model-steps", "1"],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2, result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith("mox: error: training stopped at global step 3: the loss is nan "
                           "(the last finite value was ")
    assert ", at global step 2). Lower the learning rate" in line
    assert "Traceback" not in result.stderr
    # the newest checkpoint is the finite model going into step 3; none after it
    newest = tf.train.latest_checkpoint(str(log_dir))
    assert os.path.basename(newest) == "model.ckpt-3"
    assert math.isfinite(tf.train.load_variable(newest, "FakePool/weights").sum())


def test_get_model_fn_refuses_a_weight_decay_that_is_not_finite(pool_net):
    for value in (math.nan, math.inf):
        with pytest.raises(ValueError, match="weight_decay must be a number >= 0, got"):
            mox.get_model_fn("fake_pool", mox.ModeKeys.TRAIN, 2, weight_decay=value)
