"""``mox demo``, the newcomer's one command, on the installed packages (fewer steps here)."""

from __future__ import annotations

import csv
import glob
import re
import shutil
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf

pytestmark = pytest.mark.slow


def points(folder, tag):
    """The steps of ``tag``'s TensorBoard points in ``folder``'s event files."""
    return [event.step for path in sorted(glob.glob(str(folder / "events.out.tfevents.*")))
            for event in tf.train.summary_iterator(path)
            for value in event.summary.value if value.tag == tag]


def test_demo_trains_evaluates_exports_and_predicts_from_the_export(tmp_path):
    script = shutil.which("mox")
    command = [script] if script else [sys.executable, "-m", "mox_core.cli"]
    result = subprocess.run(
        [*command, "demo", "--dir", str(tmp_path / "demo"), "--steps", "100",
         "--images-per-class", "40", "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in ("$ mox train --net lenet", "$ mox eval", "$ mox export", "$ mox predict"):
        assert step in out
    accuracy = float(re.search(r"^accuracy: (\d\.\d{3})$", out, re.M).group(1))
    assert accuracy >= 0.7, out
    export_dir = tmp_path / "demo" / "export" / "1"
    assert (export_dir / "saved_model.pb").is_file()
    assert (export_dir / "variables" / "variables.index").is_file()
    assert f"--checkpoint {export_dir}" in out  # predictions come from the export
    with open(tmp_path / "demo" / "predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40  # 10 eval images per class
    right = sum(row["image"].split("/")[0] == row["label_1"] for row in rows)
    assert right / len(rows) == pytest.approx(accuracy, abs=0.03)
    # TensorBoard: a 100-step run has a point every step; eval sits at the last one
    log_dir = tmp_path / "demo" / "train"
    assert points(log_dir, "accuracy") == list(range(1, 101))
    assert points(log_dir / "eval", "accuracy") == [100]


def test_demo_refuses_a_folder_that_is_not_an_earlier_demo(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = subprocess.run([sys.executable, "-m", "mox_core.cli", "demo", "--dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "holds files that are not an earlier demo's; choose another one with --dir" in (
        result.stderr)
    assert (tmp_path / "notes.txt").read_text() == "mine"
