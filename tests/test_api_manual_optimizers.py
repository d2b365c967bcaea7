"""The examples of section 3 of MoXing's API manual (``moxing-tensorflow-api.zh.md``),
optimizers: ``mox.get_optimizer_fn`` with its built-in optimizers, and
``learning_rate_scheduler.piecewise_lr`` in the manual's training script.

Where the manual elides code (``...``) or uses names its script defines elsewhere (``flags``,
``ori_dataset_meta``, ``input_fn``, ``model_fn``, the batch sizes), the smallest stand-in fills
the gap, noted where it stands.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from moxing.tensorflow.optimizer import learning_rate_scheduler
from test_datasets_support import make_class_folders

import moxing.tensorflow as mox

# --------------------------------------------------------------------------- get_optimizer_fn


def fit_one_model_fn(inputs, run_mode, **kwargs):
    """``loss = (w - 1)^2`` with ``w`` starting at 0: its gradient there is -2."""
    w = tf.get_variable('w', [], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(w - inputs[0]))
    return mox.ModelSpec(loss=loss, log_info={'loss': loss})


def run_fit_one(log_dir, optimizer_fn, steps):
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensors(1.0).repeat(),
            model_fn=fit_one_model_fn, optimizer_fn=optimizer_fn, run_mode=mox.ModeKeys.TRAIN,
            batch_size=2, log_dir=str(log_dir), max_number_of_steps=steps)
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))


def test_get_optimizer_fn_sample_takes_a_learning_rate_of_one_half(tmp_path):
    # the manual's mox.run(..., optimizer_fn=..., ...): the one-variable model above stands in
    checkpoint = run_fit_one(tmp_path, mox.get_optimizer_fn('sgd', learning_rate=0.5), steps=1)
    assert checkpoint.get_tensor('w') == 1.0  # 0 - 0.5 * -2: one exact gradient step


@pytest.mark.parametrize("name, kwargs, slot", [
    ('adadelta', {}, 'Adadelta'),
    ('adagrad', {}, 'Adagrad'),
    ('adam', {}, 'Adam'),
    ('ftrl', {}, 'Ftrl'),
    ('momentum', {'momentum': 0.9}, 'Momentum'),
    ('rmsprop', {}, 'RMSProp'),
    ('sgd', {}, None),
])
def test_each_builtin_optimizer_the_manual_lists_trains_through_run(tmp_path, name, kwargs,
                                                                     slot):
    checkpoint = run_fit_one(tmp_path, mox.get_optimizer_fn(name, learning_rate=0.5, **kwargs),
                             steps=3)
    assert abs(checkpoint.get_tensor('w') - 1.0) < 1.0  # closer to 1 than the start, 0
    # the optimizer's own slot variables show which TensorFlow optimizer ran
    slots = {key for key in checkpoint.get_variable_to_shape_map() if key.startswith('w/')}
    assert (slot is None) == (not slots)
    assert all(key.startswith(f'w/{slot}') for key in slots)


def test_get_optimizer_fn_refuses_an_unsupported_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer 'sdg'.*Did you mean: sgd"):
        mox.get_optimizer_fn('sdg', learning_rate=0.5)


# --------------------------------------------------------------------------- piecewise_lr


def manual_lr(epoch):
    """What ``"5:0.1->0.4,10:0.4=>0.8,15:0.8,20:0.08"`` gives at ``epoch``, segment by segment:
    each ``E:spec`` runs from the previous boundary to ``E``; the last value holds after it."""
    if epoch < 5:
        return 0.1 + (0.4 - 0.1) * epoch / 5
    if epoch < 10:
        return 0.4 * (0.8 / 0.4) ** ((epoch - 5) / 5)
    if epoch < 15:
        return 0.8
    return 0.08


def test_piecewise_lr_sample_trains_on_the_manuals_schedule(tmp_path):
    # the script's own flags and settings, which the manual's sample leaves out
    flags = types.SimpleNamespace(optimizer='sgd', momentum=0.9, run_mode=mox.ModeKeys.TRAIN,
                                  log_every_n_steps=10, checkpoint_url=None)
    make_class_folders(tmp_path / "train", {"cat": 4, "dog": 4}, size=(8, 8))
    ori_dataset_meta = mox.ImageClassificationRawMetadata(base_dir=str(tmp_path / "train"))
    batch_size_per_device = 4
    total_batch_size = batch_size_per_device * mox.get_flag('num_gpus')
    num_workers = len(mox.get_flag('worker_hosts').split(','))
    sync_replica = mox.get_flag('sync_replicas')
    use_eval_data = False
    log_dir = str(tmp_path / "log")
    max_number_of_steps = 44  # 8 samples in batches of 4: 2 steps an epoch, 22 epochs
    save_summary_steps, save_model_secs = 100, 600
    rates = []

    class LearningRateRecorder(mox.AggregativeSessionRunHook):
        def before_run(self, run_context):
            graph = run_context.session.graph
            lr, = [op.outputs[0] for op in graph.get_operations()
                   if op.name.endswith('piecewise_lr/learning_rate')]
            return tf.train.SessionRunArgs(lr)

        def after_run(self, run_context, run_values):
            rates.append(float(run_values.results))

    def input_fn(run_mode, **kwargs):
        # batches already (auto_batch=False below)
        dataset = mox.ImageClassificationRawDataset(ori_dataset_meta, batch_size=4, image_size=8)
        return dataset.get(['image', 'label'])

    def model_fn(inputs, run_mode, **kwargs):
        images, labels = inputs
        features = tf.reshape(tf.cast(images, tf.float32) / 255.0, [-1, 8 * 8 * 3])
        w = tf.get_variable('w', [8 * 8 * 3, 2], initializer=tf.zeros_initializer())
        logits = tf.matmul(features, w)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        export_spec = mox.ExportSpec(inputs_dict={'images': inputs[0]},
                                     outputs_dict={'logits': logits})
        return mox.ModelSpec(loss=loss, log_info={'loss': loss}, export_spec=export_spec,
                             hooks=[LearningRateRecorder()])

    # the manual's sample from here on
    lr_stg = "5:0.1->0.4,10:0.4=>0.8,15:0.8,20:0.08"

    def optimizer_fn():
        global_batch_size = total_batch_size * num_workers if sync_replica else total_batch_size
        lr = learning_rate_scheduler.piecewise_lr(lr_stg,
                                                  num_samples=ori_dataset_meta.total_num_samples,
                                                  global_batch_size=global_batch_size)
        if flags.optimizer is None or flags.optimizer == 'sgd':
            opt = mox.get_optimizer_fn('sgd', learning_rate=lr)()
        elif flags.optimizer == 'momentum':
            opt = mox.get_optimizer_fn('momentum', learning_rate=lr, momentum=flags.momentum)()
        elif flags.optimizer == 'adam':
            opt = mox.get_optimizer_fn('adam', learning_rate=lr)()
        else:
            raise ValueError('Unsupported optimizer name: %s' % flags.optimizer)  # noqa: UP031
        return opt

    mox.run(input_fn=input_fn,
            model_fn=model_fn,
            optimizer_fn=optimizer_fn,
            run_mode=flags.run_mode,
            inter_mode=mox.ModeKeys.EVAL if use_eval_data else None,
            log_dir=log_dir,
            batch_size=batch_size_per_device,
            auto_batch=False,
            max_number_of_steps=max_number_of_steps,
            log_every_n_steps=flags.log_every_n_steps,
            save_summary_steps=save_summary_steps,
            save_model_secs=save_model_secs,
            checkpoint_path=flags.checkpoint_url,
            export_model=mox.ExportKeys.TF_SERVING)

    expected = [manual_lr(step * 4 / 8) for step in range(max_number_of_steps)]
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    # epochs 0-5 linear from 0.1 to 0.4, 5-10 exponential to 0.8, 10-15 at 0.8, then 0.08
    assert rates[0] == pytest.approx(0.1) and rates[5] == pytest.approx(0.1 + 0.3 * 2.5 / 5)
    assert rates[15] == pytest.approx(0.4 * 2 ** 0.5)
    assert rates[20:30] == pytest.approx([0.8] * 10)
    assert rates[30:] == pytest.approx([0.08] * 14)
    assert list((tmp_path / "log").glob("**/saved_model.pb"))  # export_model wrote the model
