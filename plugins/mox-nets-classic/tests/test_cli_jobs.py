"""``mox train | eval | predict | export`` run as a user runs them: real subprocesses on a small
generated class-folder dataset, with lenet."""

from __future__ import annotations

import csv
import glob
import json
import re
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf

from mox_core.demo import SHAPES, write_shapes_dataset

pytestmark = pytest.mark.slow

ACCURACY = re.compile(r"^accuracy: (\d\.\d{3})$", re.M)


def mox(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "mox_core.cli", *map(str, args)],
                            capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def error_of(result):
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    train_dir = write_shapes_dataset(str(root / "train"), images_per_class=40, seed=1)
    eval_dir = write_shapes_dataset(str(root / "eval"), images_per_class=10, seed=2)
    log_dir = root / "log"
    result = mox("train", "--net", "lenet", "--data", train_dir, "--log-dir", log_dir,
                 "--max-steps", 80, "--batch-size", 16, "--optimizer", "adam", "--log-every", 20)
    return {"root": root, "train": train_dir, "eval": eval_dir, "log": log_dir,
            "result": result}


def test_train_logs_moxing_lines_and_a_progress_bar_and_keeps_the_labels(trained):
    result, log_dir = trained["result"], trained["log"]
    assert "INFO:tensorflow:step: 60(global step: 60)\tsample/sec: " in result.stderr
    assert "Training: 100%|##########| 1280/1280 [" in result.stderr  # 80 steps x 16
    assert "Total 160 files found in " in result.stderr
    assert re.search(r"^loss: \d+\.\d{3}$", result.stdout, re.M)
    assert (log_dir / "labels.txt").read_text() == "".join(
        f"{i}:{name}\n" for i, name in enumerate(SHAPES))
    assert json.loads((log_dir / "mox-model.json").read_text()) == {
        "net": "lenet", "image_size": 28, "num_classes": 4}
    assert tf.train.latest_checkpoint(str(log_dir)).endswith("model.ckpt-80")


def test_log_dir_opens_in_tensorboard_with_scalars_and_the_graph(trained):
    tags, graphs = set(), 0
    for path in glob.glob(str(trained["log"] / "events.out.tfevents.*")):
        for event in tf.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
            graphs += bool(event.graph_def)
    assert {"loss", "accuracy"} <= tags
    assert graphs >= 1
    graph = tf.GraphDef()
    event = next(e for p in glob.glob(str(trained["log"] / "events.out.tfevents.*"))
                 for e in tf.train.summary_iterator(p) if e.graph_def)
    graph.ParseFromString(event.graph_def)
    assert any(node.name.startswith("LeNet/") for node in graph.node)


def points(folder, tag):
    """The steps of ``tag``'s TensorBoard points in ``folder``'s event files."""
    return [event.step for path in sorted(glob.glob(str(folder / "events.out.tfevents.*")))
            for event in tf.train.summary_iterator(path)
            for value in event.summary.value if value.tag == tag]


def test_a_short_run_has_a_tensorboard_point_every_step_up_to_its_last(trained):
    for tag in ("loss", "accuracy"):
        assert points(trained["log"], tag) == list(range(1, 81))


def test_summary_every_sets_the_cadence_and_the_last_step_is_written_too(trained, tmp_path):
    mox("train", "--net", "lenet", "--data", trained["train"], "--log-dir", tmp_path,
        "--max-steps", 12, "--batch-size", 8, "--summary-every", 5, "--quiet")
    assert points(tmp_path, "loss") == [1, 6, 11, 12]


def test_eval_prints_accuracy_of_the_trained_model(trained):
    result = mox("eval", "--net", "lenet", "--data", trained["eval"],
                 "--checkpoint", trained["log"])
    accuracy = float(ACCURACY.search(result.stdout).group(1))
    assert accuracy >= 0.6, result.stdout  # 4 classes: chance is 0.25
    assert "over 40 samples" in result.stderr
    # beside the training curves (the same tags), at the step of the checkpoint it evaluated
    for tag in ("loss", "accuracy"):
        assert set(points(trained["log"] / "eval", tag)) == {80}


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_predict_from_checkpoint_and_from_export_agree(trained):
    root, log_dir = trained["root"], trained["log"]
    result = mox("predict", "--net", "lenet", "--data", trained["eval"],
                 "--checkpoint", log_dir, "--output", root / "ckpt.csv", "--top-k", 3)
    assert "wrote 40 predictions to " in result.stdout
    from_checkpoint = read_csv(root / "ckpt.csv")
    assert list(from_checkpoint[0]) == ["image", "label_1", "score_1", "label_2", "score_2",
                                        "label_3", "score_3"]
    assert sorted(row["image"] for row in from_checkpoint)[0] == "circle/circle_0000.png"
    for row in from_checkpoint:
        assert {row["label_1"], row["label_2"], row["label_3"]} <= set(SHAPES)
        assert 1.0 >= float(row["score_1"]) >= float(row["score_2"]) >= float(row["score_3"])
    right = sum(row["image"].split("/")[0] == row["label_1"] for row in from_checkpoint)
    assert right >= 24

    result = mox("export", "--net", "lenet", "--checkpoint", log_dir,
                 "--log-dir", root / "export")
    export_dir = root / "export" / "1"
    assert f"exported SavedModel: {export_dir}" in result.stdout
    assert (export_dir / "saved_model.pb").is_file()
    assert (export_dir / "labels.txt").read_text() == (log_dir / "labels.txt").read_text()

    mox("predict", "--data", trained["eval"], "--checkpoint", export_dir,
        "--output", root / "export.csv", "--top-k", 3)
    from_export = {row["image"]: row for row in read_csv(root / "export.csv")}
    assert len(from_export) == 40
    for row in from_checkpoint:
        other = from_export[row["image"]]
        assert other["label_1"] == row["label_1"]
        assert float(other["score_1"]) == pytest.approx(float(row["score_1"]), abs=1e-4)


