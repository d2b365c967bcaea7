"""Session hooks: feeding placeholders, and evaluating on inter-mode data while training."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from executor_models import dataset_input_fn, linear_model_fn, read_variable

import mox_core as mox


def test_feed_session_run_hook_feeds_a_placeholder_every_step(tmp_path):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        scale = tf.placeholder(tf.float32, shape=())
        return mox.ModelSpec(loss=spec.loss * scale, log_info={"scale": scale},
                             hooks=[mox.FeedSessionRunHook({scale: 0.0})])

    mox.run(input_fn=dataset_input_fn(epochs=10), model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("sgd", 0.5), run_mode=mox.ModeKeys.TRAIN,
            batch_size=16, log_dir=str(tmp_path), max_number_of_steps=5)
    # a zero loss scale fed every step: the weights never moved
    np.testing.assert_array_equal(read_variable(tmp_path), np.zeros((4, 1), np.float32))


def test_a_custom_hook_implements_only_what_it_does(tmp_path):
    """support_aggregation, support_sync_workers and run_inter_mode default to False."""

    class StepCounter(mox.AggregativeSessionRunHook):
        steps = 0

        def after_run(self, run_context, run_values):
            StepCounter.steps += 1

    hook = StepCounter()
    assert (hook.support_aggregation(), hook.support_sync_workers(),
            hook.run_inter_mode()) == (False, False, False)

    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        return mox.ModelSpec(loss=spec.loss, log_info=spec.log_info, hooks=[StepCounter()])

    mox.run(input_fn=dataset_input_fn(epochs=10), model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("sgd", 0.1), run_mode=mox.ModeKeys.TRAIN,
            batch_size=16, log_dir=str(tmp_path), max_number_of_steps=7)
    assert StepCounter.steps == 7


def train_with_hook(tmp_path, make_hook, learning_rate=0.1, steps=40):
    hooks = []

    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        lr = tf.get_variable("lr", initializer=learning_rate, trainable=False)
        hook = make_hook(spec, lr)
        hooks.append((mode, hook))
        spec.hooks = [hook]
        return spec

    def optimizer_fn():  # the optimizer reads the model's "lr" variable, which hooks may change
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            return tf.train.GradientDescentOptimizer(tf.get_variable("lr"))

    mox.run(input_fn=dataset_input_fn(epochs=1000), model_fn=model_fn,
            optimizer_fn=optimizer_fn, run_mode=mox.ModeKeys.TRAIN,
            inter_mode=mox.ModeKeys.EVAL, batch_size=16, log_dir=str(tmp_path),
            max_number_of_steps=steps, log_every_n_steps=100)
    return hooks


def evaluation_lines(caplog, prefix):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix + " step")]


def test_early_stopping_stops_when_the_monitor_stalls(tmp_path, caplog):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        hooks = train_with_hook(
            tmp_path,
            lambda spec, lr: mox.EarlyStoppingHook(
                monitor_info={"loss": spec.loss}, monitor="loss", batch_size=16,
                samples_in_train=64, samples_in_eval=64, patience=2, min_delta=0.01),
            learning_rate=0.0)
    # 64 samples / 16 = 4 steps an epoch; the loss never changes, so the second and third
    # evaluations do not improve and training stops after the third, at local step 11.
    lines = evaluation_lines(caplog, "[EarlyStopping]")
    assert [line.split()[2] for line in lines] == ["3", "7", "11"]
    assert lines[0].startswith("[EarlyStopping] step: 3 loss: ")
    assert read_variable(tmp_path, "global_step") == 12
    modes = [mode for mode, _ in hooks]
    assert modes == [mox.ModeKeys.TRAIN, mox.ModeKeys.EVAL]  # the inter-mode instance ran
    inter_hook = hooks[1][1]
    assert inter_hook.stopped_at == 11 and len(inter_hook.history) == 3


def test_early_stopping_lets_an_improving_model_train_to_the_end(tmp_path):
    hooks = train_with_hook(
        tmp_path,
        lambda spec, lr: mox.EarlyStoppingHook(
            monitor_info={"loss": spec.loss}, monitor="loss", batch_size=16,
            samples_in_train=64, samples_in_eval=64, patience=1, min_delta=0.0),
        learning_rate=0.05, steps=24)
    inter_hook = hooks[1][1]
    losses = [h["loss"] for h in inter_hook.history]
    assert len(losses) == 6 and losses == sorted(losses, reverse=True)
    assert inter_hook.stopped_at is None
    assert read_variable(tmp_path, "global_step") == 24


def test_each_evaluation_reads_the_whole_eval_data_once(tmp_path):
    hooks = train_with_hook(
        tmp_path,
        lambda spec, lr: mox.LogEvaluationMetricHook(
            monitor_info={"loss": spec.loss}, batch_size=16, samples_in_train=64,
            samples_in_eval=64, evaluate_every_n_epochs=2, prefix="[Eval]"),
        learning_rate=0.0, steps=16)
    history = hooks[1][1].history
    assert len(history) == 2  # every 2 epochs of 4 steps in 16 steps
    # no training happened (lr 0), so both passes over the same data give the same mean
    assert history[0]["loss"] == pytest.approx(history[1]["loss"], rel=1e-6)


def test_plateau_hook_lowers_the_learning_rate_then_stops(tmp_path, caplog):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        train_with_hook(
            tmp_path,
            lambda spec, lr: mox.PlateauLREarlyStoppingHook(
                monitor_info={"loss": spec.loss}, monitor="loss", learning_rate=lr,
                batch_size=16, samples_in_train=64, samples_in_eval=64, patience=1,
                min_delta=0.01, lr_decay_factor=0.5, max_lr_decays=2),
            learning_rate=1e-6, steps=100)
    drops = [r.getMessage() for r in caplog.records if "learning rate now" in r.getMessage()]
    assert len(drops) == 2
    assert read_variable(tmp_path, "lr") == pytest.approx(2.5e-7)
    assert read_variable(tmp_path, "global_step") == 16  # 4th evaluation, at local step 15


def test_inter_mode_keeps_local_variables_and_tables_initialized(tmp_path, caplog):
    # tf.metrics make local variables and a vocabulary makes a lookup table: both must be
    # initialised next to the inter-mode iterator, not replaced by it.
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(["w"]), tf.constant([2.0])), -1.0)
        _, mean_loss = tf.metrics.mean(spec.loss)
        spec.log_info.update({"mean_loss": mean_loss, "looked_up": table.lookup(tf.constant("w"))})
        spec.hooks = [mox.LogEvaluationMetricHook(
            monitor_info={"loss": spec.loss}, batch_size=16, samples_in_train=64,
            samples_in_eval=64, evaluate_every_n_epochs=1, prefix="[VAL]")]
        return spec

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        result = mox.run(input_fn=dataset_input_fn(epochs=1000), model_fn=model_fn,
                         optimizer_fn=mox.get_optimizer_fn("sgd", 0.1),
                         run_mode=mox.ModeKeys.TRAIN, inter_mode=mox.ModeKeys.EVAL,
                         batch_size=16, log_dir=str(tmp_path), max_number_of_steps=8)
    assert result["looked_up"] == 2.0 and np.isfinite(result["mean_loss"])
    assert len(evaluation_lines(caplog, "[VAL]")) == 2


def test_a_model_fed_by_a_hook_trains_on_a_scalar_stand_in_input(tmp_path):
    # MoXing's API manual's FeedSessionRunHook example: input_fn returns [tf.constant(0.0)] and the
    # model reads placeholders that the hook feeds every step.
    def input_fn(run_mode, **kwargs):
        return [tf.constant(0.0)]

    def model_fn(inputs, mode, **kwargs):
        x = tf.placeholder(tf.float32, [8, 4])
        w = tf.get_variable("w", [4, 1], initializer=tf.zeros_initializer())
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
        feed = {x: np.ones([8, 4], np.float32)}
        return mox.ModelSpec(loss=loss, log_info={"loss": loss},
                             hooks=[mox.FeedSessionRunHook(feed_dict=feed)])

    result = mox.run(input_fn=input_fn, model_fn=model_fn,
                     optimizer_fn=mox.get_optimizer_fn("sgd", learning_rate=0.05),
                     run_mode=mox.ModeKeys.TRAIN, auto_batch=False, batch_size=8,
                     log_dir=str(tmp_path), max_number_of_steps=20, log_every_n_steps=19)
    assert result["loss"] < 0.1
    np.testing.assert_allclose(read_variable(tmp_path), np.full((4, 1), 0.25), atol=0.05)


SESSION_HOOK_PLUGIN = """
    import tensorflow as tf
    from mox_core import hookimpl

    #: (the run's configuration, the hook counting its steps) of each run
    RUNS = []

    class StepCounter(tf.compat.v1.train.SessionRunHook):
        steps = 0

        def after_run(self, run_context, run_values):
            self.steps += 1

    @hookimpl
    def mox_session_hooks(config):
        counter = StepCounter()
        RUNS.append((config, counter))
        return [counter]
