"""Several devices (num_gpus > 1): one tower per device, tested on logical CPU devices."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from executor_models import X, dataset_input_fn, linear_model_fn, read_variable, sgd

import mox_core as mox


@pytest.fixture
def flags():
    saved = {name: mox.get_flag(name) for name in ("num_gpus", "log_first_clone")}
    yield mox.set_flag
    for name, value in saved.items():
        mox.set_flag(name, value)


def train(log_dir, batch_size, steps=6, model_fn=linear_model_fn):
    return mox.run(input_fn=dataset_input_fn(epochs=100), model_fn=model_fn, optimizer_fn=sgd(),
                   run_mode=mox.ModeKeys.TRAIN, batch_size=batch_size, log_dir=str(log_dir),
                   max_number_of_steps=steps)


def test_two_towers_with_half_batches_train_like_one_tower_with_the_whole_batch(tmp_path, flags):
    train(tmp_path / "one", batch_size=16)
    flags("num_gpus", 2)
    train(tmp_path / "two", batch_size=8)  # batch_size is per device
    np.testing.assert_allclose(read_variable(tmp_path / "two"), read_variable(tmp_path / "one"),
                               rtol=1e-5)


def test_get_collection_returns_the_current_towers_own_items(tmp_path, flags):
    seen = []

    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        tf.add_to_collection("per_tower_items", tf.identity(inputs[0], name="mine"))
        seen.append([t.name for t in mox.get_collection("per_tower_items")])
        seen.append([v.op.name for v in mox.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)])
        return spec

    flags("num_gpus", 2)
    train(tmp_path, batch_size=4, steps=1, model_fn=model_fn)
    assert seen[0] == ["tower_0/mine:0"]
    assert seen[2] == ["tower_1/mine:0"]
    assert "w" in seen[1] and seen[3] == seen[1]  # variables are shared, so every tower sees them


def test_log_first_clone_chooses_between_tower_0_and_the_mean(tmp_path, flags):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.log_info["first_x"] = inputs[0][0, 0]
        return spec

    flags("num_gpus", 2)
    first = train(tmp_path / "a", batch_size=2, steps=1, model_fn=model_fn)
    assert first["first_x"] == pytest.approx(X[0, 0])
    flags("log_first_clone", False)
    mean = train(tmp_path / "b", batch_size=2, steps=1, model_fn=model_fn)
    assert mean["first_x"] == pytest.approx((X[0, 0] + X[2, 0]) / 2)


def test_output_fn_receives_step_major_tower_minor_dicts(tmp_path, flags):
    train(tmp_path, batch_size=16, steps=3)
    flags("num_gpus", 2)
    calls = []
    mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn, output_fn=calls.append,
            run_mode=mox.ModeKeys.PREDICT, batch_size=8, checkpoint_path=str(tmp_path),
            output_every_n_steps=2)
    assert [len(call) for call in calls] == [4, 4]  # (step-0,GPU-0), (step-0,GPU-1), ...
    predictions = np.concatenate([item["prediction"] for call in calls for item in call])
    np.testing.assert_allclose(predictions, X @ read_variable(tmp_path), rtol=1e-5)


def test_eval_over_towers_averages_over_all_the_data(tmp_path, flags):
    train(tmp_path, batch_size=16, steps=3)
    w = read_variable(tmp_path)
    flags("num_gpus", 2)
    flags("log_first_clone", False)
    result = mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn,
                     run_mode=mox.ModeKeys.EVAL, batch_size=8, checkpoint_path=str(tmp_path))
    expected = float(np.mean(np.square(X @ w - X @ np.array([[1.0], [2.0], [-1.0], [0.5]]))))
    assert result["loss"] == pytest.approx(expected, rel=1e-4)


def test_asking_for_more_gpus_than_exist_on_a_gpu_machine_is_an_error(flags, monkeypatch):
    import tensorflow as tf2

    # A machine with one GPU, which this CPU machine cannot be: TensorFlow's device listing is
    # the one thing stood in for. (Without any GPU, towers run on logical CPU devices instead.)
    gpu = tf2.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")
    monkeypatch.setattr(tf2.config, "list_physical_devices",
                        lambda kind=None: [gpu] if kind == "GPU" else [])
    flags("num_gpus", 64)
    with pytest.raises(ValueError, match=r"flag num_gpus is 64 but only 1 GPU\(s\) are visible; "
                                         r"lower num_gpus or set clone_on_cpu"):
        train(None, batch_size=2, steps=1)
