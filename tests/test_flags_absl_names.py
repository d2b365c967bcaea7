"""Scripts define flags that absl.logging also defines on TF 2 (``--log_dir``), as on TF 1.x.

Each case is a real script run by a fresh interpreter: flag definitions are process-wide.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = """
import moxing.tensorflow as mox
import tensorflow.compat.v1 as tf
from absl import logging as absl_logging

tf.flags.DEFINE_string('log_dir', 'default', 'where this script writes checkpoints')
tf.app.flags.DEFINE_boolean('logtostderr', True, 'this script also has this switch')
tf.flags.DEFINE_integer('batch_size', 8, 'a flag of the script that absl does not have')
FLAGS = tf.flags.FLAGS


def main(argv):
    print('log_dir=' + FLAGS.log_dir)
    print('logtostderr=' + str(FLAGS.logtostderr))
    print('batch_size=' + str(FLAGS.batch_size))
    print('num_gpus=' + str(mox.get_flag('num_gpus')))
    absl_logging.info('absl logging works')
    tf.logging.info('tf logging works')


if __name__ == '__main__':
    tf.app.run(main)
"""


def run_script(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)


def values(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


@pytest.mark.parametrize(
    "args, expected",
    [
        ([], {"log_dir": "default", "logtostderr": "True", "batch_size": "8", "num_gpus": "1"}),
        (["--log_dir=/cache/log", "--nologtostderr", "--batch_size=32", "--num_gpus=2"],
         {"log_dir": "/cache/log", "logtostderr": "False", "batch_size": "32",
          "num_gpus": "2"}),
    ],
    ids=["defaults", "command_line"],
)
def test_script_defines_log_dir_like_on_tf1(tmp_path, args, expected):
    result = run_script(tmp_path, SCRIPT, *args)
    assert result.returncode == 0, result.stderr
    assert values(result.stdout) == expected
    # absl's handler (installed by tf.app.run) still logs, TensorFlow's logger too
    assert "absl logging works" in result.stderr
    assert "tf logging works" in result.stderr


def test_flags_absl_needs_stay_absl_and_fail_clearly(tmp_path):
    result = run_script(tmp_path, """
        import moxing.tensorflow as mox
        import tensorflow.compat.v1 as tf

        tf.flags.DEFINE_integer('verbosity', 0, 'absl.app.run calls methods of absl flag')
    """)
    assert result.returncode != 0
    assert "DuplicateFlagError" in result.stderr
    assert "'verbosity' is defined twice" in result.stderr


SEED_SCRIPT = """
import moxing.tensorflow as mox
import tensorflow.compat.v1 as tf

tf.flags.DEFINE_integer('seed', 5, 'the seed of this script')
FLAGS = tf.flags.FLAGS


def main(argv):
    print('script=' + str(FLAGS.seed))
    print('mox=' + str(mox.get_flag('seed')))


if __name__ == '__main__':
    tf.app.run(main)
"""


@pytest.mark.parametrize("args, expected", [([], "5"), (["--seed=7"], "7")])
def test_a_script_may_define_its_own_seed_flag_which_the_run_then_reads(tmp_path, args,
                                                                        expected):
    result = run_script(tmp_path, SEED_SCRIPT, *args)
    assert result.returncode == 0, result.stderr
    assert values(result.stdout) == {"script": expected, "mox": expected}
