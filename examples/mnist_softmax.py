"""MNIST-style softmax regression with ``mox.run``: MoXing's API manual's ModelSpec example 1, trained,
evaluated and exported as a SavedModel (signature ``predict_object``: images -> predictions).

    python examples/mnist_softmax.py --train_url=/tmp/mnist-run            # generated data
    python examples/mnist_softmax.py --data_url=/data/mnist/ --train_url=/tmp/mnist-run
"""

from __future__ import annotations

import numpy as np
import tensorflow.compat.v1 as tf
from example_data import mnist

import mox_core as mox

flags = tf.flags
flags.DEFINE_string("data_url", "", "folder with the four MNIST .gz files (empty: generated)")
flags.DEFINE_string("train_url", "mnist-softmax", "log_dir: checkpoints, summaries, export")
flags.DEFINE_integer("max_number_of_steps", 500, "training steps")
flags.DEFINE_integer("batch_size", 50, "examples per step")
FLAGS = flags.FLAGS


def main(argv):
    images, labels = mnist(FLAGS.data_url, 5000, "train")
    eval_images, eval_labels = mnist(FLAGS.data_url, 1000, "eval")

    def input_fn(mode, **kwargs):
        x, y = (images, labels) if mode == mox.ModeKeys.TRAIN else (eval_images, eval_labels)
        data = tf.data.Dataset.from_tensor_slices((x, np.eye(10, dtype=np.float32)[y]))
        return data.shuffle(5000).repeat() if mode == mox.ModeKeys.TRAIN else data

    def model_fn(inputs, run_mode, **kwargs):
        x, y_ = inputs
        w = tf.get_variable(name="W", initializer=tf.zeros([784, 10]))
        b = tf.get_variable(name="b", initializer=tf.zeros([10]))
        y = tf.matmul(x, w) + b
        cross_entropy = tf.reduce_mean(
            tf.nn.softmax_cross_entropy_with_logits(labels=tf.stop_gradient(y_), logits=y))
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        export_spec = mox.ExportSpec(inputs_dict={"images": x},
                                     outputs_dict={"predictions": tf.argmax(y, 1)})
        return mox.ModelSpec(loss=cross_entropy, export_spec=export_spec,
                             log_info={"loss": cross_entropy, "accuracy": accuracy})

    mox.run(input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("sgd", learning_rate=0.5),
            run_mode=mox.ModeKeys.TRAIN, batch_size=FLAGS.batch_size,
            log_dir=FLAGS.train_url, max_number_of_steps=FLAGS.max_number_of_steps,
            export_model=mox.ExportKeys.TF_SERVING)
    metrics = mox.run(input_fn=input_fn, model_fn=model_fn, run_mode=mox.ModeKeys.EVAL,
                      batch_size=100, checkpoint_path=FLAGS.train_url)
    print(f"eval accuracy: {metrics['accuracy']:.3f}")


if __name__ == "__main__":
    tf.app.run(main)