def test_predict_reads_a_folder_of_images_without_classes(trained, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("square/square_0000.png", "cross/cross_0001.png"):
        (flat / name.split("/")[1]).write_bytes((trained["root"] / "eval" / name).read_bytes())
    mox("predict", "--data", flat, "--checkpoint", trained["log"], "--output",
        tmp_path / "p.csv", "--top-k", 9)
    rows = read_csv(tmp_path / "p.csv")
    assert [row["image"] for row in rows] == ["cross_0001.png", "square_0000.png"]
    assert "label_4" in rows[0] and "label_5" not in rows[0]  # top-k stops at the 4 classes
    png = (flat / "cross_0001.png").read_bytes()
    third = len(png) // 3  # damaged inside, the end intact: only decoding it tells
    (flat / "zz_damaged.png").write_bytes(png[:third] + bytes(third) + png[2 * third:])
    message = error_of(mox("predict", "--data", flat, "--checkpoint", trained["log"],
                           "--output", tmp_path / "q.csv", check=False))
    assert message == (f"mox: error: cannot decode image file {flat / 'zz_damaged.png'}: the "
                       f"file is truncated or corrupt. Fix or remove the file, or pass "
                       f"--skip-corrupt to skip such files.")
    result = mox("predict", "--data", flat, "--checkpoint", trained["log"], "--output",
                 tmp_path / "q.csv", "--skip-corrupt")
    assert f"Skipping image '{flat / 'zz_damaged.png'}'" in result.stderr
    assert [row["image"] for row in read_csv(tmp_path / "q.csv")] == ["cross_0001.png",
                                                                     "square_0000.png"]


def test_eval_on_tfrecords_with_a_validation_split(trained, tmp_path):
    records = tmp_path / "records"
    mox("convert", trained["eval"], records, "--validation-fraction", 0.5, "--quiet")
    result = mox("eval", "--data", records, "--checkpoint", trained["log"])
    assert ACCURACY.search(result.stdout)
    assert "*_validation_*.tfrecord ; Total number of samples is 20" in result.stderr


def test_eval_on_data_with_other_classes_is_a_clear_error(trained, tmp_path):
    other = tmp_path / "other"
    for name in ("circle", "star"):
        (other / name).mkdir(parents=True)
        (other / name / "a.png").write_bytes(
            (trained["root"] / "eval" / "circle" / "circle_0000.png").read_bytes())
    message = error_of(mox("eval", "--data", other, "--checkpoint", trained["log"],
                           check=False))
    assert message.startswith(f"mox: error: --data '{other}' does not hold the classes the "
                              f"model was trained on")
    assert "folders not in the labels file: 'star'" in message


def test_train_errors_name_what_is_wrong(trained, tmp_path):
    def train_error(data, *more):
        return error_of(mox("train", "--net", "lenet", "--data", data, "--log-dir",
                            tmp_path / "log", *more, check=False))

    assert train_error(tmp_path / "missing") == (
        f"mox: error: --data '{tmp_path / 'missing'}' does not exist")
    (tmp_path / "empty").mkdir()
    assert "is empty: it holds no class folders, no .tfrecord files" in train_error(
        tmp_path / "empty")
    assert "holds images but no class folders" in train_error(trained["root"] / "eval" / "cross")
    assert "lr_strategy" in train_error(trained["train"], "--lr-strategy", "5:0.1,x")


def test_eval_without_a_checkpoint_is_a_clear_error(trained, tmp_path):
    message = error_of(mox("eval", "--net", "lenet", "--data", trained["eval"],
                           "--checkpoint", tmp_path, check=False))
    assert "is a folder with no checkpoint in it" in message


def test_framework_flags_pass_through_to_the_run(trained, tmp_path):
    result = mox("train", "--net", "lenet", "--data", trained["train"], "--log-dir",
                 tmp_path / "fine", "--max-steps", 1, "--checkpoint", trained["log"],
                 "--checkpoint_exclude_patterns=.*", check=False)
    assert "would restore no variable" in error_of(result)
