"""TensorBoard curves of mox.run: the cadence, the final step always written, no step twice,
and eval points in the training charts at their checkpoint's step.

Each test reads the event files back as TensorBoard does, with a linear model on 64 in-memory
examples (a 1,500-step run takes well under two seconds).
"""

from __future__ import annotations

import glob

import pytest
import tensorflow.compat.v1 as tf
from executor_models import dataset_input_fn, linear_model_fn, sgd

import mox_core as mox
from mox_core.commands.train import SUMMARY_POINTS, summary_every


def train(log_dir, steps, epochs=1000, **kwargs):
    options = dict(input_fn=dataset_input_fn(epochs=epochs), model_fn=linear_model_fn,
                   optimizer_fn=sgd(), run_mode=mox.ModeKeys.TRAIN, batch_size=16,
                   log_dir=str(log_dir), max_number_of_steps=steps, log_every_n_steps=1000)
    options.update(kwargs)
    return mox.run(**options)


def points(folder, tag="loss"):
    """The steps of ``tag``'s points in ``folder``'s event files, in the order written."""
    steps = []
    for path in sorted(glob.glob(str(folder / "events.out.tfevents.*"))):
        for event in tf.train.summary_iterator(path):
            steps += [event.step for value in event.summary.value if value.tag == tag]
    return steps


def test_mox_run_keeps_moxing_default_of_100_steps_and_ends_at_the_final_step(tmp_path):
    train(tmp_path, 250)
    assert points(tmp_path) == [1, 101, 201, 250]


def test_a_final_step_on_the_cadence_is_written_once(tmp_path):
    train(tmp_path, 201)
    assert points(tmp_path) == [1, 101, 201]


def test_a_short_run_with_the_cli_cadence_has_a_point_every_step(tmp_path):
    train(tmp_path, 60, save_summary_steps=summary_every(60))
    assert points(tmp_path) == list(range(1, 61))


def test_a_long_run_with_the_cli_cadence_has_100_to_200_points_ending_at_its_last_step(tmp_path):
    train(tmp_path, 1500, save_summary_steps=summary_every(1500))
    steps = points(tmp_path)
    assert 100 <= len(steps) <= SUMMARY_POINTS + 1
    assert steps[-1] == 1500
    assert steps == sorted(set(steps))


@pytest.mark.parametrize("max_steps", [1, 7, 60, 199, 200, 201, 399, 400, 1500, 123_457, 10**7])
def test_summary_every_aims_at_100_to_200_points_whatever_the_length(max_steps):
    every = summary_every(max_steps)
    count = len(set(range(1, max_steps + 1, every)) | {max_steps})  # as SummarySaverHook + end
    if max_steps <= SUMMARY_POINTS:
        assert every == 1  # short runs: every step, never sparser than their log lines
    else:
        assert SUMMARY_POINTS // 2 <= count <= SUMMARY_POINTS + 1


def test_a_run_ended_by_its_input_running_out_writes_its_last_step(tmp_path):
    train(tmp_path, 0, epochs=2, save_summary_steps=5)  # 2 x 64 examples: 8 steps of 16
    assert points(tmp_path) == [1, 6, 8]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-8")


class StopAfter(mox.AggregativeSessionRunHook):
    """A stand-in for early stopping: asks the run to stop after its n-th step."""

    def __init__(self, n):
        self.n = n

    def begin(self):
        self.steps = 0

    def after_run(self, run_context, run_values):
        self.steps += 1
        if self.steps >= self.n:
            run_context.request_stop()


def test_a_run_stopped_by_a_hook_writes_the_step_it_stopped_at(tmp_path):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.hooks.append(StopAfter(37))
        return spec

    train(tmp_path, 100, model_fn=model_fn, save_summary_steps=10)
    assert points(tmp_path) == [1, 11, 21, 31, 37]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-37")


def test_a_resumed_run_continues_the_curve_without_repeating_a_step(tmp_path):
    train(tmp_path, 60, save_summary_steps=25)
    train(tmp_path, 120, save_summary_steps=25)
    assert points(tmp_path) == [1, 26, 51, 60, 61, 86, 111, 120]


def test_no_summaries_when_save_summary_steps_is_0(tmp_path):
    train(tmp_path, 30, save_summary_steps=0)
    assert points(tmp_path) == []


def test_eval_points_share_the_training_tags_at_the_checkpoint_step(tmp_path):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.log_info["mean abs error"] = tf.reduce_mean(
            tf.abs(spec.output_info["prediction"] - inputs[1]))
        return spec

    train(tmp_path, 45, model_fn=model_fn, save_summary_steps=20)
    mox.run(input_fn=dataset_input_fn(), model_fn=model_fn, run_mode=mox.ModeKeys.EVAL,
            batch_size=32, checkpoint_path=str(tmp_path), log_dir=str(tmp_path))
    for tag in ("loss", "mean_abs_error"):
        assert points(tmp_path, tag) == [1, 21, 41, 45]
        assert points(tmp_path / "eval", tag) == [45]
