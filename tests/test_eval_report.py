"""``mox eval``'s report: top-1 and top-5 accuracy, each class's precision and recall, printed
and in ``eval.json``, and the confusion matrix as a PNG beside the checkpoint and an image in
TensorBoard (with the one-layer network ``fake_pool`` of a test plugin)."""

from __future__ import annotations

import glob
import importlib.util
import io
import json
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image
from test_cli_jobs import POOL_NET, POOL_NET_PLUGIN

from mox_core import cli
from mox_core.commands import confusion_png
from mox_core.commands.eval_report import ConfusionHook, EvalReport
from mox_core.commands.model_fn import OUTPUTS
from mox_core.constants import ModeKeys
from mox_core.demo import SHAPES, write_shapes_dataset


@pytest.fixture
def trained(fake_dists, tmp_path, capsys):
    """A fake_pool model trained 4 steps into ``log``, and its eval data: 3 images a class."""
    fake_dists.add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN, "fake_pool_net": POOL_NET},
                   {"pool": "fake_pool_plugin"})
    train = write_shapes_dataset(str(tmp_path / "train"), images_per_class=2, size=28)
    log_dir = tmp_path / "log"
    assert cli.main(["train", "--net", "fake_pool", "--data", train, "--log-dir", str(log_dir),
                     "--max-steps", "4", "--batch-size", "4", "--quiet"]) == 0
    capsys.readouterr()
    return log_dir, write_shapes_dataset(str(tmp_path / "eval"), images_per_class=3, size=28,
                                         seed=3)


def test_eval_prints_the_report_and_writes_eval_json_and_a_png_beside_the_checkpoint(
        trained, capsys, caplog):
    log_dir, data = trained
    # 12 images in batches of 5: the last batch holds 2, each counted once
    assert cli.main(["eval", "--data", data, "--checkpoint", str(log_dir),
                     "--batch-size", "5"]) == 0
    out = capsys.readouterr().out
    # mox.run's own means, weighted by each step's samples, agree with the report's
    logged = re.search(r"over 12 samples \(3 steps\): loss: (\d+\.\d{3})", caplog.text)

    report = json.loads((log_dir / "eval.json").read_text())
    assert report["checkpoint"] == str(log_dir / "model.ckpt-4")
    assert (report["global_step"], report["data"], report["num_samples"]) == (4, data, 12)
    assert report["class_names"] == sorted(SHAPES)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (4, 4) and matrix.sum(axis=1).tolist() == [3, 3, 3, 3]
    assert report["top1"] == pytest.approx(np.trace(matrix) / 12)
    assert report["top5"] is None  # 4 classes: every label is in the top 5
    assert [c["support"] for c in report["per_class"]] == [3, 3, 3, 3]
    for i, row in enumerate(report["per_class"]):
        predicted = matrix[:, i].sum()
        assert row["precision"] == (pytest.approx(matrix[i, i] / predicted) if predicted
                                    else None)
        assert row["recall"] == pytest.approx(matrix[i, i] / 3)

    lines = out.splitlines()
    assert lines[0] == f"loss: {report['loss']:.3f}" == f"loss: {logged.group(1)}"
    assert lines[1] == f"accuracy: {report['top1']:.3f}"
    assert lines[2] == ("top-5 accuracy: not applicable (4 classes: every class is among the "
                        "top 5)")
    assert lines[3].split() == ["class", "precision", "recall", "support"]
    assert [line.split()[0] for line in lines[4:8]] == sorted(SHAPES)
    png_path = log_dir / "eval-confusion-matrix.png"
    assert lines[-2:] == [f"eval report: {log_dir / 'eval.json'}",
                          f"confusion matrix: {png_path}"]

    with Image.open(png_path) as image:
        assert image.format == "PNG" and 150 <= image.width <= 1000
    # TensorBoard's eval run shows the same image, at the checkpoint's step
    images = [(event.step, value.image) for path in glob.glob(str(log_dir / "eval" / "*"))
              for event in tf.train.summary_iterator(path) for value in event.summary.value
              if value.tag == "confusion_matrix"]
    assert [step for step, _ in images] == [4]
    assert images[0][1].encoded_image_string == png_path.read_bytes()


