"""A GAN with two losses in one ``ModelSpec`` (MoXing's API manual, ModelSpec example 3): each step, the
discriminator loss updates only ``discriminator/`` variables and the generator loss only
``generator/`` ones, both on the same batch of real images.

    python examples/gan.py --train_url=/tmp/gan                       # generated shapes
    python examples/gan.py --data_url=/data/mnist/ --train_url=/tmp/gan

After training it writes ``samples.png`` (8x8 generated images) into ``train_url``.
"""

from __future__ import annotations

import io

import numpy as np
import tensorflow.compat.v1 as tf
from example_data import mnist
from PIL import Image

import mox_core as mox

flags = tf.flags
flags.DEFINE_string("data_url", "", "folder with the MNIST .gz files (empty: generated)")
flags.DEFINE_string("train_url", "gan-run", "log_dir: checkpoints and summaries")
flags.DEFINE_integer("max_number_of_steps", 1000, "training steps")
flags.DEFINE_integer("batch_size", 64, "real images per step")
FLAGS = flags.FLAGS
NOISE = 64


def generator(z, reuse=False):
    with tf.variable_scope("generator", reuse=reuse):
        hidden = tf.nn.relu(_dense(z, 256, "hidden"))
        return tf.nn.sigmoid(_dense(hidden, 784, "out"))


def discriminator(x, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        hidden = tf.nn.leaky_relu(_dense(x, 256, "hidden"), 0.2)
        return _dense(hidden, 1, "out")


def _dense(x, units, name):
    w = tf.get_variable(f"{name}/weights", [x.shape[-1], units],
                        initializer=tf.glorot_uniform_initializer())
    b = tf.get_variable(f"{name}/biases", [units], initializer=tf.zeros_initializer())
    return tf.matmul(x, w) + b


def model_fn(inputs, mode, **kwargs):
    real = inputs[0]
    z = tf.random_uniform([tf.shape(real)[0], NOISE], -1.0, 1.0)
    fake = generator(z)
    real_logits = discriminator(real)
    fake_logits = discriminator(fake, reuse=True)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.reduce_mean(xent(labels=tf.ones_like(real_logits), logits=real_logits)
                            + xent(labels=tf.zeros_like(fake_logits), logits=fake_logits))
    g_loss = tf.reduce_mean(xent(labels=tf.ones_like(fake_logits), logits=fake_logits))
    return mox.ModelSpec(loss=[d_loss, g_loss], var_scopes=[["discriminator"], ["generator"]],
                         log_info={"D_loss": d_loss, "G_loss": g_loss})


def write_samples(log_dir):
    """8x8 images from the trained generator, as one PNG in ``log_dir``."""
    with tf.Graph().as_default(), tf.Session() as session:
        images = generator(tf.random_uniform([64, NOISE], -1.0, 1.0))
        tf.train.Saver().restore(session, tf.train.latest_checkpoint(log_dir))
        grid = session.run(images).reshape(8, 8, 28, 28).transpose(0, 2, 1, 3)
    buffer = io.BytesIO()
    Image.fromarray((grid.reshape(224, 224) * 255).astype(np.uint8)).save(buffer, "PNG")
    mox.file.write(log_dir.rstrip("/") + "/samples.png", buffer.getvalue(), binary=True)


def main(argv):
    images, _ = mnist(FLAGS.data_url, 10000)

    def input_fn(mode, **kwargs):
        return tf.data.Dataset.from_tensor_slices(images).shuffle(10000).repeat()

    adam = mox.get_optimizer_fn("adam", 0.0002, None, 0.5)
    mox.run(input_fn=input_fn, model_fn=model_fn, optimizer_fn=[adam, adam],
            run_mode=mox.ModeKeys.TRAIN, batch_size=FLAGS.batch_size,
            log_dir=FLAGS.train_url, max_number_of_steps=FLAGS.max_number_of_steps)
    write_samples(FLAGS.train_url)


if __name__ == "__main__":
    tf.app.run(main)
