"""mox.run in TRAIN mode: steps, logging, checkpoints, resume, warm start, summaries."""

from __future__ import annotations

import glob
import logging
import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from executor_models import (
    TRUE_W,
    X,
    Y,
    dataset_input_fn,
    linear_model_fn,
    read_variable,
    sgd,
)

import mox_core as mox


def train(log_dir, steps=20, **kwargs):
    options = dict(input_fn=dataset_input_fn(epochs=100), model_fn=linear_model_fn,
                   optimizer_fn=sgd(), run_mode=mox.ModeKeys.TRAIN, batch_size=16,
                   log_dir=str(log_dir) if log_dir else None, max_number_of_steps=steps)
    options.update(kwargs)
    return mox.run(**options)


def test_training_fits_the_data_and_checkpoints_the_last_step(tmp_path):
    result = train(tmp_path, steps=60)
    assert result["loss"] < 0.05
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-60")
    np.testing.assert_allclose(read_variable(tmp_path), TRUE_W, atol=0.1)


def test_the_seed_log_line_every_n_steps(tmp_path, caplog):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        train(tmp_path, steps=25, log_every_n_steps=10)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step: ")]
    assert len(lines) == 3
    pattern = r"step: (\d+)\(global step: (\d+)\)\tsample/sec: \d+\.\d{3}\tloss: \d+\.\d{3}$"
    steps = [re.match(pattern, line).groups() for line in lines]
    assert steps == [("0", "0"), ("10", "10"), ("20", "20")]


def test_resuming_continues_from_the_newest_checkpoint_in_log_dir(tmp_path, caplog):
    train(tmp_path, steps=10)
    first = read_variable(tmp_path)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        train(tmp_path, steps=15, log_every_n_steps=1)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step: ")]
    assert lines[0].startswith("step: 0(global step: 10)")
    assert lines[-1].startswith("step: 4(global step: 14)")
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-15")
    assert not np.allclose(read_variable(tmp_path), first)


def test_a_run_already_at_max_steps_says_so_and_trains_nothing(tmp_path, caplog):
    train(tmp_path, steps=10)
    before = sorted(os.listdir(tmp_path))
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        assert train(tmp_path, steps=10) == {}
    message = next(r.getMessage() for r in caplog.records if "Nothing to train" in r.getMessage())
    assert "global step 10, which has reached max_number_of_steps=10" in message
    assert sorted(os.listdir(tmp_path)) == before


def test_running_out_of_input_ends_the_run_normally_with_a_final_checkpoint(tmp_path):
    # 64 examples, 2 epochs, batches of 16: 8 steps, then the input ends.
    train(tmp_path, steps=0, input_fn=dataset_input_fn(epochs=2))
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-8")


def test_save_model_steps_writes_intermediate_checkpoints(tmp_path):
    train(tmp_path, steps=12, save_model_steps=5)
    state = tf.train.get_checkpoint_state(str(tmp_path))
    steps = sorted(int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths)
    assert {5, 10, 12} <= set(steps)


def test_summaries_hold_every_log_info_scalar(tmp_path):
    train(tmp_path, steps=10, save_summary_steps=2)
    tags = set()
    for path in glob.glob(str(tmp_path / "events.out.tfevents.*")):
        for event in tf.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    assert any(tag.endswith("loss") for tag in tags)


def test_warm_start_skips_excluded_variables(tmp_path):
    pretrained = tmp_path / "pretrained"
    train(pretrained, steps=30)

    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        bias = tf.get_variable("logits_bias", [], initializer=tf.constant_initializer(7.0))
        spec.log_info["bias"] = bias
        spec.loss = spec.loss + 0.0 * bias
        return spec

    mox.set_flag("checkpoint_exclude_patterns", "logits")
    try:
        train(tmp_path / "finetune", steps=1, model_fn=model_fn, checkpoint_path=str(pretrained),
              optimizer_fn=sgd(0.0))
    finally:
        mox.set_flag("checkpoint_exclude_patterns", "")
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path / "finetune")))
    np.testing.assert_allclose(reader.get_tensor("w"), read_variable(pretrained))
    assert reader.get_tensor("logits_bias") == 7.0
    assert reader.get_tensor("global_step") == 1  # the global step is never warm-started


