"""learning_rate_scheduler.piecewise_lr: learning rates that follow the epoch."""

from __future__ import annotations

import math

import pytest
import tensorflow as tf

import mox_core as mox
from mox_core.optimizer import get_optimizer_fn, learning_rate_scheduler
from mox_core.optimizer.learning_rate_scheduler import LrSegment, parse_lr_strategy, piecewise_lr

SEED_STRATEGY = "5:0.1->0.4,10:0.4=>0.8,15:0.8,20:0.08"


def _lr_at_steps(lr_strategy, steps, num_samples=1000, global_batch_size=100):
    """The learning rate at each global step (10 steps an epoch by default)."""
    with tf.Graph().as_default():
        lr = piecewise_lr(lr_strategy, num_samples=num_samples, global_batch_size=global_batch_size)
        global_step = tf.compat.v1.train.get_or_create_global_step()
        step = tf.compat.v1.placeholder(tf.int64, [])
        set_step = global_step.assign(step)
        values = []
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for value in steps:
                sess.run(set_step, {step: value})
                values.append(float(sess.run(lr)))
    return values


def test_the_module_is_reachable_as_in_moxing():
    assert mox.learning_rate_scheduler is learning_rate_scheduler
    assert learning_rate_scheduler.piecewise_lr is piecewise_lr


def test_the_result_is_a_float32_scalar_of_the_default_graph():
    with tf.Graph().as_default() as graph:
        lr = piecewise_lr(SEED_STRATEGY, num_samples=1000, global_batch_size=100)
        assert lr.dtype == tf.float32
        assert lr.shape == []
        assert lr.graph is graph
        assert lr.op.name == "piecewise_lr/learning_rate"


def test_linear_segment_goes_from_a_to_b():
    steps = [0, 10, 25, 49]  # epochs 0, 1, 2.5, 4.9 of "5:0.1->0.4"
    expected = [0.1, 0.16, 0.25, 0.394]
    assert _lr_at_steps(SEED_STRATEGY, steps) == pytest.approx(expected, rel=1e-6)


def test_exponential_segment_is_geometric_between_a_and_b():
    steps = [50, 75, 90, 99]  # epochs 5, 7.5, 9, 9.9 of "10:0.4=>0.8": 0.4 * 2 ** t
    expected = [0.4, 0.4 * math.sqrt(2.0), 0.4 * 2.0**0.8, 0.4 * 2.0**0.98]
    assert _lr_at_steps(SEED_STRATEGY, steps) == pytest.approx(expected, rel=1e-6)


def test_constant_segments_and_the_value_after_the_last_boundary():
    # "15:0.8" covers epochs 10-15, "20:0.08" epochs 15-20; 0.08 holds afterwards.
    steps = [100, 120, 149, 150, 199, 200, 10**6]
    expected = [0.8, 0.8, 0.8, 0.08, 0.08, 0.08, 0.08]
    assert _lr_at_steps(SEED_STRATEGY, steps) == pytest.approx(expected, rel=1e-6)


def test_after_a_final_linear_segment_its_end_value_holds():
    assert _lr_at_steps("2:1.0->0.5", [10, 20, 35]) == pytest.approx([0.75, 0.5, 0.5])


def test_epochs_are_fractional():
    # 100 steps of 256 samples out of 51200 is 0.5 epoch: halfway along "1:0.2->0.4".
    values = _lr_at_steps("1:0.2->0.4", [100, 150], num_samples=51200, global_batch_size=256)
    assert values == pytest.approx([0.3, 0.35], rel=1e-6)


def test_fractional_boundaries_and_whitespace_are_accepted():
    assert parse_lr_strategy(" 0.5 : 0.1 -> 0.2 , 1.5:1e-3 ") == [
        LrSegment(start=0.0, end=0.5, kind="linear", first=0.1, last=0.2),
        LrSegment(start=0.5, end=1.5, kind="constant", first=0.001, last=0.001),
    ]


def test_it_reads_the_existing_global_step():
    with tf.Graph().as_default():
        global_step = tf.compat.v1.train.create_global_step()
        lr = piecewise_lr("1:0.1,2:0.01", num_samples=10, global_batch_size=5)
        assert tf.compat.v1.train.get_global_step() is global_step
        with tf.compat.v1.Session() as sess:
            sess.run(global_step.initializer)
            assert sess.run(lr) == pytest.approx(0.1)
            sess.run(global_step.assign(2))
            assert sess.run(lr) == pytest.approx(0.01)


