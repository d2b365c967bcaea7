"""Predict a folder of class folders with a network and write a CSV through ``output_fn``
(MoXing's API manual, ModelSpec example 4: ``output_every_n_steps`` equal to the number of steps, so
``output_fn`` gets every step's predictions at once).

``checkpoint_url`` is a checkpoint of ``model_name`` trained on ``num_classes`` classes; without
it, a LeNet is first trained for a few steps on generated shapes so the example runs anywhere::

    python examples/predict_to_csv.py --output=/tmp/predictions.csv
    python examples/predict_to_csv.py --data_url=/data/flowers/eval --model_name=resnet_v1_50 \\
        --checkpoint_url=/runs/flowers --num_classes=5 --image_size=224 --output=obs://b/p.csv
"""

from __future__ import annotations

import csv
import io
import math
import os

import numpy as np
import tensorflow.compat.v1 as tf

import mox_core as mox
from mox_core.demo import write_shapes_dataset

flags = tf.flags
flags.DEFINE_string("data_url", "", "class-folder dataset to predict (empty: generated)")
flags.DEFINE_string("checkpoint_url", "", "checkpoint to predict with (empty: train one)")
flags.DEFINE_string("model_name", "lenet", "network of the checkpoint")
flags.DEFINE_integer("num_classes", 4, "classes of the checkpoint")
flags.DEFINE_integer("image_size", 28, "input height and width")
flags.DEFINE_integer("batch_size", 32, "images per step")
flags.DEFINE_string("output", "predictions.csv", "the CSV to write (local or obs://...)")
FLAGS = flags.FLAGS


def image_input_fn(meta, mode, shuffle):
    dataset = mox.ImageClassificationRawDataset(
        meta, num_epochs=None if shuffle else 1, shuffle=shuffle,
        image_size=FLAGS.image_size)
    image, label, name = dataset.get(["image", "label", "image_name"])
    image = mox.get_data_augmentation_fn(FLAGS.model_name, mode, FLAGS.image_size,
                                         FLAGS.image_size)(image)
    return image, label, name


def network(images, mode):
    return mox.get_model_fn(FLAGS.model_name, mode, FLAGS.num_classes,
                            image_height=FLAGS.image_size, image_width=FLAGS.image_size)(images)


def train_a_checkpoint(meta, log_dir):
    """A quickly trained checkpoint, for running the example without one."""

    def model_fn(inputs, mode):
        images, labels, _ = inputs
        logits, _ = network(images, mode)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    mox.run(input_fn=lambda mode: image_input_fn(meta, mode, True), model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("adam", 0.003), run_mode=mox.ModeKeys.TRAIN,
            batch_size=FLAGS.batch_size, log_dir=log_dir, max_number_of_steps=60)
    return log_dir


def main(argv):
    data_url = FLAGS.data_url
    work = os.path.splitext(FLAGS.output)[0] + "-work" if "://" not in FLAGS.output else "work"
    if not data_url:
        data_url = write_shapes_dataset(os.path.join(work, "data"), 16, seed=3)
    meta = mox.ImageClassificationRawMetadata(base_dir=data_url)
    checkpoint = FLAGS.checkpoint_url or train_a_checkpoint(meta, os.path.join(work, "train"))
    steps = math.ceil(meta.total_num_samples / FLAGS.batch_size)

    def model_fn(inputs, run_mode, **kwargs):
        images, _, names = inputs
        logits, _ = network(images, run_mode)
        probabilities = tf.nn.softmax(logits)
        return mox.ModelSpec(output_info={"image_name": names, "prediction": tf.argmax(logits, 1),
                                          "confidence": tf.reduce_max(probabilities, 1)})

    def output_fn(outputs):
        buffer = io.StringIO()
        table = csv.writer(buffer, lineterminator="\n")
        table.writerow(["image", "prediction", "label", "confidence"])
        for output in outputs:
            for name, index, confidence in zip(output["image_name"], output["prediction"],
                                               output["confidence"]):
                table.writerow([os.path.relpath(name.decode(), data_url), int(index),
                                meta.labels_list[index] if index < meta.num_classes else "",
                                f"{np.float32(confidence):.4f}"])
        mox.file.write(FLAGS.output, buffer.getvalue())
        print(f"wrote {sum(len(o['image_name']) for o in outputs)} predictions to {FLAGS.output}")

    mox.run(input_fn=lambda mode: image_input_fn(meta, mode, False), model_fn=model_fn,
            output_fn=output_fn, output_every_n_steps=steps, batch_size=FLAGS.batch_size,
            run_mode=mox.ModeKeys.PREDICT, max_number_of_steps=steps,
            checkpoint_path=checkpoint)


if __name__ == "__main__":
    tf.app.run(main)
