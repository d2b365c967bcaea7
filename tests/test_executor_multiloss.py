"""Several losses (e.g. a GAN): each loss updates only its own variable scopes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import mox_core as mox

NOISE = np.random.default_rng(1).normal(size=(128, 2)).astype("float32")
REAL = (np.random.default_rng(2).normal(size=(128, 2)) * 0.5 + 3.0).astype("float32")


def input_fn(mode):
    return tf.data.Dataset.from_tensor_slices((NOISE, REAL)).repeat()


def gan_model_fn(inputs, mode):
    noise, real = inputs

    def generator(z):
        with tf.variable_scope("generator", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [2, 2], initializer=tf.initializers.identity())
            b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
            return tf.matmul(z, w) + b

    def discriminator(x):
        with tf.variable_scope("discriminator", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [2, 1], initializer=tf.constant_initializer(0.1))
            b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
            return tf.matmul(x, w) + b

    fake = generator(noise)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.reduce_mean(xent(labels=tf.ones_like(real_logits), logits=real_logits)
                            + xent(labels=tf.zeros_like(fake_logits), logits=fake_logits))
    g_loss = tf.reduce_mean(xent(labels=tf.ones_like(fake_logits), logits=fake_logits))
    return mox.ModelSpec(loss=[d_loss, g_loss],
                         var_scopes=[["discriminator"], ["generator"]],
                         log_info={"D_loss": d_loss, "G_loss": g_loss})


def values(log_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))
    return {name: reader.get_tensor(name) for name in
            ("generator/w", "generator/b", "discriminator/w", "discriminator/b", "global_step")}


def run(log_dir, optimizer_fn, steps=20):
    mox.run(input_fn=input_fn, model_fn=gan_model_fn, optimizer_fn=optimizer_fn,
            run_mode=mox.ModeKeys.TRAIN, batch_size=32, log_dir=str(log_dir),
            max_number_of_steps=steps)


def test_both_losses_step_once_per_step_and_the_generator_moves_toward_the_data(tmp_path):
    run(tmp_path, [mox.get_optimizer_fn("adam", 0.05), mox.get_optimizer_fn("adam", 0.05)],
        steps=40)
    after = values(tmp_path)
    assert after["global_step"] == 40
    assert np.all(after["generator/b"] > 0.3)  # the fake samples moved toward the real mean 3
    assert not np.allclose(after["discriminator/w"], 0.1)


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_a_loss_with_zero_learning_rate_leaves_only_its_own_scope_untouched(tmp_path, frozen):
    rates = {"discriminator": 0.1, "generator": 0.1, frozen: 0.0}
    run(tmp_path, [mox.get_optimizer_fn("sgd", rates["discriminator"]),
                   mox.get_optimizer_fn("sgd", rates["generator"])], steps=5)
    after = values(tmp_path)
    moving = "discriminator" if frozen == "generator" else "generator"
    initial = {"generator/w": np.eye(2, dtype=np.float32), "generator/b": np.zeros(2, np.float32),
               "discriminator/w": np.full((2, 1), 0.1, np.float32), "discriminator/b": np.zeros(1, np.float32)}
    for name in (f"{frozen}/w", f"{frozen}/b"):
        np.testing.assert_allclose(after[name], initial[name], rtol=0, atol=0)
    assert not np.allclose(after[f"{moving}/w"], initial[f"{moving}/w"])


def test_one_optimizer_fn_serves_every_loss(tmp_path):
    run(tmp_path, mox.get_optimizer_fn("sgd", 0.1), steps=3)
    assert values(tmp_path)["global_step"] == 3


def test_var_scopes_must_match_the_losses(tmp_path):
    def model_fn(inputs, mode):
        spec = gan_model_fn(inputs, mode)
        spec.var_scopes = [["discriminator"]]
        return spec

    with pytest.raises(ValueError, match="ModelSpec has 2 losses but var_scopes has 1 entries"):
        mox.run(input_fn=input_fn, model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn("sgd", 1),
                run_mode=mox.ModeKeys.TRAIN, batch_size=8, max_number_of_steps=1)


def test_a_list_of_optimizer_fns_must_have_one_per_loss(tmp_path):
    with pytest.raises(ValueError, match="got 3 optimizer functions for 2 losses"):
        run(tmp_path, [mox.get_optimizer_fn("sgd", 0.1)] * 3, steps=1)
