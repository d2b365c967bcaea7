"""get_optimizer_fn: optimizers by name, as ``mox.run(optimizer_fn=...)`` uses them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
from mox_core.optimizer import get_optimizer_fn, list_optimizers
from mox_core.plugins import registry

BUILTIN = ["adadelta", "adagrad", "adam", "ftrl", "momentum", "rmsprop", "sgd"]


def _minimize(optimizer_fn, steps=5):
    """Losses of ``sum((x - [1, -2])**2)`` over ``steps`` updates of a fresh graph."""
    with tf.Graph().as_default():
        x = tf.compat.v1.get_variable("x", initializer=tf.constant([0.0, 0.0]))
        loss = tf.reduce_sum(tf.square(x - tf.constant([1.0, -2.0])))
        train_op = optimizer_fn().minimize(loss)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            losses = [sess.run(loss)]
            for _ in range(steps):
                sess.run(train_op)
                losses.append(sess.run(loss))
    return losses


def test_the_seven_builtin_optimizers_are_registered_by_the_core():
    assert list_optimizers() == BUILTIN
    for spec in registry("optimizers"):
        if spec.name in BUILTIN:
            assert spec.distribution == "mox-core"
            assert spec.description.startswith("tf.compat.v1.train.")


def test_package_level_name_is_the_same_function():
    assert mox.get_optimizer_fn is get_optimizer_fn


@pytest.mark.parametrize(
    "name, learning_rate, kwargs",
    [
        ("adadelta", 1.0, {}),
        ("adagrad", 0.3, {}),
        ("adam", 0.1, {}),
        ("ftrl", 0.3, {}),
        ("momentum", 0.05, {"momentum": 0.9}),
        ("rmsprop", 0.05, {}),
        ("sgd", 0.1, {}),
    ],
)
def test_each_optimizer_minimizes_a_quadratic(name, learning_rate, kwargs):
    losses = _minimize(get_optimizer_fn(name, learning_rate=learning_rate, **kwargs))
    assert losses[0] == pytest.approx(5.0)
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses


def test_sgd_takes_exactly_the_gradient_step():
    # x = 0 -> x - 0.1 * 2 * (x - target) = 0.2 * target: loss 0.8**2 * 5
    losses = _minimize(get_optimizer_fn("sgd", learning_rate=0.1), steps=1)
    assert losses[1] == pytest.approx(0.64 * 5.0)


def test_the_optimizer_is_the_tensorflow_class_with_the_given_arguments():
    with tf.Graph().as_default():
        opt = get_optimizer_fn("momentum", 0.1, momentum=0.9, use_nesterov=True)()
        assert isinstance(opt, tf.compat.v1.train.MomentumOptimizer)
        assert opt.get_name() == "Momentum"
        assert (opt._learning_rate, opt._momentum, opt._use_nesterov) == (0.1, 0.9, True)
        assert isinstance(
            get_optimizer_fn("sgd", 0.1)(), tf.compat.v1.train.GradientDescentOptimizer
        )


def test_extra_positional_arguments_follow_tensorflows_order():
    # AdamOptimizer(learning_rate, beta1, beta2, epsilon, ...); scope comes first here.
    with tf.Graph().as_default():
        opt = get_optimizer_fn("adam", 0.01, None, 0.8, 0.95)()
        assert (opt._lr, opt._beta1, opt._beta2) == (0.01, 0.8, 0.95)
        momentum = get_optimizer_fn("momentum", 0.01, "mom", 0.5)()
        assert (momentum._momentum, momentum.get_name()) == (0.5, "mom")


def test_learning_rate_may_be_a_tensor():
    def optimizer_fn():
        learning_rate = tf.compat.v1.placeholder_with_default(tf.constant(0.1), shape=[])
        return get_optimizer_fn("sgd", learning_rate=learning_rate)()

    losses = _minimize(optimizer_fn, steps=1)
    assert losses[1] == pytest.approx(0.64 * 5.0)


def test_scope_names_the_optimizer_and_its_slot_variables():
    with tf.Graph().as_default():
        x = tf.compat.v1.get_variable("x", initializer=tf.constant([0.0, 0.0]))
        opt = get_optimizer_fn("adam", 0.1, scope="my_adam")()
        opt.minimize(tf.reduce_sum(tf.square(x - 1.0)))
        assert opt.get_name() == "my_adam"
        assert opt.get_slot(x, "m").op.name == "x/my_adam"
        assert opt.get_slot(x, "v").op.name == "x/my_adam_1"


def test_optimizer_fn_creates_a_fresh_optimizer_and_ignores_keyword_arguments():
    optimizer_fn = get_optimizer_fn("sgd", learning_rate=0.5)
    with tf.Graph().as_default():
        first, second = optimizer_fn(), optimizer_fn(loss=None, var_list=None)
        assert first is not second
        assert isinstance(second, tf.compat.v1.train.GradientDescentOptimizer)


def test_unknown_name_lists_close_matches_and_installed_optimizers():
    with pytest.raises(ValueError) as info:
        get_optimizer_fn("adamm", learning_rate=0.1)
    message = str(info.value)
    assert "unknown optimizer 'adamm'" in message
    assert "Did you mean: adam" in message
    assert "Installed optimizers: " in message
    for name in BUILTIN:
        assert name in message


def test_a_misspelt_argument_names_the_optimizer_and_the_argument():
    with pytest.raises(
        ValueError, match=r"optimizer 'adam' got an unexpected argument 'bta1'"
    ) as info:
        get_optimizer_fn("adam", 0.1, bta1=0.9)
    assert "did you mean 'beta1'?" in str(info.value)
    assert "it accepts: beta1, beta2, epsilon, use_locking" in str(info.value)


def test_momentum_without_momentum_says_what_is_missing():
    with pytest.raises(ValueError) as info:
        get_optimizer_fn("momentum", learning_rate=0.1)
    assert str(info.value) == (
        "optimizer 'momentum' needs the argument(s) 'momentum', "
        "e.g. get_optimizer_fn('momentum', learning_rate, momentum=...)"
    )


def test_too_many_positional_arguments_is_a_value_error():
    with pytest.raises(ValueError, match=r"optimizer 'sgd': too many positional arguments"):
        get_optimizer_fn("sgd", 0.1, None, False, "name", "extra")


def test_missing_learning_rate_is_refused():
    with pytest.raises(ValueError, match=r"optimizer 'sgd': learning_rate is required"):
        get_optimizer_fn("sgd", None)


def test_builtin_factories_take_their_tensorflow_class_arguments():
    from mox_core.builtin.optimizers import BUILTIN_OPTIMIZERS
    from mox_core.registry import resolve

    for spec in registry("optimizers"):
        if spec.name not in BUILTIN:
            continue
        factory = resolve(spec.factory)
        optimizer_class = getattr(tf.compat.v1.train, BUILTIN_OPTIMIZERS[spec.name])
        assert inspect.signature(factory) == inspect.signature(optimizer_class)
        with tf.Graph().as_default():
            # name=None (the registry contract) keeps TensorFlow's default name.
            opt = factory(
                np.float32(0.1), **({"momentum": 0.9} if spec.name == "momentum" else {}), name=None
            )
            assert isinstance(opt, optimizer_class)
            assert opt.get_name() == inspect.signature(optimizer_class).parameters["name"].default


def test_an_optimizer_wrapper_is_not_an_optimizer(monkeypatch):
    import mox_core.optimizer
    from mox_core.registry import OptimizerSpec, Registry

    specs = [
        OptimizerSpec("sgd", "mox_core.optimizer.factories:sgd"),
        OptimizerSpec("lars", "some_plugin.lars:wrap", wrapper=True),
    ]
    fake = Registry("optimizer", [("some-plugin", specs)])
    monkeypatch.setattr(mox_core.optimizer, "registry", lambda kind: fake)
    with pytest.raises(ValueError, match=r"'lars' is an optimizer wrapper.*optimizers: sgd$"):
        get_optimizer_fn("lars", 0.1)
