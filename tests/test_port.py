"""``mox port``: TF 1.x MoXing scripts, notebooks and folders ported, then run on mox.

The scripts are written here in the style of ModelArts' MoXing tutorials (Python 2 prints,
``sys.maxint``, ``tf.flags``, ``tf.contrib.slim``, the MNIST tutorial reader), the MNIST files
are a few generated images in the real idx format. The folder is ported once by the real CLI
in a subprocess and the ported script is trained as a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from test_mnist_input_data import write_mnist

from mox_core.port import PortError, port_path, port_source

TRAIN_SCRIPT = '''\
# -*- coding: utf-8 -*-
# 用 MoXing 训练 MNIST (MNIST with MoXing): a small convnet
import os
import sys

import tensorflow as tf
import moxing.tensorflow as mox
from tensorflow.examples.tutorials.mnist import input_data

slim = tf.contrib.slim

tf.flags.DEFINE_string('data_url', None, 'folder of the four MNIST .gz files')
tf.flags.DEFINE_string('train_url', None, 'where checkpoints are written')
tf.flags.DEFINE_integer('max_number_of_steps', sys.maxint, 'steps to train')
flags = tf.flags.FLAGS
BATCH_SIZE = 10


def main(*args):
    mnist = input_data.read_data_sets(flags.data_url, one_hot=False, validation_size=10)
    num_samples = mnist.train.num_examples
    steps_per_epoch = num_samples / BATCH_SIZE
    print "samples: %d, steps per epoch: %d" % (num_samples, steps_per_epoch)

    def input_fn(run_mode, **kwargs):
        def gen():
            while True:
                yield mnist.train.next_batch(BATCH_SIZE)
        ds = tf.data.Dataset.from_generator(
            gen, output_types=(tf.float32, tf.int64),
            output_shapes=(tf.TensorShape([None, 784]), tf.TensorShape([None])))
        return ds.make_one_shot_iterator().get_next()

    def model_fn(inputs, run_mode, **kwargs):
        images, labels = inputs
        net = tf.reshape(images, [-1, 28, 28, 1])
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_initializer=tf.truncated_normal_initializer(stddev=0.1)):
            net = slim.conv2d(net, 4, [3, 3], scope='conv1')
            net = slim.max_pool2d(net, [2, 2], scope='pool1')
            net = slim.flatten(net)
            logits = slim.fully_connected(net, 10, activation_fn=None, scope='logits')
        one_hot = slim.one_hot_encoding(labels, 10)
        loss = tf.reduce_mean(
            tf.nn.softmax_cross_entropy_with_logits(labels=one_hot, logits=logits))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        return mox.ModelSpec(loss=loss, log_info={'loss': loss, 'accuracy': accuracy})

    def optimizer_fn():
        return tf.train.GradientDescentOptimizer(learning_rate=0.1)

    for key, value in sorted(flags.flag_values_dict().iteritems()):
        if key in ('data_url', 'train_url'):
            print key, '=', value
    mox.run(input_fn=input_fn,
            model_fn=model_fn,
            optimizer_fn=optimizer_fn,
            run_mode=mox.ModeKeys.TRAIN,
            batch_size=BATCH_SIZE,
            auto_batch=False,
            log_dir=flags.train_url,
            max_number_of_steps=flags.max_number_of_steps,
            log_every_n_steps=5)
    print "done"


if __name__ == '__main__':
    tf.app.run(main=main)
'''

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# MNIST, TF 1.x\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["!pip list | grep moxing\n", "import tensorflow as tf\n",
                    "import tensorflow.contrib.slim as slim\n",
                    "from tensorflow.examples.tutorials.mnist import input_data"]},
        # nbformat also allows one string per cell
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": "%matplotlib inline\nfor i in xrange(3):\n    print i\n"},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 2,
}


def mox(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mox_core.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def ported(tmp_path_factory):
    """A ModelArts code folder (script, notebook, data, a note, a link pointing out of it)
    ported by ``mox port SRC`` into the default ``SRC_ported``."""
    base = tmp_path_factory.mktemp("port")
    src = base / "mnist_code"
    (src / "data").mkdir(parents=True)
    (src / "train_mnist.py").write_text(TRAIN_SCRIPT, encoding="utf-8")
    (src / "explore.ipynb").write_text(json.dumps(NOTEBOOK, indent=1), encoding="utf-8")
    (src / "README.txt").write_text("run train_mnist.py on ModelArts\n")
    write_mnist(src / "data")
    (base / "secret.txt").write_text("outside the code folder\n")
    os.symlink(base / "secret.txt", src / "link_out.txt")
    result = mox("port", str(src))
    return base, src, base / "mnist_code_ported", result


def test_the_ported_folder_script_trains_on_mox(ported):
    base, _src, dst, result = ported
    assert result.returncode == 0, result.stderr
    script = (dst / "train_mnist.py").read_text(encoding="utf-8")
    assert "import tensorflow.compat.v1 as tf\n" in script
    assert "import moxing.tensorflow as mox\n" in script  # mox answers to MoXing's name
    assert "from mox_core.tutorials.mnist import input_data\n" in script
    assert "import mox_core.slim as slim\n" in script
    assert "sys.maxsize, 'steps to train')" in script and 'print("done")' in script
    assert "# 用 MoXing 训练 MNIST" in script  # comments and formatting stay
    run = subprocess.run(
        [sys.executable, str(dst / "train_mnist.py"), f"--data_url={dst / 'data'}",
         f"--train_url={base / 'log'}", "--max_number_of_steps=20"],
        capture_output=True, text=True, timeout=300, cwd=base)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "samples: 50, steps per epoch: 5" in run.stdout and "done" in run.stdout
    assert (base / "log" / "model.ckpt-20.index").exists()
    assert "step: 15(global step: 15)" in run.stderr


def test_the_report_lists_every_change_and_the_division_by_line(ported):
    _base, src, dst, result = ported
    report = (dst / "port_report.txt").read_text(encoding="utf-8")
    assert result.stdout.startswith(report)  # printed and written alike
    assert "line 6: import tensorflow as tf -> import tensorflow.compat.v1 as tf" in report
    assert "line 10: slim = tf.contrib.slim -> import mox_core.slim as slim" in report
    assert "line 14: sys.maxint -> sys.maxsize" in report
    assert "line 52: .iteritems -> .items" in report
    assert "line 54: print key, '=', value -> print(key, '=', value)" in report
    assert "line 22: `num_samples / BATCH_SIZE`: `/` of integers floored in Python 2" in report
    assert "steps_per_epoch = num_samples / BATCH_SIZE" in (dst / "train_mnist.py").read_text(
        encoding="utf-8")  # reported, not guessed
    assert f"{src / 'link_out.txt'}: skipped, a symbolic link" in report
    assert "2 file(s) ported, 13 change(s), 1 thing(s) to do by hand" in report


def test_a_folder_port_copies_other_files_and_never_follows_links(ported):
    base, src, dst, _ = ported
    assert (dst / "README.txt").read_text() == "run train_mnist.py on ModelArts\n"
    assert (dst / "data" / "train-images-idx3-ubyte.gz").read_bytes() == (
        src / "data" / "train-images-idx3-ubyte.gz").read_bytes()
    assert {path.name for path in base.iterdir()} <= {
        "mnist_code", "mnist_code_ported", "secret.txt", "log"}  # log: the training test's
    assert sorted(str(path.relative_to(dst)) for path in dst.rglob("*")) == [
        "README.txt", "data", *(f"data/{name}" for name in sorted(os.listdir(src / "data"))),
        "explore.ipynb", "port_report.txt", "train_mnist.py"]  # no link_out.txt


def test_notebook_cells_are_ported_and_their_magics_kept(ported):
    _base, _src, dst, _ = ported
    cells = json.loads((dst / "explore.ipynb").read_text(encoding="utf-8"))["cells"]
    assert cells[0] == NOTEBOOK["cells"][0]
    assert cells[1]["source"] == ["!pip list | grep moxing\n",
                                  "import tensorflow.compat.v1 as tf\n",
                                  "import mox_core.slim as slim\n",
                                  "from mox_core.tutorials.mnist import input_data"]
    assert cells[2]["source"] == "%matplotlib inline\nfor i in range(3):\n    print(i)\n"
    report = (dst / "port_report.txt").read_text(encoding="utf-8")
    assert "cell 3 line 3: print i -> print(i)" in report


def test_porting_a_port_changes_nothing(ported, tmp_path):
    _base, _src, dst, _ = ported
    reports, written = port_path(str(dst), str(tmp_path / "again"))
    for name in ("train_mnist.py", "explore.ipynb"):
        assert (tmp_path / "again" / name).read_bytes() == (dst / name).read_bytes()
    ported_files = [r for r in reports if not r.copied]
    assert len(ported_files) == 2 and not any(r.changes for r in ported_files)
    assert "2 file(s) ported, 0 change(s)" in open(written).read()


def test_python2_leftovers_are_fixed_on_their_lines():
    script = ("import sys\n"
              "def show(d, out=sys.stderr):\n"
              "    for k, v in d.iteritems(): print k, v\n"
              "    print >>out, 'total', len(d),\n"
              "    try:\n"
              "        n = int(raw_input('n? '))\n"
              "    except ValueError, e:\n"
              "        print\n"
              "    return [unicode(i) for i in xrange(sys.maxint)] if d.has_key(1) else 0777\n")
    text, changes, problems = port_source(script, "show.py")
    assert text == ("import sys\n"
                    "def show(d, out=sys.stderr):\n"
                    "    for k, v in d.items(): print(k, v)\n"
                    "    print('total', len(d), end=\" \", file=out)\n"
                    "    try:\n"
                    "        n = int(input('n? '))\n"
                    "    except ValueError as e:\n"
                    "        print()\n"
                    "    return [str(i) for i in range(sys.maxsize)] if d.has_key(1) else 0o777\n")
    assert {(c.line, c.old, c.new) for c in changes} >= {
        (3, "print k, v", "print(k, v)"), (7, "except ValueError, e", "except ValueError as e"),
        (9, "xrange", "range"), (9, "sys.maxint", "sys.maxsize"), (9, "0777", "0o777")}
    assert [(p.line, p.advice) for p in problems] == [(9, "write `k in d` for `d.has_key(k)`")]
    assert port_source(text, "show.py")[:2] == (text, [])


def test_division_of_counts_is_reported_not_changed():
    script = ("steps = num_samples / batch_size\n"
              "scaled = image / 255.0\n"
              "half = len(files) / 2\n")
    text, changes, problems = port_source(script)
    assert text == script and not changes
    assert [p.line for p in problems] == [1, 3]
    assert "write `//` if a whole number is meant" in problems[0].advice
    assert not port_source("from __future__ import division\n" + script)[2]
    # int(...) around it says a whole number is meant already
    assert not port_source("steps = int(num_samples / batch_size)\n")[2]


def test_a_script_running_its_own_sessions_gets_graph_mode_on_its_import_line():
    script = ("import tensorflow as tf  # TF 1.x\n"
              "x = tf.placeholder(tf.float32)\n"
              "with tf.Session() as sess:\n"
              "    print(sess.run(x * 2, {x: 3.0}))\n")
    text, changes, _ = port_source(script)
    assert text.splitlines()[0] == ("import tensorflow.compat.v1 as tf; "
                                    "tf.disable_eager_execution()  # TF 1.x")
    assert any(c.line == 1 and "runs sessions on ops it builds" in c.why for c in changes)
    result = subprocess.run([sys.executable, "-c", text], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "6.0"
    assert port_source(text)[0] == text  # ported twice: unchanged
    mox_only = "import tensorflow as tf\nimport moxing.tensorflow as mox\nmox.run()\n"
    assert "disable_eager_execution" not in port_source(mox_only)[0]


def test_py_funcs_are_reported_for_their_bytes_arguments():
    script = ("import tensorflow as tf\n"
              "ids = tf.py_func(lambda s: [ord(c) for c in s], [name], tf.int64)\n")
    _, _, problems = port_source(script)
    assert [(p.line, "as bytes in Python 3" in p.what) for p in problems] == [(2, True)]
    assert "value.decode()" in problems[0].advice


def test_every_slim_import_form_points_at_mox_core_slim():
    script = ("import tensorflow as tf  # TF 1.x\n"
              "import tensorflow.contrib.slim as slim\n"
              "from tensorflow.contrib import slim as s2\n"
              "from tensorflow.contrib.slim.nets import resnet_v1\n"
              "import moxing.tensorflow as mox\n"
              "net = tf.contrib.slim.conv2d(tf.zeros([1, 8, 8, 3]), 4, [3, 3])\n"
              "w = tf.contrib.layers.xavier_initializer()\n"
              "y = tf.layers.dense(net, 3)\n")
    text, _changes, problems = port_source(script, "nets.py")
    assert text.splitlines() == [
        "import tensorflow.compat.v1 as tf; import mox_core.slim  # TF 1.x",
        "import mox_core.slim as slim",
        "from mox_core import slim as s2",
        "from tensorflow.contrib.slim.nets import resnet_v1",
        "import moxing.tensorflow as mox",
        "net = mox_core.slim.conv2d(tf.zeros([1, 8, 8, 3]), 4, [3, 3])",
        "w = tf.contrib.layers.xavier_initializer()",
        "y = tf.layers.dense(net, 3)"]
    by_line = {p.line: p for p in problems}
    assert "mox.get_model_fn" in by_line[4].advice
    assert "tf.contrib.layers.xavier_initializer" in by_line[7].what
    assert "mox_core.slim" in by_line[7].advice
    assert "needs Keras 2" in by_line[8].what and "conv2d" in by_line[8].advice
    assert "TF_USE_LEGACY_KERAS=1" in by_line[8].advice
    namespace: dict = {}
    exec(compile(text.split("\n", 1)[0], "nets.py", "exec"), namespace)  # the import works
    assert hasattr(namespace["mox_core"].slim, "conv2d")


def test_a_file_that_does_not_parse_is_an_error_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nprint 'ok'\ndef broken(:\n    pass\n")
    result = mox("port", str(bad))
    assert result.returncode == 2
    assert f"{bad}, line 3: does not parse as Python 3" in result.stderr
    assert not (tmp_path / "bad_ported.py").exists()


def test_the_destination_may_not_be_the_source_or_inside_it(tmp_path):
    (tmp_path / "code").mkdir()
    with pytest.raises(PortError, match="is .* or inside it"):
        port_path(str(tmp_path / "code"), str(tmp_path / "code" / "out"))
    with pytest.raises(PortError, match="is .* or inside it"):
        port_path(str(tmp_path / "code"), str(tmp_path / "code"))


def test_in_place_keeps_the_original_as_bak(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("for i in xrange(2): print i\n")
    reports, written = port_path(str(script), in_place=True)
    assert script.read_text() == "for i in range(2): print(i)\n"
    assert (tmp_path / "job.py.bak").read_text() == "for i in xrange(2): print i\n"
    assert written == str(tmp_path / "job.port_report.txt")
    port_path(str(script), in_place=True, overwrite=True)  # nothing changes: no second .bak
    assert (tmp_path / "job.py.bak").read_text() == "for i in xrange(2): print i\n"


def test_a_file_is_ported_into_a_folder_that_does_not_exist_yet(tmp_path):
    (tmp_path / "train.py").write_text("import tensorflow as tf\n")
    result = mox("port", str(tmp_path / "train.py"), str(tmp_path / "ported" / "train.py"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ported" / "train.py").read_text() == "import tensorflow.compat.v1 as tf\n"
