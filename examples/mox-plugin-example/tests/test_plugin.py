"""The example plugin's own tests: mox_core.testing checks each registration as mox uses it;
its command and its session hook work through mox."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf

import mox_core as mox
from mox_core import testing
from mox_core.demo import shape_images, write_shapes_dataset

DISTRIBUTION = "mox-plugin-example"


def test_the_plugin_is_found_with_its_name_version_and_registrations():
    info = testing.plugin_info(DISTRIBUTION)
    assert (info.name, info.module, info.version) == ("example", "mox_plugin_example.plugin",
                                                      "0.1.0")
    registered = testing.check_plugin_registrations(DISTRIBUTION, expected={
        "networks": ["tiny_convnet"],
        "preprocessing": ["tiny_preprocessing"],
        "optimizers": ["nesterov"],
        "flags": ["step_times"],
    })
    assert registered["networks"] == ["tiny_convnet"]


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "networks"))
def test_network_builds_trains_one_step_and_exports(name, tmp_path):
    result = testing.check_network(name, tmp_dir=tmp_path, distribution=DISTRIBUTION,
                                   end_points=["conv1", "conv2", "Logits", "Predictions"])
    assert result.logits.shape == (2, 5)
    assert "TinyConvNet/conv1/BatchNorm/moving_mean" in result.variables
    assert (tmp_path / name / "1" / "saved_model.pb").is_file()


def test_network_takes_its_own_arguments_and_computes_alike_in_nchw():
    result = testing.check_network("tiny_convnet", image_size=16, train=False,
                                   model_kwargs={"width": 4})
    assert "TinyConvNet/conv2/weights" in result.variables
    testing.check_data_formats("tiny_convnet", image_size=16, width=4)
    with pytest.raises(TypeError, match="network 'tiny_convnet' takes no argument 'depth'"):
        mox.get_model_fn("tiny_convnet", "TRAIN", 10, depth=3)


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "preprocessing"))
def test_preprocessing_gives_the_network_input_in_train_and_eval(name):
    outputs = testing.check_preprocessing(name, output_size=(20, 24), input_shape=(30, 40, 3))
    for image in outputs.values():
        assert image.min() >= -1.0 and image.max() <= 1.0
    # The network names the pipeline, so the network's name selects it too.
    testing.check_preprocessing("tiny_convnet", output_size=32, modes=["EVAL"])


def test_preprocessing_refuses_a_missing_size_naming_itself():
    with pytest.raises(ValueError, match="tiny_preprocessing needs output_height"):
        mox.get_data_augmentation_fn("tiny_preprocessing", "TRAIN")


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "optimizers"))
def test_optimizer_applies_an_update(name):
    testing.check_optimizer(name, 0.1)
    testing.check_optimizer(name, 0.1, momentum=0.5, steps=3)


def test_optimizer_arguments_are_checked_when_it_is_chosen():
    with pytest.raises(ValueError, match="optimizer 'nesterov' got an unexpected argument 'mom'"):
        mox.get_optimizer_fn("nesterov", 0.1, mom=0.9)


def mox_command(*args, check=True) -> subprocess.CompletedProcess:
    """The installed ``mox`` console script's code (``mox_core.cli``), run as a process."""
    result = subprocess.run([sys.executable, "-m", "mox_core.cli", *map(str, args)],
                            capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def read_step_times(log_dir) -> list[dict[str, str]]:
    with open(log_dir / "step_times.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_step_timer_sees_every_step_of_a_run_and_only_when_asked(tmp_path):
    images, labels = shape_images(8, size=32)

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices((images.astype("float32") / 255.0,
                                                   labels)).repeat()

    def model_fn(inputs, mode):
        images, labels = inputs
        logits, _ = mox.get_model_fn("tiny_convnet", mode, 5, width=4)(images)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    def train(log_dir, steps):
        mox.run(input_fn=input_fn, model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn(
                "nesterov", 0.01), run_mode=mox.ModeKeys.TRAIN, batch_size=4,
                log_dir=str(log_dir), max_number_of_steps=steps)

    train(tmp_path / "off", 3)
    assert not (tmp_path / "off" / "step_times.csv").exists()  # the flag is off by default
    mox.set_flag("step_times", True)
    try:
        train(tmp_path / "on", 5)
        rows = read_step_times(tmp_path / "on")
        assert [row["step"] for row in rows] == ["1", "2", "3", "4", "5"]
        assert all(float(row["seconds"]) > 0 for row in rows)
        train(tmp_path / "on", 7)  # resumed from step 5: the steps it adds
        assert [row["step"] for row in read_step_times(tmp_path / "on")] == ["6", "7"]
    finally:
        mox.set_flag("step_times", False)


def test_mox_trains_with_the_step_timer_and_its_step_times_command_summarizes_it(tmp_path):
    data = write_shapes_dataset(str(tmp_path / "data"), images_per_class=4)
    log_dir = tmp_path / "log"
    mox_command("train", "--net", "tiny_convnet", "--data", data, "--log-dir", log_dir,
                "--max-steps", 4, "--batch-size", 4, "--quiet", "--step_times")
    assert [row["step"] for row in read_step_times(log_dir)] == ["1", "2", "3", "4"]
    result = mox_command("step-times", log_dir)
    assert result.stdout.startswith("4 steps (1-4): mean ")
    assert "slowest step " in result.stdout
    result = mox_command("step-times", tmp_path / "data", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"mox: error: {tmp_path / 'data' / 'step_times.csv'} does "
                                     f"not exist: train with --step_times to record the step "
                                     f"times of a run")
    assert "step-times" in mox_command("--help").stdout
