"""A MoXing-style training script, run as one task of a cluster by the distributed tests.

    python distributed_train_script.py --job_name=worker --task_index=0 \\
        --ps_hosts=127.0.0.1:p0 --worker_hosts=127.0.0.1:w0,127.0.0.1:w1 \\
        --train_url=DIR --steps=N [--sync_replicas=false] [--probe] [--pace=0.05]

Like real scripts it defines its own flags next to mox's and reads the cluster from them.
``--probe`` trains one scalar ``w`` on the loss ``w * (task_index + 1)`` with SGD at rate 1,
so each step moves ``w`` by minus the mean of the gradients it was given: after ``n``
synchronous steps of two workers ``w == -1.5 n``, after their ``n`` asynchronous steps each
``w == -3 n``. ``--pace`` sleeps after each step, so that tests can act mid-run.
"""

import time

import numpy as np
import tensorflow.compat.v1 as tf

import mox_core as mox

tf.flags.DEFINE_string("train_url", "", "where the chief writes checkpoints")
tf.flags.DEFINE_integer("steps", 10, "local steps of each worker")
tf.flags.DEFINE_boolean("probe", False, "train the one-scalar probe model")
tf.flags.DEFINE_float("pace", 0.0, "seconds to sleep after each step")
tf.flags.DEFINE_integer("save_steps", 0, "checkpoint every n global steps (0: at start and end)")
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
    return mox.ModelSpec(loss=loss, log_info={"loss": loss}, hooks=_pace_hooks())


def probe_input_fn(mode):
    value = float(mox.get_flag("task_index") + 1)
    return tf.data.Dataset.from_tensors(np.float32(value)).repeat()


def probe_model_fn(inputs, mode):
    w = tf.get_variable("w", [], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(w * inputs[0])
    return mox.ModelSpec(loss=loss, log_info={"w": w}, hooks=_pace_hooks())


class Pace(mox.AggregativeSessionRunHook):
    def __init__(self, seconds):
        self.seconds = seconds

    def after_run(self, run_context, run_values):
        time.sleep(self.seconds)


def _pace_hooks():
    return [Pace(FLAGS.pace)] if FLAGS.pace else []


def main(argv):
    probe = FLAGS.probe
    saving = {"save_model_steps": FLAGS.save_steps} if FLAGS.save_steps else {
        "save_model_secs": 600}
    mox.run(input_fn=probe_input_fn if probe else input_fn,
            model_fn=probe_model_fn if probe else model_fn,
            optimizer_fn=mox.get_optimizer_fn("sgd", 1.0 if probe else 0.01),
            run_mode=mox.ModeKeys.TRAIN, batch_size=4 if probe else 16,
            log_dir=FLAGS.train_url or None, max_number_of_steps=FLAGS.steps,
            log_every_n_steps=1, **saving)


if __name__ == "__main__":
    tf.app.run(main)
