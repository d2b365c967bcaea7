"""The examples of section 1 of MoXing's API manual (``moxing-tensorflow-api.zh.md``), run flags
and common: ``mox.get_flag``, ``mox.set_flag`` and ``mox.ModeKeys``, as the manual writes them.

The other sections' examples are in the sibling ``test_api_manual_*.py`` files.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import moxing.tensorflow as mox


@pytest.fixture
def restore_flags():
    saved = {name: mox.get_flag(name) for name in ("checkpoint_exclude_patterns", "worker_hosts")}
    yield
    for name, value in saved.items():
        mox.set_flag(name, value)


# --------------------------------------------------------------------------- mox.get_flag


def test_get_flag_example_reads_worker_hosts_by_flag_name(restore_flags):
    worker_hosts = mox.get_flag(flag_name='worker_hosts')
    assert worker_hosts == ''  # one process: no cluster
    mox.set_flag('worker_hosts', 'host-a:2222,host-b:2222')
    worker_hosts = mox.get_flag(flag_name='worker_hosts')
    assert len(worker_hosts.split(',')) == 2  # the scripts' worker count idiom


def test_get_flag_takes_the_signatures_name_too():
    # the manual's signature says get_flag(name), its example flag_name=: both are accepted
    assert mox.get_flag('num_gpus') == mox.get_flag(name='num_gpus') == \
        mox.get_flag(flag_name='num_gpus') == 1


def test_get_flag_with_both_spellings_is_an_error_naming_both():
    with pytest.raises(TypeError, match=r"get_flag\(\) got both name='num_gpus' and "
                                        r"flag_name='task_index': flag_name is another spelling "
                                        r"of name; pass only one of them"):
        mox.get_flag(name='num_gpus', flag_name='task_index')
    with pytest.raises(TypeError, match=r"get_flag\(\) missing its argument 'name' \(also spelt "
                                        r"'flag_name'\)"):
        mox.get_flag()


# --------------------------------------------------------------------------- mox.set_flag


def two_layer_model_fn(inputs, run_mode, **kwargs):
    """A body layer and a ``logits`` layer, as a network fine-tuned on new classes has."""
    x, y = inputs
    with tf.variable_scope('body'):
        w = tf.get_variable('w', [4, 4], initializer=tf.initializers.identity())
    with tf.variable_scope('logits'):
        v = tf.get_variable('w', [4, 2], initializer=tf.constant_initializer(0.5))
    loss = tf.losses.sparse_softmax_cross_entropy(y, tf.matmul(tf.matmul(x, w), v))
    return mox.ModelSpec(loss=loss, log_info={'loss': loss})


def train_two_layers(log_dir, learning_rate, checkpoint_path=None):
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices((x, y)).repeat(),
            model_fn=two_layer_model_fn,
            optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=learning_rate),
            run_mode=mox.ModeKeys.TRAIN, batch_size=8, log_dir=str(log_dir),
            checkpoint_path=checkpoint_path, max_number_of_steps=3)
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))


def test_set_flag_example_leaves_the_logits_out_of_a_warm_start(tmp_path, restore_flags):
    pretrained = train_two_layers(tmp_path / "pretrained", learning_rate=0.5)
    assert not np.allclose(pretrained.get_tensor('body/w'), np.eye(4))

    mox.set_flag('checkpoint_exclude_patterns', 'logits')
    # learning rate 0: what the checkpoint holds is what the warm start loaded
    tuned = train_two_layers(tmp_path / "tuned", 0.0, checkpoint_path=str(tmp_path / "pretrained"))
    np.testing.assert_array_equal(tuned.get_tensor('body/w'), pretrained.get_tensor('body/w'))
    np.testing.assert_array_equal(tuned.get_tensor('logits/w'), np.full((4, 2), 0.5, np.float32))
    assert tuned.get_tensor('global_step') == 3  # a warm start begins at step 0


# --------------------------------------------------------------------------- mox.ModeKeys


def test_mode_keys_print_as_the_manual_shows(capsys):
    print(mox.ModeKeys.TRAIN)
    print(mox.ModeKeys.EVAL)
    print(mox.ModeKeys.PREDICT)
    print(mox.ModeKeys.EXPORT)
    assert capsys.readouterr().out == "TRAIN\nEVAL\nPREDICT\nEXPORT\n"
    # the built-in ModeKeys the manual lists
    assert (mox.ModeKeys.EVAL, mox.ModeKeys.EXPORT, mox.ModeKeys.PREDICT, mox.ModeKeys.TRAIN) == (
        'EVAL', 'EXPORT', 'PREDICT', 'TRAIN')


def test_mode_keys_name_the_mode_that_model_fn_receives(tmp_path):
    seen = []

    def model_fn(inputs, mode):
        seen.append(mode)
        x, y = inputs
        w = tf.get_variable('w', [4, 2], initializer=tf.zeros_initializer())
        loss = tf.losses.sparse_softmax_cross_entropy(y, tf.matmul(x, w))
        return mox.ModelSpec(loss=loss, log_info={'loss': loss})

    x = np.ones((8, 4), np.float32)
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(
                (x, np.zeros(8, np.int64))).repeat(),
            model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn('sgd', 0.1),
            run_mode=mox.ModeKeys.TRAIN, batch_size=4, log_dir=str(tmp_path),
            max_number_of_steps=1)
    assert seen == [mox.ModeKeys.TRAIN] == ['TRAIN']
    with pytest.raises(ValueError, match="run_mode"):
        mox.run(input_fn=lambda mode: x, model_fn=model_fn, run_mode='train', batch_size=4,
                log_dir=str(tmp_path))
