"""TF 1.x MoXing scripts, written as ModelArts' tutorials write them, ported by ``mox port`` and
run as a user runs them: train, export, evaluate and predict in real subprocesses.

* ``train_flowers.py`` (the flowers-advanced pattern): splits a class-folder dataset with
  ``split_image_classification_dataset``, batches in the dataset and leaves ``batch_size`` out of
  ``mox.run``, augments and exports without an image size, defines its own ``--log_dir``,
  trains in a local folder and copies it to ``--train_url`` from an ``atexit`` handler.
* ``iceberg.py`` (the iceberg pattern): ``mox.get_tfrecord`` with ``slim.tfexample_decoder``,
  TRAIN in one run, then EVAL and PREDICT with ``output_fn`` writing a CSV through ``tf.gfile``.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

FLOWERS = '''\
import atexit
import os
import sys
import tensorflow as tf
from tensorflow.contrib import slim
import moxing.tensorflow as mox
from moxing.tensorflow.datasets.raw.raw_dataset import split_image_classification_dataset

tf.flags.DEFINE_string('data_url', None, 'class folders of flower photos')
tf.flags.DEFINE_string('train_url', None, 'where the run is copied at exit')
tf.flags.DEFINE_string('log_dir', '/cache/flowers_log', 'local training folder')
tf.flags.DEFINE_string('model_name', 'lenet', 'network')
tf.flags.DEFINE_integer('batch_size', 8, 'images per step')
flags = tf.flags.FLAGS


def main(*args, **kwargs):
    split_dir = os.path.join(flags.log_dir, 'split')
    split_image_classification_dataset(split_spec={'train': 0.75, 'eval': 0.25},
                                       src_dir=flags.data_url, dst_dir=split_dir,
                                       overwrite=True)
    atexit.register(lambda: mox.file.copy_parallel(flags.log_dir, flags.train_url))
    data_meta = mox.ImageClassificationRawMetadata(base_dir=os.path.join(split_dir, 'train'))
    num_workers = len(mox.get_flag('worker_hosts').split(','))
    print 'classes: %d, workers: %d' % (data_meta.num_classes, num_workers)

    def input_fn(mode, **kwargs):
        augmentation_fn = mox.get_data_augmentation_fn(name=flags.model_name, run_mode=mode)
        dataset = mox.ImageClassificationRawDataset(data_meta, batch_size=flags.batch_size,
                                                    num_epochs=3,
                                                    augmentation_fn=augmentation_fn)
        return dataset.get(['image', 'label'])

    def model_fn(inputs, mode, **kwargs):
        images, labels = inputs
        network = mox.get_model_fn(name=flags.model_name, run_mode=mode,
                                   num_classes=data_meta.num_classes, weight_decay=0.00004)
        logits, _ = network(images)
        labels_one_hot = slim.one_hot_encoding(labels, data_meta.num_classes)
        loss = tf.losses.softmax_cross_entropy(labels_one_hot, logits=logits)
        accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
        export_spec = mox.ExportSpec(inputs_dict={'images': images},
                                     outputs_dict={'logits': logits}, version='model')
        return mox.ModelSpec(loss=loss, log_info={'loss': loss, 'accuracy': accuracy},
                             export_spec=export_spec)

    mox.run(input_fn=input_fn,
            model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn('adam', learning_rate=0.001),
            run_mode=mox.ModeKeys.TRAIN,
            log_dir=flags.log_dir,
            log_every_n_steps=2,
            max_number_of_steps=sys.maxint,
            export_model=mox.ExportKeys.TF_SERVING)


if __name__ == '__main__':
    tf.app.run(main=main)
'''

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


def write_flowers(folder, per_class=8):
    rng = np.random.default_rng(0)
    for index, name in enumerate(["daisy", "roses", "tulips"]):
        (folder / name).mkdir(parents=True)
        for k in range(per_class):
            pixels = rng.integers(0, 60, (20, 24, 3)) + 90 * index  # classes differ in brightness
            Image.fromarray(pixels.astype(np.uint8)).save(folder / name / f"{name}_{k}.jpg")


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
    (base / "code" / "train_flowers.py").write_text(FLOWERS)
    (base / "code" / "iceberg.py").write_text(ICEBERG)
    result = run("-m", "mox_core.cli", "port", base / "code", base / "ported", cwd=base)
    assert result.returncode == 0, result.stderr
    return base


def test_the_flowers_script_trains_exports_and_copies_its_run_at_exit(ported):
    write_flowers(ported / "flower_photos")
    result = run(ported / "ported" / "train_flowers.py", f"--data_url={ported / 'flower_photos'}",
                 f"--log_dir={ported / 'cache'}", f"--train_url={ported / 'obs_train_url'}",
                 cwd=ported)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "classes: 3, workers: 1" in result.stdout
    # 18 training images, 8 a batch, 3 epochs: the data ends the run after 6 full steps and a
    # last smaller one; the export (no image size given: LeNet's 28) follows.
    steps = [line for line in result.stderr.splitlines() if "step: 6(global step: 6)" in line]
    assert len(steps) == 1, result.stderr[-3000:]  # printed once under tf.app.run
    exported = ported / "obs_train_url" / "model"
    assert (exported / "saved_model.pb").exists()  # copied to train_url by the atexit handler
    assert (ported / "obs_train_url" / "model.ckpt-7.index").exists()
    model = tf.saved_model.load(str(exported))
    images = tf.constant(np.zeros([2, 28, 28, 3], np.float32))  # as the dataset gave them
    logits = model.signatures["predict_object"](images=images)["logits"]
    assert logits.shape == (2, 3)


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