def test_training_with_a_piecewise_rate_as_in_moxing():
    def optimizer_fn():
        lr = learning_rate_scheduler.piecewise_lr(
            "2:0.1,4:0.01", num_samples=40, global_batch_size=10
        )
        return get_optimizer_fn("momentum", learning_rate=lr, momentum=0.9)()

    with tf.Graph().as_default():
        x = tf.compat.v1.get_variable("x", initializer=3.0)
        loss = tf.square(x)
        optimizer = optimizer_fn()
        global_step = tf.compat.v1.train.get_global_step()
        train_op = optimizer.minimize(loss, global_step=global_step)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            first_loss = sess.run(loss)
            rates = []
            for _ in range(10):
                rates.append(sess.run("piecewise_lr/learning_rate:0"))
                sess.run(train_op)
            assert sess.run(loss) < first_loss
    assert rates == pytest.approx([0.1] * 8 + [0.01] * 2)  # 4 steps an epoch


@pytest.mark.parametrize(
    "lr_strategy, message",
    [
        (
            "5:0.1-->0.4",
            "lr_strategy segment '5:0.1-->0.4': expected 'epoch:lr', 'epoch:a->b' or "
            "'epoch:a=>b' (in '5:0.1-->0.4')",
        ),
        (
            "5:0.1,10:abc",
            "lr_strategy segment '10:abc': expected 'epoch:lr', 'epoch:a->b' or "
            "'epoch:a=>b' (in '5:0.1,10:abc')",
        ),
        ("5", "lr_strategy segment '5': expected 'epoch:lr'"),
        ("five:0.1", "lr_strategy segment 'five:0.1': expected 'epoch:lr'"),
        ("5:0.1->", "lr_strategy segment '5:0.1->': expected 'epoch:lr'"),
        ("5:0.1->0.2->0.3", "lr_strategy segment '5:0.1->0.2->0.3': expected 'epoch:lr'"),
        ("5:nan", "lr_strategy segment '5:nan': expected 'epoch:lr'"),
        ("5:0.1,", "lr_strategy segment '' (a stray comma?): expected 'epoch:lr'"),
        (
            "10:0.1,5:0.01",
            "lr_strategy segment '5:0.01': epoch 5 must be greater than the previous boundary "
            "10; boundaries must increase (in '10:0.1,5:0.01')",
        ),
        (
            "5:0.1,5:0.01",
            "lr_strategy segment '5:0.01': epoch 5 must be greater than the previous boundary 5",
        ),
        (
            "0:0.1",
            "lr_strategy segment '0:0.1': epoch 0 must be greater than the previous boundary 0",
        ),
        (
            "5:0=>0.4",
            "lr_strategy segment '5:0=>0.4': an exponential segment 'a=>b' needs a > 0 and b > 0 "
            "(in '5:0=>0.4')",
        ),
        ("5:0.4=>0", "lr_strategy segment '5:0.4=>0': an exponential segment 'a=>b' needs a > 0"),
        ("5:-0.1", "lr_strategy segment '5:-0.1': learning rates must not be negative"),
        ("", "lr_strategy is empty: expected comma-separated segments such as"),
        ("   ", "lr_strategy is empty"),
    ],
)
def test_malformed_strategies_name_the_bad_segment(lr_strategy, message):
    with pytest.raises(ValueError) as info:
        piecewise_lr(lr_strategy, num_samples=1000, global_batch_size=100)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    "num_samples, global_batch_size, error, message",
    [
        (0, 32, ValueError, "num_samples must be a positive number, got 0"),
        (1000, -32, ValueError, "global_batch_size must be a positive number, got -32"),
        (float("inf"), 32, ValueError, "num_samples must be a positive number, got inf"),
        ("1000", 32, TypeError, "num_samples must be a number, got '1000'"),
        (1000, None, TypeError, "global_batch_size must be a number, got None"),
    ],
)
def test_sizes_must_be_positive_numbers(num_samples, global_batch_size, error, message):
    with pytest.raises(error) as info:
        piecewise_lr("5:0.1", num_samples, global_batch_size)
    assert str(info.value) == message


def test_a_bad_strategy_builds_nothing():
    with tf.Graph().as_default() as graph:
        with pytest.raises(ValueError):
            piecewise_lr("5:0.1,3:0.2", num_samples=1000, global_batch_size=100)
        assert graph.get_operations() == []


def test_strategy_must_be_a_string():
    with pytest.raises(TypeError, match="lr_strategy must be a string, got list"):
        parse_lr_strategy(["5:0.1"])
