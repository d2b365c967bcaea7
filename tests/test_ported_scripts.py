"""A TF 1.x MoXing script in the iceberg tutorial's pattern, ported by ``mox port`` and run as a
user runs it, in real subprocesses: ``mox.get_tfrecord`` with ``slim.tfexample_decoder``, TRAIN in
one run, then EVAL and PREDICT with ``output_fn`` writing a CSV through ``tf.gfile``. (The
flowers-advanced pattern, which needs a network, is in mox-nets-classic's tests.)
"""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

ICEBERG = '''\
import os
import tensorflow as tf
from tensorflow.contrib import slim
import moxing.tensorflow as mox

NUM_TRAIN, NUM_EVAL, NUM_TEST = 24, 8, 6
tf.flags.DEFINE_string('data_url', None, 'folder of the TFRecords')
tf.flags.DEFINE_string('train_url', None, 'folder of the run')
tf.flags.DEFINE_boolean('is_training', True, 'train, or eval and predict')
flags = tf.flags.FLAGS


def input_fn(run_mode, **kwargs):
    keys_to_features = {
        'band_1': tf.FixedLenFeature((8 * 8,), tf.float32, default_value=None),
        'angle': tf.FixedLenFeature([1], tf.float32, default_value=None),
    }
    items_to_handlers = {
        'band_1': slim.tfexample_decoder.Tensor('band_1', shape=[8, 8, 1]),
        'angle': slim.tfexample_decoder.Tensor('angle', shape=[]),
    }
    if run_mode == mox.ModeKeys.PREDICT:
        pattern, count = 'iceberg-test-*.tfrecord', NUM_TEST
        keys_to_features['id'] = tf.FixedLenFeature([1], tf.int64, default_value=None)
        items_to_handlers['id'] = slim.tfexample_decoder.Tensor('id', shape=[])
    else:
        pattern = 'iceberg-train-*.tfrecord' if run_mode == mox.ModeKeys.TRAIN else \\
            'iceberg-eval-*.tfrecord'
        count = NUM_TRAIN if run_mode == mox.ModeKeys.TRAIN else NUM_EVAL
        keys_to_features['label'] = tf.FixedLenFeature([1], tf.int64, default_value=None)
        items_to_handlers['label'] = slim.tfexample_decoder.Tensor('label', shape=[])
    dataset = mox.get_tfrecord(dataset_dir=flags.data_url, file_pattern=pattern,
                               num_samples=count, keys_to_features=keys_to_features,
                               items_to_handlers=items_to_handlers,
                               shuffle=run_mode == mox.ModeKeys.TRAIN,
                               num_epochs=None if run_mode == mox.ModeKeys.TRAIN else 1)
    last = 'id' if run_mode == mox.ModeKeys.PREDICT else 'label'
    return dataset.get(['band_1', 'angle', last])


def model_fn(inputs, mode, **kwargs):
    band_1, angle, id_or_label = inputs
    net = slim.conv2d(band_1, 4, [3, 3], scope='conv1')
    net = slim.flatten(net)
    net = tf.concat([net, tf.expand_dims(angle, 1)], axis=1)
    logits = slim.fully_connected(net, 2, activation_fn=None, scope='logits')
    if mode == mox.ModeKeys.PREDICT:
        return mox.ModelSpec(output_info={'id': id_or_label,
                                          'is_iceberg': tf.nn.softmax(logits)[:, 1]})
    loss = tf.losses.softmax_cross_entropy(slim.one_hot_encoding(id_or_label, 2), logits)
    accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, id_or_label, 1), tf.float32))
    return mox.ModelSpec(loss=loss, log_info={'loss': loss, 'accuracy': accuracy})


rows = []


def output_fn(outputs):
    for output in outputs:
        for id, score in zip(output['id'], output['is_iceberg']):
            rows.append('%d,%.4f' % (id, score))


def main(*args):
    if flags.is_training:
        mox.run(input_fn=input_fn, model_fn=model_fn,
                optimizer_fn=mox.get_optimizer_fn(name='adam', learning_rate=0.01),
                run_mode=mox.ModeKeys.TRAIN, batch_size=4, log_dir=flags.train_url,
                max_number_of_steps=NUM_TRAIN / 4 * 5, log_every_n_steps=5)
    else:
        metrics = mox.run(input_fn=input_fn, model_fn=model_fn, run_mode=mox.ModeKeys.EVAL,
                          batch_size=4, checkpoint_path=flags.train_url)
        print 'eval accuracy: %.3f' % metrics['accuracy']
        mox.run(input_fn=input_fn, output_fn=output_fn, model_fn=model_fn,
                run_mode=mox.ModeKeys.PREDICT, batch_size=4, output_every_n_steps=1,
                checkpoint_path=flags.train_url)
        with tf.gfile.Open(os.path.join(flags.train_url, 'submission.csv'), 'w') as f:
            f.write('id,is_iceberg\\n' + '\\n'.join(rows) + '\\n')


if __name__ == '__main__':
    tf.app.run(main=main)
'''


def write_iceberg(folder):
    rng = np.random.default_rng(1)

    def records(name, count, with_label):
        with tf.io.TFRecordWriter(str(folder / name)) as writer:
            for k in range(count):
                label = k % 2
                band = rng.normal(size=64) + 2.0 * label  # icebergs are brighter
                feature = {
                    "band_1": tf.train.Feature(float_list=tf.train.FloatList(value=band)),
                    "angle": tf.train.Feature(float_list=tf.train.FloatList(value=[0.4])),
                }
                key, value = ("label", label) if with_label else ("id", 1000 + k)
                feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())

    records("iceberg-train-0.tfrecord", 24, True)
    records("iceberg-eval-0.tfrecord", 8, True)
    records("iceberg-test-0.tfrecord", 6, False)


def run(*args, cwd):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def ported(tmp_path_factory):
    base = tmp_path_factory.mktemp("modelarts")
    (base / "code").mkdir()
    (base / "code" / "iceberg.py").write_text(ICEBERG)
    result = run("-m", "mox_core.cli", "port", base / "code", base / "ported", cwd=base)
    assert result.returncode == 0, result.stderr
    return base


def test_the_iceberg_script_trains_then_evaluates_and_predicts_to_csv(ported):
    write_iceberg(ported)
    script = ported / "ported" / "iceberg.py"
    train = run(script, f"--data_url={ported}", f"--train_url={ported / 'iceberg_run'}",
                cwd=ported)
    assert train.returncode == 0, train.stderr[-3000:]
    assert (ported / "iceberg_run" / "model.ckpt-30.index").exists()
    evaluate = run(script, f"--data_url={ported}", f"--train_url={ported / 'iceberg_run'}",
                   "--is_training=false", cwd=ported)
    assert evaluate.returncode == 0, evaluate.stderr[-3000:]
    accuracy = float(evaluate.stdout.split("eval accuracy: ")[1].split()[0])
    assert accuracy >= 0.75  # a brightness difference of two standard deviations
    with open(ported / "iceberg_run" / "submission.csv") as handle:
        submission = list(csv.DictReader(handle))
    assert [row["id"] for row in submission] == [str(1000 + k) for k in range(6)]
    assert all(0.0 <= float(row["is_iceberg"]) <= 1.0 for row in submission)
