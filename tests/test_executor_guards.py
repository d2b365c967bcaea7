"""A training run stops at a loss that is NaN or infinite, naming the step, before it
checkpoints or exports the broken model; numbers that would break it are refused up front."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from executor_models import dataset_input_fn, linear_model_fn, sgd

import mox_core as mox
from mox_core.executor.guards import TrainingStopped
from mox_core.optimizer.learning_rate_scheduler import parse_lr_strategy


def loss_turning_nan_at(step: int, poison_gradients: bool = False):
    """The linear model whose loss is NaN from global step ``step`` on. Its weights stay finite
    (the NaN is added beside the gradient), unless ``poison_gradients``: then ``tf.where``'s
    NaN branch makes the very first update NaN while every loss up to ``step`` is finite."""

    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        late = tf.train.get_global_step() >= step
        if poison_gradients:
            loss = tf.where(late, spec.loss * math.nan, spec.loss)
        else:
            loss = spec.loss + tf.stop_gradient(tf.where(late, math.nan, 0.0))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    return model_fn


def train(log_dir, model_fn, learning_rate=0.01, steps=20, **kwargs):
    return mox.run(input_fn=dataset_input_fn(epochs=100), model_fn=model_fn,
                   optimizer_fn=sgd(learning_rate), run_mode=mox.ModeKeys.TRAIN, batch_size=4,
                   log_dir=str(log_dir), max_number_of_steps=steps, log_every_n_steps=1,
                   **kwargs)


def checkpoint_steps(log_dir) -> list[int]:
    state = tf.train.get_checkpoint_state(str(log_dir))
    return [int(path.rsplit("-", 1)[1]) for path in state.all_model_checkpoint_paths]


def test_a_nan_loss_stops_the_run_naming_the_step_before_it_is_saved_or_exported(tmp_path):
    with pytest.raises(TrainingStopped) as stopped:
        train(tmp_path, loss_turning_nan_at(7), save_model_steps=1,
              export_model=mox.ExportKeys.TF_SERVING)
    message = str(stopped.value)
    assert stopped.value.step == 7
    assert message.startswith("training stopped at global step 7: the loss is nan (the last "
                              "finite value was ")
    assert ", at global step 6). Lower the learning rate" in message
    # every step up to the NaN one was saved (the model going into step 7 is finite), not it
    assert checkpoint_steps(tmp_path)[-1] == 7
    assert np.isfinite(tf.train.load_variable(str(tmp_path), "w")).all()
    assert not os.path.exists(tmp_path / "model")  # no export


def test_an_update_that_makes_the_weights_nan_is_never_checkpointed(tmp_path):
    with pytest.raises(TrainingStopped) as stopped:
        train(tmp_path, loss_turning_nan_at(5, poison_gradients=True), save_model_steps=1)
    assert str(stopped.value).startswith(
        "training stopped at global step 1: the model's variables w hold NaN or infinite values")
    assert checkpoint_steps(tmp_path) == [0]


def test_a_learning_rate_far_too_large_diverges_into_an_error_not_a_nan_model(tmp_path):
    with pytest.raises(RuntimeError, match=r"training stopped at global step \d+: the loss is "
                                           r"(nan|inf)"):
        train(tmp_path, linear_model_fn, learning_rate=1e10, steps=200)
    assert checkpoint_steps(tmp_path) == [0]  # the first one; no final checkpoint of NaNs


def test_only_the_loss_counts_a_nan_metric_in_log_info_is_shown_not_stopped(tmp_path):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        empty = tf.reduce_mean(tf.zeros([0]))  # the mean of nothing: NaN, on purpose
        return mox.ModelSpec(loss=spec.loss, log_info={"loss": spec.loss, "empty_class": empty})

    metrics = train(tmp_path, model_fn, steps=5)
    assert math.isnan(metrics["empty_class"]) and math.isfinite(metrics["loss"])
    assert checkpoint_steps(tmp_path)[-1] == 5


def test_each_of_several_losses_is_watched_and_named(tmp_path):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        with tf.variable_scope("other"):
            b = tf.get_variable("b", [], initializer=tf.zeros_initializer())
        late = tf.train.get_global_step() >= 3
        second = tf.square(b - 1.0) + tf.stop_gradient(tf.where(late, math.inf, 0.0))
        return mox.ModelSpec(loss=[spec.loss, second], log_info={"loss": spec.loss},
                             var_scopes=[["w"], ["other"]])

    with pytest.raises(TrainingStopped, match="at global step 3: loss 2 of 2 is inf"):
        train(tmp_path, model_fn)


@pytest.mark.parametrize("rate", [math.nan, math.inf, -math.inf, -0.1, np.float32("nan")])
def test_get_optimizer_fn_refuses_a_learning_rate_that_is_not_finite_or_negative(rate):
    with pytest.raises(ValueError, match="optimizer 'sgd': learning_rate must be a finite "
                                         "number >= 0, got "):
        mox.get_optimizer_fn("sgd", rate)


def test_a_zero_learning_rate_is_a_frozen_model_and_allowed(tmp_path):
    train(tmp_path, linear_model_fn, learning_rate=0.0, steps=3)
    assert not tf.train.load_variable(str(tmp_path), "w").any()


def test_an_lr_strategy_number_that_overflows_is_named():
    with pytest.raises(ValueError, match=r"lr_strategy segment '5:1e999': a number too large "
                                         r"to be finite"):
        parse_lr_strategy("1:0.1,5:1e999")


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_the_lars_wrapper_refuses_a_weight_decay_that_is_not_finite(value):
    with pytest.raises(ValueError, match="optimizer wrapper 'lars': weight_decay must be a "
                                         "number >= 0, got"):
        mox.get_optimizer_wrapper_fn("lars", sgd(), ratio=0.001, weight_decay=value)