def test_a_read_only_checkpoint_folder_is_still_evaluated_and_printed(trained, monkeypatch,
                                                                      capsys, caplog):
    log_dir, data = trained
    real_gfile = tf.io.gfile.GFile

    def read_only(path, mode="r"):  # what the filesystem answers a user who may only read
        if str(path).startswith(str(log_dir)) and "w" in mode:
            raise PermissionError(13, "Permission denied", path)
        return real_gfile(path, mode)

    monkeypatch.setattr(tf.io.gfile, "GFile", read_only)
    assert cli.main(["eval", "--data", data, "--checkpoint", str(log_dir)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^accuracy: \d\.\d{3}$", out, re.M)
    assert out.splitlines()[-1] == ("eval.json and the confusion matrix not written: the "
                                    "checkpoint's folder is not writable")
    assert f"Not writing the eval report (eval.json, the confusion matrix) and summary to " \
           f"{log_dir} (not writable" in caplog.text
    assert not (log_dir / "eval.json").exists() and not (log_dir / "eval").exists()


def test_top5_precision_and_recall_of_a_known_confusion_matrix():
    names = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu"]
    matrix = np.zeros((7, 7), np.int64)
    matrix[0, 0], matrix[0, 1] = 3, 1  # ant: 3 right, 1 taken for a bee
    matrix[1, 1] = 2
    matrix[2, 1] = 2  # cat: always taken for a bee, and never predicted itself
    matrix[3, 3] = 4  # eel..gnu: none in the data
    report = EvalReport("/m/model.ckpt-9", 9, "/data", names, matrix, top_k_hits=11,
                        loss_sum=6.0)

    assert (report.num_samples, report.top1, report.top5) == (12, 9 / 12, 11 / 12)
    assert report.loss == 0.5
    assert report.top5_line() == "top-5 accuracy: 0.917"
    assert report.precision()[:4] == [1.0, 2 / 5, None, 1.0]
    assert report.recall() == [3 / 4, 1.0, 0.0, 1.0, None, None, None]
    assert report.class_table() == [
        "class  precision  recall  support",
        "ant        1.000   0.750        4",
        "bee        0.400   1.000        2",
        "cat          n/a   0.000        2",
        "dog        1.000   1.000        4",
        "eel          n/a     n/a        0",
        "fox          n/a     n/a        0",
        "gnu          n/a     n/a        0",
        "precision n/a: the model never predicted the class",
        "recall n/a: the data has no sample of the class",
    ]
    per_class = report.as_json()["per_class"]
    assert per_class[2] == {"name": "cat", "precision": None, "recall": 0.0, "support": 2}


def test_the_hook_counts_every_tower_s_samples_once_per_step():
    logits = np.full((4, 7), 0.0, np.float32)
    logits[np.arange(4), [0, 1, 6, 2]] = 9.0  # the top-1 predictions
    logits[np.arange(4), [1, 3, 5, 4]] = 8.0  # the runners-up (in every top 5)
    logits[3, 0] = -9.0  # sample 3's label, 0: its lowest logit, outside the top 5
    labels = np.array([0, 3, 6, 0], np.int64)
    with tf.Graph().as_default():
        # two towers of 3 and 1 samples, as a short last batch splits
        for rows in (slice(0, 3), slice(3, 4)):
            tf.add_to_collection(OUTPUTS.format(mode=ModeKeys.EVAL, name="labels"),
                                 tf.constant(labels[rows]))
            tf.add_to_collection(OUTPUTS.format(mode=ModeKeys.EVAL, name="logits"),
                                 tf.constant(logits[rows]))
            tf.add_to_collection(OUTPUTS.format(mode=ModeKeys.EVAL, name="loss"),
                                 tf.constant(float(rows.start + 1)))  # each tower's mean loss
        hook = ConfusionHook(7)
        step = tf.no_op()
        with tf.train.MonitoredSession(hooks=[hook]) as session:
            session.run(step)
            session.run(step)
    expected = np.zeros((7, 7), np.int64)
    for true, predicted in ((0, 0), (3, 1), (6, 6), (0, 2)):
        expected[true, predicted] += 2
    np.testing.assert_array_equal(hook.matrix, expected)
    assert hook.top_k_hits == 2 * 3  # samples 0, 1 (label 3 runner-up) and 2; not 3
    assert hook.loss_sum == 2 * (3 * 1.0 + 1 * 4.0)  # each tower's mean times its samples


def test_the_pillow_png_colours_each_cell_by_its_share_of_the_true_class():
    matrix = np.array([[4, 0], [1, 3]])
    png = confusion_png.pillow_png(matrix, ["cat", "dog"], "model.ckpt-1 on /data")
    with Image.open(io.BytesIO(png)) as image:
        colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20)}
    assert confusion_png.FULL in colours  # cat: all its samples right
    assert confusion_png.EMPTY in colours  # cat taken for a dog: never
    three_quarters = tuple(round(e + (f - e) * 0.75)
                           for e, f in zip(confusion_png.EMPTY, confusion_png.FULL))
    assert three_quarters in colours


def test_a_hundred_classes_make_a_png_of_readable_size_with_long_names_cut():
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 3, (100, 100)) + 30 * np.eye(100, dtype=np.int64)
    names = [f"class {i} with a name far too long to print whole" for i in range(100)]
    png = confusion_png.pillow_png(matrix, names, "model.ckpt-1 on /data")
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    assert 1200 <= width <= 1600 and 1200 <= height <= 1600  # 12 pixels a cell, names beside
    assert confusion_png._short(names[0]) == "class 0 with a name f..."


def test_matplotlib_draws_the_png_when_installed_else_pillow():
    matrix, names = np.array([[2, 1], [0, 3]]), ["cat", "dog"]
    png = confusion_png.confusion_png(matrix, names, "title")
    if importlib.util.find_spec("matplotlib") is None:
        assert png == confusion_png.pillow_png(matrix, names, "title")
    else:
        assert png == confusion_png.matplotlib_png(matrix, names, "title")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
