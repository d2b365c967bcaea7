"""get_optimizer_wrapper_fn: ``lars`` and ``batch_gradients`` around optimizer functions."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
from mox_core.optimizer import (
    get_optimizer_fn,
    get_optimizer_wrapper_fn,
    list_optimizer_wrappers,
    list_optimizers,
)
from mox_core.optimizer.wrappers import BatchGradientsOptimizer, LarsOptimizer
from mox_core.plugins import registry

v1 = tf.compat.v1


def lars_step(w, g, ratio, weight_decay):
    """What LARS hands on, by hand: local_lr * (g + weight_decay * w)."""
    w, g = np.asarray(w, np.float64), np.asarray(g, np.float64)
    w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(g)
    local_lr = 1.0
    if w_norm > 0 and g_norm > 0:
        local_lr = ratio * w_norm / (g_norm + weight_decay * w_norm)
    return local_lr * (g + weight_decay * w)


class FedGradient:
    """A variable ``x`` whose gradient is whatever is fed: the loss is ``sum(x * c)``."""

    def __init__(self, initial):
        self.x = v1.get_variable("x", initializer=tf.constant(initial, tf.float32))
        self.c = v1.placeholder(tf.float32, shape=self.x.shape)
        self.loss = tf.reduce_sum(self.x * self.c)


# --- registration and lookup ------------------------------------------------------------------


def test_the_core_registers_lars_and_batch_gradients_as_wrappers():
    assert list_optimizer_wrappers() == ["batch_gradients", "lars"]
    assert "lars" not in list_optimizers() and "batch_gradients" not in list_optimizers()
    for name in list_optimizer_wrappers():
        spec = registry("optimizers").get(name)
        assert spec.wrapper is True
        assert spec.distribution == "mox-core"
        assert spec.factory == f"mox_core.optimizer.wrappers:{name}"


def test_package_level_name_is_the_same_function():
    assert mox.get_optimizer_wrapper_fn is get_optimizer_wrapper_fn


def test_the_wrapped_optimizer_is_a_tensorflow_v1_optimizer_created_fresh_per_call():
    optimizer_fn = get_optimizer_wrapper_fn(
        "lars", get_optimizer_fn("momentum", 0.1, momentum=0.9), ratio=0.001
    )
    with tf.Graph().as_default():
        first, second = optimizer_fn(), optimizer_fn()
    assert first is not second and first.optimizer is not second.optimizer
    assert isinstance(first, tf.compat.v1.train.Optimizer)
    assert isinstance(first, LarsOptimizer) and first.get_name() == "LARS"
    assert isinstance(first.optimizer, tf.compat.v1.train.MomentumOptimizer)
    assert (first.ratio, first.weight_decay, first.skip_pattern) == (0.001, 0.0, None)


def test_an_optimizer_instance_is_accepted_and_wrapped_as_is():
    with tf.Graph().as_default():
        base = v1.train.GradientDescentOptimizer(0.1)
        optimizer_fn = get_optimizer_wrapper_fn("batch_gradients", base, num_batches=2)
        assert optimizer_fn().optimizer is base


def test_the_base_function_gets_the_keyword_arguments_it_accepts():
    calls = []

    def base_fn(**kwargs):
        calls.append(kwargs)
        return v1.train.GradientDescentOptimizer(0.1)

    optimizer_fn = get_optimizer_wrapper_fn("lars", base_fn, ratio=0.01)
    assert calls == []  # checking the arguments does not create the base optimizer
    zero_arg_fn = get_optimizer_wrapper_fn(
        "lars", lambda: v1.train.GradientDescentOptimizer(0.1), ratio=0.01
    )
    with tf.Graph().as_default():
        optimizer_fn(param_spec={"lr": 0.1})
        assert isinstance(zero_arg_fn(param_spec={"lr": 0.1}), LarsOptimizer)
    assert calls == [{"param_spec": {"lr": 0.1}}]


# --- lars -------------------------------------------------------------------------------------


def test_lars_local_learning_rate_and_update_match_the_formula():
    # ||w|| = 5, ||g|| = 1: local_lr = 0.1 * 5 / (1 + 0.2 * 5) = 0.25, and the gradient handed
    # to SGD(1.0) is 0.25 * ([0.6, 0.8] + 0.2 * [3, 4]) = [0.3, 0.4].
    with tf.Graph().as_default():
        w = v1.get_variable("w", initializer=tf.constant([3.0, 4.0]))
        loss = tf.reduce_sum(w * tf.constant([0.6, 0.8]))
        opt = get_optimizer_wrapper_fn(
            "lars", get_optimizer_fn("sgd", 1.0), ratio=0.1, weight_decay=0.2
        )()
        ((grad, var),) = opt.compute_gradients(loss)
        local_lr = opt.local_learning_rate(grad, var)
        train_op = opt.apply_gradients([(grad, var)])
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            assert sess.run(local_lr) == pytest.approx(0.25, rel=1e-6)
            sess.run(train_op)
            np.testing.assert_allclose(sess.run(w), [2.7, 3.6], rtol=1e-6)


def test_lars_without_weight_decay_scales_by_ratio_times_the_norm_ratio():
    with tf.Graph().as_default():
        w = v1.get_variable("w", initializer=tf.constant([3.0, 4.0]))
        loss = tf.reduce_sum(w * tf.constant([1.2, 1.6]))  # ||g|| = 2
        opt = get_optimizer_wrapper_fn("lars", get_optimizer_fn("sgd", 1.0), ratio=0.1)()
        train_op = opt.minimize(loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(train_op)  # local_lr = 0.1 * 5 / 2 = 0.25
            np.testing.assert_allclose(sess.run(w), [3.0 - 0.3, 4.0 - 0.4], rtol=1e-6)


@pytest.mark.parametrize(
    "weights, gradient",
    [([0.0, 0.0], [0.6, 0.8]), ([3.0, 4.0], [0.0, 0.0])],
    ids=["zero weights", "zero gradient"],
)
def test_lars_local_learning_rate_is_one_when_a_norm_is_zero(weights, gradient):
    with tf.Graph().as_default():
        w = v1.get_variable("w", initializer=tf.constant(weights))
        opt = get_optimizer_wrapper_fn("lars", get_optimizer_fn("sgd", 1.0), ratio=0.1)()
        local_lr = opt.local_learning_rate(tf.constant(gradient), w)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            assert sess.run(local_lr) == 1.0


def test_lars_adapts_every_variable_unless_skip_pattern_matches_it():
    def updated_biases(**lars_kwargs):
        with tf.Graph().as_default():
            with v1.variable_scope("fc"):
                weights = v1.get_variable("weights", initializer=tf.constant([3.0, 4.0]))
                biases = v1.get_variable("biases", initializer=tf.constant([1.0]))
            loss = tf.reduce_sum(weights * tf.constant([0.6, 0.8])) + 2.0 * biases[0]
            opt = get_optimizer_wrapper_fn(
                "lars", get_optimizer_fn("sgd", 1.0), ratio=0.1, weight_decay=0.2, **lars_kwargs
            )()
            train_op = opt.minimize(loss)
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                sess.run(train_op)
                np.testing.assert_allclose(sess.run(weights), [2.7, 3.6], rtol=1e-6)
                return sess.run(biases)

    adapted = 1.0 - lars_step([1.0], [2.0], 0.1, 0.2)
    np.testing.assert_allclose(updated_biases(), adapted, rtol=1e-6)
    # skipped: the plain SGD step, with neither scaling nor weight decay
    np.testing.assert_allclose(updated_biases(skip_pattern=r"biases|BatchNorm"), [-1.0])


def test_lars_makes_a_sparse_gradient_dense():
    with tf.Graph().as_default():
        table = v1.get_variable("table", initializer=tf.constant([[1.0, 2.0], [3.0, 4.0]]))
        loss = tf.reduce_sum(tf.gather(table, [1]) * tf.constant([[0.5, -1.0]]))
        opt = get_optimizer_wrapper_fn(
            "lars", get_optimizer_fn("sgd", 1.0), ratio=0.1, weight_decay=0.01
        )()
        ((grad, _),) = opt.compute_gradients(loss)
        assert isinstance(grad, tf.IndexedSlices)
        train_op = opt.minimize(loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            before = sess.run(table)
            sess.run(train_op)
            expected = before - lars_step(before, [[0.0, 0.0], [0.5, -1.0]], 0.1, 0.01)
            np.testing.assert_allclose(sess.run(table), expected, rtol=1e-6)


def test_lars_exposes_the_slots_of_the_optimizer_it_wraps():
    with tf.Graph().as_default():
        x = v1.get_variable("x", initializer=tf.constant([1.0, 2.0]))
        opt = get_optimizer_wrapper_fn(
            "lars", get_optimizer_fn("momentum", 0.1, momentum=0.9), ratio=0.01
        )()
        opt.minimize(tf.reduce_sum(tf.square(x)))
        assert opt.get_slot_names() == ["momentum"]
        assert opt.get_slot(x, "momentum").op.name == "x/Momentum"
        assert [v.op.name for v in opt.variables()] == ["x/Momentum"]


# --- batch_gradients --------------------------------------------------------------------------

GRADIENTS = [[1.0, -2.0], [4.0, 0.5], [-2.0, 3.0], [0.5, 0.5], [3.0, -1.0], [1.0, 2.0]]


def test_batch_gradients_applies_the_mean_of_every_three_gradients_on_every_third_step():
    with tf.Graph().as_default():
        model = FedGradient([1.0, 1.0])
        opt = get_optimizer_wrapper_fn(
            "batch_gradients", get_optimizer_fn("sgd", 0.5), num_batches=3
        )()
        assert isinstance(opt, BatchGradientsOptimizer) and opt.get_name() == "BatchGradients"
        grads_and_vars = opt.compute_gradients(model.loss)
        train_op = opt.apply_gradients(grads_and_vars)  # global_step=None
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            expected = np.array([1.0, 1.0])
            for step, gradient in enumerate(GRADIENTS, start=1):
                sess.run(train_op, {model.c: gradient})
                if step % 3 == 0:
                    expected = expected - 0.5 * np.mean(GRADIENTS[step - 3 : step], axis=0)
                np.testing.assert_allclose(sess.run(model.x), expected, rtol=1e-6)
                accumulated = sess.run(opt.get_slot(model.x, "accumulator"))
                window = GRADIENTS[step - step % 3 : step]
                np.testing.assert_allclose(accumulated, np.sum(window or [[0, 0]], axis=0))


def test_batch_gradients_counts_the_global_step_in_batches():
    with tf.Graph().as_default():
        model = FedGradient([0.0, 0.0])
        global_step = v1.train.get_or_create_global_step()
        opt = get_optimizer_wrapper_fn(
            "batch_gradients", get_optimizer_fn("sgd", 1.0), num_batches=3
        )()
        train_op = opt.minimize(model.loss, global_step=global_step)
        assert isinstance(train_op, tf.Operation)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            seen = []
            for gradient in GRADIENTS[:4]:
                sess.run(train_op, {model.c: gradient})
                seen.append((sess.run(global_step), sess.run(model.x).tolist()))
    moved = (-np.mean(GRADIENTS[:3], axis=0)).tolist()
    assert seen == [(1, [0.0, 0.0]), (2, [0.0, 0.0]), (3, moved), (4, moved)]


@pytest.mark.parametrize(
    "name, kwargs",
    [("adam", {}), ("momentum", {"momentum": 0.9}), ("rmsprop", {})],
)
def test_batch_gradients_equals_the_base_optimizer_fed_the_mean_gradients(name, kwargs):
    with tf.Graph().as_default():
        model = FedGradient([1.0, -1.0])
        opt = get_optimizer_wrapper_fn(
            "batch_gradients", get_optimizer_fn(name, 0.1, **kwargs), num_batches=3
        )()
        train_op = opt.minimize(model.loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for gradient in GRADIENTS:
                sess.run(train_op, {model.c: gradient})
            wrapped = sess.run(model.x)
        assert set(opt.get_slot_names()) >= {"accumulator"}
        assert len(opt.get_slot_names()) > 1  # the base optimizer's slots, through the wrapper
    with tf.Graph().as_default():
        model = FedGradient([1.0, -1.0])
        train_op = get_optimizer_fn(name, 0.1, **kwargs)().minimize(model.loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for window in (GRADIENTS[:3], GRADIENTS[3:]):
                sess.run(train_op, {model.c: np.mean(window, axis=0)})
            plain = sess.run(model.x)
    np.testing.assert_allclose(wrapped, plain, rtol=1e-6)


def test_batch_gradients_state_is_checkpointed_so_a_restored_run_resumes_its_window(tmp_path):
    def build():
        model = FedGradient([0.0, 0.0])
        opt = get_optimizer_wrapper_fn(
            "batch_gradients", get_optimizer_fn("sgd", 1.0), num_batches=3
        )()
        return model, opt.minimize(model.loss), opt

    with tf.Graph().as_default():
        model, train_op, opt = build()
        state = [opt.get_slot(model.x, "accumulator"), *opt.variables()]
        assert all(v in v1.global_variables() for v in state)
        assert not any(v in v1.trainable_variables() for v in state)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for gradient in GRADIENTS[:2]:
                sess.run(train_op, {model.c: gradient})
            path = v1.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
    with tf.Graph().as_default():
        model, train_op, _ = build()
        with v1.Session() as sess:
            v1.train.Saver().restore(sess, path)
            sess.run(train_op, {model.c: GRADIENTS[2]})  # the window's third batch
            np.testing.assert_allclose(sess.run(model.x), -np.mean(GRADIENTS[:3], axis=0))


def test_batch_gradients_accumulates_sparse_gradients():
    with tf.Graph().as_default():
        table = v1.get_variable("table", initializer=tf.zeros([3, 2]))
        row = v1.placeholder(tf.int32, [])
        loss = tf.reduce_sum(tf.gather(table, [row]) * tf.constant([[1.0, 2.0]]))
        opt = get_optimizer_wrapper_fn(
            "batch_gradients", get_optimizer_fn("sgd", 1.0), num_batches=2
        )()
        train_op = opt.minimize(loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(train_op, {row: 0})
            sess.run(train_op, {row: 2})
            np.testing.assert_allclose(
                sess.run(table), [[-0.5, -1.0], [0.0, 0.0], [-0.5, -1.0]]
            )


def test_sync_on_apply_is_accepted_and_changes_nothing_on_one_machine():
    values = []
    for sync_on_apply in (True, False):
        optimizer_fn = get_optimizer_wrapper_fn(
            "batch_gradients",
            get_optimizer_fn("sgd", 1.0),
            num_batches=2,
            sync_on_apply=sync_on_apply,
        )
        with tf.Graph().as_default():
            model = FedGradient([0.0, 0.0])
            opt = optimizer_fn()
            assert opt.sync_on_apply is sync_on_apply
            train_op = opt.minimize(model.loss)
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                for gradient in GRADIENTS[:2]:
                    sess.run(train_op, {model.c: gradient})
                values.append(sess.run(model.x))
    np.testing.assert_array_equal(values[0], values[1])


# --- nesting ----------------------------------------------------------------------------------


def test_lars_nested_in_batch_gradients_scales_the_mean_gradient():
    lars_fn = get_optimizer_wrapper_fn(
        "lars", get_optimizer_fn("sgd", 1.0), ratio=0.1, weight_decay=0.05
    )
    optimizer_fn = get_optimizer_wrapper_fn("batch_gradients", lars_fn, num_batches=3)
    with tf.Graph().as_default():
        model = FedGradient([3.0, -4.0])
        opt = optimizer_fn()
        assert isinstance(opt.optimizer, LarsOptimizer)
        train_op = opt.minimize(model.loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            expected = np.array([3.0, -4.0])
            for step, gradient in enumerate(GRADIENTS, start=1):
                sess.run(train_op, {model.c: gradient})
                if step % 3 == 0:
                    mean = np.mean(GRADIENTS[step - 3 : step], axis=0)
                    expected = expected - lars_step(expected, mean, 0.1, 0.05)
                np.testing.assert_allclose(sess.run(model.x), expected, rtol=1e-5)


def test_nested_wrappers_decrease_a_quadratic_loss():
    optimizer_fn = get_optimizer_wrapper_fn(
        "batch_gradients",
        get_optimizer_wrapper_fn(
            "lars", get_optimizer_fn("momentum", 1.0, momentum=0.9), ratio=0.05
        ),
        num_batches=2,
    )
    with tf.Graph().as_default():
        x = v1.get_variable("x", initializer=tf.constant([3.0, -4.0]))
        loss = tf.reduce_sum(tf.square(x - tf.constant([1.0, 2.0])))
        global_step = v1.train.get_or_create_global_step()
        train_op = optimizer_fn().minimize(loss, global_step=global_step)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            losses = [sess.run(loss)]
            for _ in range(12):
                sess.run(train_op)
                losses.append(sess.run(loss))
            assert sess.run(global_step) == 12
    after_windows = losses[::2]
    assert all(later < earlier for earlier, later in zip(after_windows, after_windows[1:]))
    assert losses[1::2] == losses[0:-1:2]  # nothing moves in the middle of a window


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("batch_gradients", {"num_batches": 0}, "num_batches must be an integer >= 1, got 0"),
        ("batch_gradients", {"num_batches": 2.5}, "num_batches must be an integer >= 1, got 2.5"),
        ("batch_gradients", {"num_batches": 2, "sync_on_apply": "yes"}, "sync_on_apply must be"),
        ("lars", {"ratio": 0}, "ratio must be a number > 0, got 0.0"),
        ("lars", {"ratio": "0.1"}, "ratio must be a number > 0, got '0.1'"),
        ("lars", {"ratio": 0.1, "weight_decay": -1}, "weight_decay must be a number >= 0"),
        ("lars", {"ratio": 0.1, "skip_pattern": "(bias"}, "skip_pattern must be a regular"),
    ],
)
def test_bad_argument_values_name_the_wrapper_and_the_argument(name, kwargs, message):
    with pytest.raises(ValueError, match=rf"^optimizer wrapper '{name}': ") as info:
        get_optimizer_wrapper_fn(name, get_optimizer_fn("sgd", 0.1), **kwargs)
    assert message in str(info.value)


def test_a_missing_argument_says_which_and_how_to_pass_it():
    with pytest.raises(ValueError) as info:
        get_optimizer_wrapper_fn("lars", get_optimizer_fn("sgd", 0.1), weight_decay=0.1)
    assert str(info.value) == (
        "optimizer wrapper 'lars' needs the argument(s) 'ratio', "
        "e.g. get_optimizer_wrapper_fn('lars', base_opt, ratio=...)"
    )
    with pytest.raises(ValueError, match=r"'batch_gradients' needs the argument\(s\) 'num_batc"):
        get_optimizer_wrapper_fn("batch_gradients", get_optimizer_fn("sgd", 0.1))


def test_a_misspelt_argument_is_named_with_a_suggestion():
    with pytest.raises(ValueError) as info:
        get_optimizer_wrapper_fn("batch_gradients", get_optimizer_fn("sgd", 0.1), num_batch=2)
    assert str(info.value) == (
        "optimizer wrapper 'batch_gradients' got an unexpected argument 'num_batch' "
        "(did you mean 'num_batches'?); it accepts: num_batches, sync_on_apply"
    )


def test_an_optimizer_name_points_to_get_optimizer_fn():
    with pytest.raises(ValueError) as info:
        get_optimizer_wrapper_fn("momentum", get_optimizer_fn("sgd", 0.1))
    assert str(info.value) == (
        "'momentum' is an optimizer, not an optimizer wrapper: create it with "
        "get_optimizer_fn('momentum', learning_rate, ...) and wrap that function; "
        "optimizer wrappers: batch_gradients, lars"
    )
    with pytest.raises(ValueError, match=r"get_optimizer_wrapper_fn\('lars', \.\.\.\)"):
        get_optimizer_fn("lars", 0.1)


def test_an_unknown_wrapper_is_the_registrys_error():
    with pytest.raises(ValueError, match=r"unknown optimizer 'larz'\. Did you mean: lars"):
        get_optimizer_wrapper_fn("larz", get_optimizer_fn("sgd", 0.1), ratio=0.1)


def test_base_opt_must_be_an_optimizer_function_or_a_v1_optimizer():
    with pytest.raises(TypeError, match=r"'lars': base_opt must be an optimizer function"):
        get_optimizer_wrapper_fn("lars", 0.1, ratio=0.1)
    optimizer_fn = get_optimizer_wrapper_fn("lars", lambda: "adam", ratio=0.1)
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match=r"'lars' wraps a tf.compat.v1.train.Optimizer.*str"):
            optimizer_fn()


# --- plugins ----------------------------------------------------------------------------------

SCALED_WRAPPER = """
    from mox_core.optimizer.wrappers import OptimizerWrapper

    class Scaled(OptimizerWrapper):
        wrapper_name = "scaled"

        def __init__(self, optimizer, factor, name=None):
            super().__init__(optimizer, name or "Scaled")
            self.factor = factor

        def apply_gradients(self, grads_and_vars, global_step=None, name=None):
            scaled = [(grad * self.factor, var) for grad, var in grads_and_vars]
            return self.optimizer.apply_gradients(scaled, global_step, name)

    def scaled(optimizer, factor, name=None):
        return Scaled(optimizer, factor, name)
