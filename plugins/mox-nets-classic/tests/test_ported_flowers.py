"""A TF 1.x MoXing script in the flowers-advanced tutorial's pattern, ported by ``mox port`` and
run as a user runs it, in a real subprocess: it splits a class-folder dataset with
``split_image_classification_dataset``, batches in the dataset and leaves ``batch_size`` out of
``mox.run``, augments and exports without an image size, defines its own ``--log_dir``, trains in
a local folder and copies it to ``--train_url`` from an ``atexit`` handler.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
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


def write_flowers(folder, per_class=8):
    rng = np.random.default_rng(0)
    for index, name in enumerate(["daisy", "roses", "tulips"]):
        (folder / name).mkdir(parents=True)
        for k in range(per_class):
            pixels = rng.integers(0, 60, (20, 24, 3)) + 90 * index  # classes differ in brightness
            Image.fromarray(pixels.astype(np.uint8)).save(folder / name / f"{name}_{k}.jpg")


def run(*args, cwd):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_the_flowers_script_trains_exports_and_copies_its_run_at_exit(tmp_path):
    (tmp_path / "train_flowers.py").write_text(FLOWERS)
    port = run("-m", "mox_core.cli", "port", tmp_path / "train_flowers.py",
               tmp_path / "ported" / "train_flowers.py", cwd=tmp_path)
    assert port.returncode == 0, port.stderr
    write_flowers(tmp_path / "flower_photos")
    result = run(tmp_path / "ported" / "train_flowers.py", f"--data_url={tmp_path / 'flower_photos'}",
                 f"--log_dir={tmp_path / 'cache'}", f"--train_url={tmp_path / 'obs_train_url'}",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "classes: 3, workers: 1" in result.stdout
    # 18 training images, 8 a batch, 3 epochs: the data ends the run after 6 full steps and a
    # last smaller one; the export (no image size given: LeNet's 28) follows.
    steps = [line for line in result.stderr.splitlines() if "step: 6(global step: 6)" in line]
    assert len(steps) == 1, result.stderr[-3000:]  # printed once under tf.app.run
    exported = tmp_path / "obs_train_url" / "model"
    assert (exported / "saved_model.pb").exists()  # copied to train_url by the atexit handler
    assert (tmp_path / "obs_train_url" / "model.ckpt-7.index").exists()
    model = tf.saved_model.load(str(exported))
    images = tf.constant(np.zeros([2, 28, 28, 3], np.float32))  # as the dataset gave them
    logits = model.signatures["predict_object"](images=images)["logits"]
    assert logits.shape == (2, 3)
