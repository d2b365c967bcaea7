"""Under ``tf.app.run(main)`` every log line is printed once, in TensorFlow's form.

absl.app.run puts absl's handler on the root logger while TensorFlow's logger has its own
console handler; without mox's filter each ``tf.logging`` line (mox's step lines too) came out
twice. The scripts run in fresh interpreters: logging set-up is process-wide.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TRAIN_SCRIPT = """
import logging
import sys

import numpy as np
import moxing.tensorflow as mox
import tensorflow.compat.v1 as tf

tf.flags.DEFINE_string('log_dir', '', 'where checkpoints go')
FLAGS = tf.flags.FLAGS


def input_fn(mode):
    x = np.arange(32, dtype='float32').reshape(8, 4) / 32.0
    return tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1, keepdims=True))).repeat()


def model_fn(inputs, mode):
    x, y = inputs
    w = tf.get_variable('w', [4, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    return mox.ModelSpec(loss=loss, log_info={'loss': loss})


def main(argv):
    user_file = logging.FileHandler(FLAGS.log_dir + '.log')  # the script's own handler
    logging.getLogger().addHandler(user_file)
    tf.logging.info('user line through tf.logging')
    logging.getLogger('my_script').warning('user line through its own logger')
    mox.run(input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn('sgd', 0.1), run_mode=mox.ModeKeys.TRAIN,
            batch_size=4, log_dir=FLAGS.log_dir, max_number_of_steps=20,
            log_every_n_steps=10)


if __name__ == '__main__':
    tf.app.run(main)
"""


def test_each_line_is_printed_once_under_tf_app_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(TRAIN_SCRIPT))
    log_dir = tmp_path / "log"
    result = subprocess.run([sys.executable, str(script), f"--log_dir={log_dir}"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()

    def count(text: str) -> int:
        return sum(text in line for line in lines)

    assert count("user line through tf.logging") == 1
    assert "INFO:tensorflow:user line through tf.logging" in lines
    for step in (0, 10):
        assert count(f"step: {step}(global step: {step})") == 1, result.stderr
        assert any(line.startswith(f"INFO:tensorflow:step: {step}(global step: {step})\t")
                   for line in lines)
    # a logger without a handler of its own still prints, through absl's handler
    assert count("user line through its own logger") == 1
    # the script's own root handler still gets every record, TensorFlow's included
    written = Path(f"{log_dir}.log").read_text()
    assert "user line through tf.logging" in written
    assert "user line through its own logger" in written
    assert "step: 10(global step: 10)" in written