"""

SCALED_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import OptimizerSpec

    @hookimpl
    def mox_optimizers():
        return [OptimizerSpec("scaled", "fake_scaled_wrapper:scaled", wrapper=True)]
"""


def test_a_plugin_wrapper_is_found_and_nests_with_the_builtin_ones(fake_dists):
    fake_dists.add(
        "fake-wrappers",
        {"fake_scaled_wrapper": SCALED_WRAPPER, "fake_wrappers_plugin": SCALED_PLUGIN},
        {"scaled": "fake_wrappers_plugin"},
    )
    assert list_optimizer_wrappers() == ["batch_gradients", "lars", "scaled"]
    assert registry("optimizers").get("scaled").distribution == "fake-wrappers"
    optimizer_fn = get_optimizer_wrapper_fn(
        "batch_gradients",
        get_optimizer_wrapper_fn("scaled", get_optimizer_fn("sgd", 1.0), factor=0.5),
        num_batches=2,
    )
    with tf.Graph().as_default():
        model = FedGradient([0.0, 0.0])
        train_op = optimizer_fn().minimize(model.loss)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for gradient in GRADIENTS[:2]:
                sess.run(train_op, {model.c: gradient})
            np.testing.assert_allclose(
                sess.run(model.x), -0.5 * np.mean(GRADIENTS[:2], axis=0), rtol=1e-6
            )
