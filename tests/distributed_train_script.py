"""A MoXing-style training script, run as one task of a cluster by the distributed tests.

    python distributed_train_script.py --job_name=worker --task_index=0 \\
        --ps_hosts=127.0.0.1:p0 --worker_hosts=127.0.0.1:w0,127.0.0.1:w1 \\
        --train_url=DIR --steps=N [--sync_replicas=false]

Like real scripts it defines its own flags next to mox's and reads the cluster from them.
"""

import numpy as np
import tensorflow.compat.v1 as tf

import mox_core as mox

tf.flags.DEFINE_string("train_url", "", "where the chief writes checkpoints")
tf.flags.DEFINE_integer("steps", 10, "local steps of each worker")
FLAGS = tf.flags.FLAGS

RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 8)).astype("float32")
Y = (X @ RNG.normal(size=(8, 1))).astype("float32")


def input_fn(mode):
    return tf.data.Dataset.from_tensor_slices((X, Y)).repeat()


def model_fn(inputs, mode):
    x, y = inputs
    hidden = tf.get_variable("hidden", [8, 64])
    bias = tf.get_variable("bias", [64], initializer=tf.zeros_initializer())
    out = tf.get_variable("out", [64, 1])
    prediction = tf.matmul(tf.nn.relu(tf.matmul(x, hidden) + bias), out)
    loss = tf.reduce_mean(tf.square(prediction - y))
    return mox.ModelSpec(loss=loss, log_info={"loss": loss})


def main(argv):
    mox.run(input_fn=input_fn, model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn("sgd", 0.01),
            run_mode=mox.ModeKeys.TRAIN, batch_size=16, log_dir=FLAGS.train_url or None,
            max_number_of_steps=FLAGS.steps, log_every_n_steps=1, save_model_secs=600)


if __name__ == "__main__":
    tf.app.run(main)
