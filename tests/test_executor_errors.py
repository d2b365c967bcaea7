"""Bad input to mox.run: each a clear error before any session starts."""

from __future__ import annotations

import pytest
import tensorflow.compat.v1 as tf
from executor_models import dataset_input_fn, linear_model_fn, sgd

import mox_core as mox


def run(**kwargs):
    options = dict(input_fn=dataset_input_fn(epochs=10), model_fn=linear_model_fn,
                   optimizer_fn=sgd(), run_mode=mox.ModeKeys.TRAIN, batch_size=8,
                   max_number_of_steps=2)
    options.update(kwargs)
    return mox.run(**options)


def test_invalid_run_mode():
    with pytest.raises(ValueError, match=r"run_mode must be one of TRAIN, EVAL, PREDICT, "
                                         r"EXPORT \(see mox.ModeKeys\), got 'invalid'"):
        run(run_mode="invalid")


def test_model_fn_must_return_a_model_spec():
    with pytest.raises(TypeError, match="model_fn must return a mox.ModelSpec, got dict"):
        run(model_fn=lambda inputs, mode: {"loss": 1.0})


def test_train_needs_a_loss_and_it_must_be_a_scalar():
    def no_loss(inputs, mode):
        return mox.ModelSpec(log_info={"x": tf.reduce_mean(inputs[0])})

    with pytest.raises(ValueError, match=r"must return ModelSpec\(loss=...\) in TRAIN mode"):
        run(model_fn=no_loss)

    def vector_loss(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        return mox.ModelSpec(loss=tf.square(inputs[1] - tf.matmul(inputs[0], tf.ones([4, 1])))
                             + 0.0 * spec.loss)

    with pytest.raises(ValueError, match=r"ModelSpec loss must be a scalar \(rank 0\) tensor, "
                                         r"got shape \(None, 1\)"):
        run(model_fn=vector_loss)


def test_log_info_values_must_be_scalar_tensors():
    def bad_log(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.log_info["x"] = inputs[0]
        return spec

    with pytest.raises(ValueError, match=r"ModelSpec log_info\['x'\] must be a scalar"):
        run(model_fn=bad_log)

    def python_number(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.log_info["lr"] = 0.1
        return spec

    with pytest.raises(ValueError, match=r"log_info\['lr'\] must be a scalar tensor, got float"):
        run(model_fn=python_number)


def test_an_optimizer_instance_where_a_function_is_expected():
    with pytest.raises(TypeError, match="optimizer_fn must be a function that returns an "
                                        "optimizer, not a MomentumOptimizer instance"):
        run(optimizer_fn=tf.train.MomentumOptimizer(0.1, 0.9))


def test_train_without_optimizer_fn():
    with pytest.raises(ValueError, match="TRAIN mode needs optimizer_fn"):
        run(optimizer_fn=None)


def test_an_unwritable_log_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=r"log_dir '.*file/logs' is not writable"):
        run(log_dir=str(blocker / "logs"))


def test_input_fn_returning_something_else():
    with pytest.raises(TypeError, match="input 0 from input_fn is of type int; input_fn must "
                                        "return tensors"):
        run(input_fn=lambda mode: [[1, 2, 3]], batch_size=None, auto_batch=False)
    with pytest.raises(TypeError, match="input_fn returned None"):
        run(input_fn=lambda mode: None)


def test_functions_that_cannot_take_the_mode():
    with pytest.raises(TypeError, match=r"input_fn 'no_mode' must accept 1 positional "
                                        r"argument\(s\)"):
        def no_mode():
            return None

        run(input_fn=no_mode)


def test_eval_needs_log_info(tmp_path):
    run(log_dir=str(tmp_path))

    def no_log(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.log_info = {}
        return spec

    with pytest.raises(ValueError, match=r"ModelSpec\(log_info=\{name: scalar tensor\}\) in "
                                         r"EVAL mode"):
        mox.run(input_fn=dataset_input_fn(), model_fn=no_log, run_mode=mox.ModeKeys.EVAL,
                batch_size=8, checkpoint_path=str(tmp_path))


def test_model_fn_calls_that_create_different_variables_are_refused():
    calls = []

    def changing(inputs, mode):
        x, y = inputs
        calls.append(mode)
        w = tf.Variable(tf.zeros([4, 1]), name=f"w{len(calls)}")  # a new name on every call
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    mox.set_flag("num_gpus", 2)
    try:
        with pytest.raises(ValueError, match=r"model_fn created new variables when called again "
                                             r"for another device or for inter_mode: w2\. Every "
                                             r"call must create the same variables"):
            run(model_fn=changing)
    finally:
        mox.set_flag("num_gpus", 1)


def test_inter_mode_hooks_need_inter_mode():
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.hooks = [mox.EarlyStoppingHook({"loss": spec.loss}, "loss", batch_size=8,
                                            samples_in_train=64, samples_in_eval=64)]
        return spec

    with pytest.raises(ValueError, match="EarlyStoppingHook evaluate on inter-mode data: pass "
                                         "inter_mode=mox.ModeKeys.EVAL"):
        run(model_fn=model_fn)


def test_hooks_must_be_aggregative_session_run_hooks():
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.hooks = [tf.train.StepCounterHook()]
        return spec

    with pytest.raises(ValueError, match="hooks must be mox.AggregativeSessionRunHook "
                                         "instances, got StepCounterHook"):
        run(model_fn=model_fn)


def test_step_counts_take_whole_floats_from_python_2_divisions_and_refuse_fractions(tmp_path):
    # NUM_SAMPLES / BATCH_SIZE * EPOCHS was an int on Python 2; on Python 3 it is 30.0
    run(log_dir=str(tmp_path), max_number_of_steps=6 / 3.0)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-2")
    with pytest.raises(ValueError, match=r"max_number_of_steps must be an int >= 0, got 2.5"):
        run(max_number_of_steps=2.5)