def test_warm_start_with_a_shape_mismatch_names_the_variable(tmp_path):
    pretrained = tmp_path / "pretrained"
    train(pretrained, steps=1)

    def wider(inputs, mode):
        x, y = inputs
        w = tf.get_variable("w", [4, 2])
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)[:, :1] - y))
        return mox.ModelSpec(loss=loss)

    with pytest.raises(ValueError, match=r"cannot warm-start variable 'w' .* model's shape is "
                                         r"\[4, 2\] but the checkpoint's is \[4, 1\]"):
        train(tmp_path / "b", steps=1, model_fn=wider, checkpoint_path=str(pretrained))


@pytest.mark.parametrize("style", ["mode", "run_mode_kwargs", "kwargs_only_mode"])
def test_user_functions_may_name_the_mode_either_way(tmp_path, style):
    seen = []

    if style == "mode":
        def input_fn(mode):
            seen.append(mode)
            return tf.data.Dataset.from_tensor_slices((X, Y)).repeat()

        def model_fn(inputs, mode):
            return linear_model_fn(inputs, mode)
    elif style == "run_mode_kwargs":
        def input_fn(run_mode, **kwargs):
            seen.append(run_mode)
            return tf.data.Dataset.from_tensor_slices((X, Y)).repeat()

        def model_fn(inputs, run_mode, **kwargs):
            assert isinstance(inputs, list)
            return linear_model_fn(inputs, run_mode)
    else:
        def input_fn(*args, **kwargs):
            seen.append(args[0])
            return tf.data.Dataset.from_tensor_slices((X, Y)).repeat()

        def model_fn(inputs, *args, **kwargs):
            return linear_model_fn(inputs, args[0])

    train(tmp_path, steps=2, input_fn=input_fn, model_fn=model_fn)
    assert seen == ["TRAIN"]


def test_input_fn_may_build_its_dataset_with_the_tf2_api(tmp_path):
    import tensorflow as tf2  # scripts often mix `import tensorflow as tf` into compat.v1 code

    def input_fn(mode):
        return tf2.data.Dataset.from_tensor_slices((X, Y)).repeat()

    result = train(tmp_path, steps=40, input_fn=input_fn)
    assert result["loss"] < 0.5


def test_graph_tensors_of_single_examples_are_auto_batched(tmp_path):
    def input_fn(mode):
        x, y = tf.data.make_one_shot_iterator(
            tf.data.Dataset.from_tensor_slices((X, Y)).repeat()).get_next()
        return x, y

    result = train(tmp_path, steps=40, input_fn=input_fn)
    assert result["loss"] < 0.5


def test_batches_without_auto_batch_and_a_single_input_tensor(tmp_path):
    data = np.concatenate([X, Y], axis=1)

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices(data).batch(8).repeat()

    def model_fn(inputs, mode):
        assert len(inputs) == 1
        xy = inputs[0]
        return linear_model_fn([xy[:, :4], xy[:, 4:]], mode)

    result = train(tmp_path, steps=40, input_fn=input_fn, model_fn=model_fn, auto_batch=False,
                   batch_size=None)
    assert result["loss"] < 0.5


def test_training_without_log_dir_keeps_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = train(None, steps=3)
    assert "loss" in result
    assert os.listdir(tmp_path) == []


def test_fetch_strategy_fn_chooses_the_logged_steps(tmp_path, caplog):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        train(tmp_path, steps=8, fetch_strategy_fn=lambda step: step in (1, 6))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step: ")]
    assert [line.split("(")[0] for line in lines] == ["step: 1", "step: 6"]