"""


def test_plugin_session_hooks_run_in_train_and_predict_sessions_not_in_export(fake_dists,
                                                                            tmp_path):
    import dataclasses

    fake_dists.add("fake-counter", {"fake_counter": SESSION_HOOK_PLUGIN}, {"c": "fake_counter"})
    common = dict(input_fn=dataset_input_fn(), model_fn=linear_model_fn, batch_size=16)
    mox.run(**common, optimizer_fn=mox.get_optimizer_fn("sgd", 0.1),
            run_mode=mox.ModeKeys.TRAIN, log_dir=str(tmp_path), max_number_of_steps=3)
    outputs = []
    mox.run(**common, run_mode=mox.ModeKeys.PREDICT, checkpoint_path=str(tmp_path),
            output_fn=outputs.extend)
    mox.run(**common, run_mode=mox.ModeKeys.EXPORT, log_dir=str(tmp_path))
    import fake_counter

    (train, train_counter), (predict, predict_counter) = fake_counter.RUNS
    assert (train.mode, train.max_steps, train.is_chief, train.cluster) == ("TRAIN", 3, True, None)
    assert train_counter.steps == 3
    assert predict.mode == "PREDICT" and predict.checkpoint_path.endswith("model.ckpt-3")
    assert predict_counter.steps == 4 and len(outputs) == 4  # 64 samples, 16 a step
    with pytest.raises(dataclasses.FrozenInstanceError):
        train.max_steps = 10
