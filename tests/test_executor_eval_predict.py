"""mox.run in EVAL and PREDICT mode: restoring, averaging over the data, output_fn."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from executor_models import X, Y, dataset_input_fn, linear_model_fn, read_variable, sgd

import mox_core as mox


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("trained")
    mox.run(input_fn=dataset_input_fn(epochs=100), model_fn=linear_model_fn, optimizer_fn=sgd(),
            run_mode=mox.ModeKeys.TRAIN, batch_size=16, log_dir=str(log_dir),
            max_number_of_steps=7)
    return log_dir


def evaluate(checkpoint_path, **kwargs):
    options = dict(input_fn=dataset_input_fn(), model_fn=linear_model_fn,
                   run_mode=mox.ModeKeys.EVAL, batch_size=24, checkpoint_path=checkpoint_path)
    options.update(kwargs)
    return mox.run(**options)


def test_eval_returns_the_mean_metric_over_all_the_data(trained):
    w = read_variable(trained)
    # 64 examples in batches of 24, 24, 16: the mean is weighted by batch size.
    expected = float(np.mean(np.square(X @ w - Y)))
    result = evaluate(str(trained))
    assert result["loss"] == pytest.approx(expected, rel=1e-5)


def test_checkpoint_path_may_be_a_folder_or_a_checkpoint_prefix(trained):
    prefix = tf.train.latest_checkpoint(str(trained))
    assert evaluate(prefix) == evaluate(str(trained))


def test_max_number_of_steps_limits_the_evaluation(trained):
    w = read_variable(trained)
    first_batch = float(np.mean(np.square(X[:24] @ w - Y[:24])))
    assert evaluate(str(trained), max_number_of_steps=1)["loss"] == pytest.approx(
        first_batch, rel=1e-5)


def test_eval_writes_a_summary_when_given_a_log_dir(trained, tmp_path):
    evaluate(str(trained), log_dir=str(tmp_path))
    events = list((tmp_path / "eval").glob("events.out.tfevents.*"))
    values = [(v.tag, e.step) for e in tf.train.summary_iterator(str(events[0]))
              for v in e.summary.value]
    assert values == [("loss", 7)]


def test_a_missing_checkpoint_is_an_error_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="is a folder with no checkpoint in it"):
        evaluate(str(tmp_path))
    with pytest.raises(ValueError, match="neither a folder holding checkpoints nor a "
                                         "checkpoint prefix"):
        evaluate(str(tmp_path / "model.ckpt-5"))
    with pytest.raises(ValueError, match="checkpoint_path is required"):
        evaluate(None)


def test_predict_calls_output_fn_every_n_steps_and_once_more_for_the_rest(trained):
    calls = []
    mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn, output_fn=calls.append,
            run_mode=mox.ModeKeys.PREDICT, batch_size=10, checkpoint_path=str(trained),
            output_every_n_steps=3)
    # 64 examples / 10 = 7 steps: calls after steps 3 and 6, then the last step.
    assert [len(call) for call in calls] == [3, 3, 1]
    predictions = np.concatenate([step["prediction"] for call in calls for step in call])
    np.testing.assert_allclose(predictions, X @ read_variable(trained), rtol=1e-5)


def test_predict_with_max_steps_equal_to_output_every_n_steps_calls_once(trained):
    calls = []
    mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn, output_fn=calls.append,
            run_mode=mox.ModeKeys.PREDICT, batch_size=8, checkpoint_path=str(trained),
            output_every_n_steps=4, max_number_of_steps=4)
    assert len(calls) == 1 and len(calls[0]) == 4
    assert set(calls[0][0]) == {"prediction"}


def test_predict_needs_an_output_fn(trained):
    with pytest.raises(ValueError, match="PREDICT mode needs output_fn"):
        mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn,
                run_mode=mox.ModeKeys.PREDICT, batch_size=8, checkpoint_path=str(trained))
