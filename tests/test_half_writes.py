"""Nothing half-written: a failed or killed ``mox convert``, ``mox export``, ``mox predict`` or
model-info rewrite leaves the previous output whole, and no partial output that looks usable.

Real files and real ``mox`` subprocesses; ``kill -9`` at the exact moments through the test
seam of ``mox_core.file.atomic`` (``MOX_TEST_CRASH_AT``). The jobs train the one-layer network
of test_cli_jobs' test plugin, so no network plugin is needed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest
from conftest import FakeDistributions
from test_cli_jobs import POOL_NET, POOL_NET_PLUGIN
from test_datasets_support import encode, make_class_folders

from mox_core.commands import artifacts
from mox_core.file import atomic

KILLED = -signal.SIGKILL


def files(folder) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included), by relative path, with its bytes."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = open(path, "rb").read()
    return found


def hidden(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


@pytest.fixture(scope="module")
def mox(tmp_path_factory):
    """``mox(*args, crash_at=None)``: the CLI in a subprocess that sees the test plugin."""
    site = tmp_path_factory.mktemp("site")
    FakeDistributions(site).add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN,
                                              "fake_pool_net": POOL_NET},
                                {"pool": "fake_pool_plugin"})

    def run(*args, crash_at=None) -> subprocess.CompletedProcess:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
               "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
        env.pop(atomic.CRASH_AT_VARIABLE, None)
        if crash_at:
            env[atomic.CRASH_AT_VARIABLE] = crash_at
        return subprocess.run([sys.executable, "-m", "mox_core.cli", *map(str, args)],
                              capture_output=True, text=True, timeout=300, env=env)

    return run


@pytest.fixture(scope="module")
def trained(mox, tmp_path_factory):
    """A shapes dataset and a log dir trained on it for 2 steps."""
    from mox_core.demo import write_shapes_dataset

    root = tmp_path_factory.mktemp("trained")
    data = write_shapes_dataset(str(root / "data"), images_per_class=2, size=28)
    log_dir = root / "log"
    result = mox("train", "--net", "fake_pool", "--data", data, "--log-dir", log_dir,
                 "--max-steps", 2, "--quiet")
    assert result.returncode == 0, result.stderr
    return root / "data", log_dir


# -- one file ----------------------------------------------------------------------------------

def test_a_write_that_raises_leaves_the_old_file_and_nothing_else(tmp_path):
    target = tmp_path / "predictions.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="midway"), atomic.atomic_write(str(target)) as out:
        out.write("new, but only half")
        raise RuntimeError("failed midway")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["predictions.csv"]
    atomic.write_atomically(str(target), "new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["predictions.csv"]


def test_a_kill_while_rewriting_the_model_info_leaves_the_earlier_files(tmp_path):
    artifacts.ModelInfo("lenet", 28, ["circle", "square"], str(tmp_path)).write()
    before = files(tmp_path)
    script = ("from mox_core.commands import artifacts; artifacts.ModelInfo('lenet', 32, "
              f"['a', 'b', 'c'], {str(tmp_path)!r}).write()")
    env = {**os.environ, atomic.CRASH_AT_VARIABLE: "atomic-write"}
    killed = subprocess.run([sys.executable, "-c", script], env=env, timeout=120)
    assert killed.returncode == KILLED
    visible = {name: data for name, data in files(tmp_path).items() if name[0] != "."}
    assert visible == before  # the old files, whole: never empty, never the new half
    info = artifacts.read(str(tmp_path), "--log-dir")
    assert (info.net, info.image_size, info.labels) == ("lenet", 28, ["circle", "square"])


# -- mox convert -------------------------------------------------------------------------------

@pytest.fixture
def converted(tmp_path):
    """A dataset converted to ``out`` (3 shards), with a file of the user's beside the shards."""
    src = tmp_path / "flowers"
    make_class_folders(src, {"daisy": 6, "roses": 4, "tulips": 5})
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "mox_core.cli", "convert", str(src), str(out),
                             "--shards", "3", "--quiet"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    (out / "NOTES.md").write_text("the user's own file\n")
    return src, out


def test_a_failed_overwrite_keeps_the_previous_dataset_byte_for_byte(mox, converted, tmp_path):
    src, out = converted
    before = files(out)
    # the 12th of 17 images in the shuffled order (seed 0): when it fails, the first new shard
    # is complete and the second one half-written
    (src / "daisy" / "zz_damaged.jpg").write_bytes(encode()[:60])
    (src / "daisy" / "new.jpg").write_bytes(encode())
    result = mox("convert", src, out, "--shards", "2", "--overwrite", "--quiet")
    assert result.returncode == 2
    assert (f"mox: error: cannot convert image file {src / 'daisy' / 'zz_damaged.jpg'}: it is "
            f"truncated or corrupt") in result.stderr
    assert files(out) == before  # no partial shard, no -of-00002 shard beside -of-00003 ones
    assert hidden(tmp_path) == []  # and the staging folder is gone


def test_a_convert_killed_before_the_swap_keeps_the_previous_dataset(mox, converted):
    src, out = converted
    before = files(out)
    (src / "daisy" / "new.jpg").write_bytes(encode())
    killed = mox("convert", src, out, "--shards", "2", "--overwrite", "--quiet",
                 crash_at="publish-folder")
    assert killed.returncode == KILLED, killed.stderr
    assert files(out) == before
    [leftover] = hidden(out.parent)  # the complete new version, never swapped in
    assert leftover.startswith(".out.mox-partial-")
    result = mox("convert", src, out, "--shards", "2", "--overwrite", "--quiet")
    assert result.returncode == 0, result.stderr
    assert f"an earlier run that was stopped midway left {out.parent / leftover}" in \
        result.stderr
    assert sorted(files(out)) == ["NOTES.md", "flowers_train_00000-of-00002.tfrecord",
                                  "flowers_train_00001-of-00002.tfrecord", "labels.txt"]
    assert (out / "NOTES.md").read_text() == "the user's own file\n"


def test_an_overwrite_replaces_its_own_shards_and_keeps_the_rest(converted, monkeypatch):
    from mox_core.datasets.convert import convert_to_tfrecord

    src, out = converted
    convert_to_tfrecord(str(src), str(out), name="other", num_shards=1, progress=False)
    others = {name: data for name, data in files(out).items() if not name.startswith("flowers")}
    # the same on a filesystem without renameat2: two renames instead of one exchange
    for exchange in (True, False):
        if not exchange:
            monkeypatch.setattr(atomic, "_renameat2", lambda *args: False)
        counts = convert_to_tfrecord(str(src), str(out), num_shards=1, overwrite=True,
                                     progress=False)
        assert counts == {"train": 15}
        assert sorted(files(out)) == sorted([*others, "flowers_train_00000-of-00001.tfrecord"])
        assert {name: files(out)[name] for name in others} == others
        assert hidden(out.parent) == []


# -- mox train, export, predict ----------------------------------------------------------------

def test_a_train_restart_killed_while_rewriting_the_model_info_resumes(mox, trained):
    data, log_dir = trained
    before = files(log_dir)
    killed = mox("train", "--net", "fake_pool", "--data", data, "--log-dir", log_dir,
                 "--max-steps", 4, "--quiet", crash_at="atomic-write")
    assert killed.returncode == KILLED, killed.stderr
    for name in (artifacts.LABELS_FILE, artifacts.MODEL_FILE):
        assert (log_dir / name).read_bytes() == before[name]
    result = mox("eval", "--data", data, "--checkpoint", log_dir)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("moment", ["publish-folder", "atomic-write"])
def test_an_export_killed_midway_leaves_no_version(mox, trained, tmp_path, moment):
    """Killed once the SavedModel is written (``publish-folder``), or while writing the model
    info beside it (``atomic-write``): no numbered folder appears, so neither TF Serving nor
    ``mox predict`` finds a version without its labels."""
    _, log_dir = trained
    exports = tmp_path / "exports"
    killed = mox("export", "--checkpoint", log_dir, "--log-dir", exports, crash_at=moment)
    assert killed.returncode == KILLED, killed.stderr
    assert [name for name in os.listdir(exports) if not name.startswith(".")] == []
    result = mox("export", "--checkpoint", log_dir, "--log-dir", exports)
    assert result.returncode == 0, result.stderr
    assert sorted(files(exports / "1")) == sorted([
        "saved_model.pb", "labels.txt", "mox-model.json",
        "variables/variables.data-00000-of-00001", "variables/variables.index"])


def test_a_failed_predict_keeps_the_previous_csv(mox, trained, tmp_path):
    data, log_dir = trained
    results = tmp_path / "results" / "predictions.csv"  # the folder is made
    first = mox("predict", "--data", data, "--checkpoint", log_dir, "--output", results)
    assert first.returncode == 0, first.stderr
    before = results.read_bytes()
    assert before.startswith(b"image,label_1,score_1") and before.count(b"\n") == 9
    copy = tmp_path / "copy"  # the dataset, one image damaged inside
    shutil.copytree(data, copy)
    png = (data / "circle" / "circle_0000.png").read_bytes()
    third = len(png) // 3
    (copy / "triangle" / "triangle_0001.png").write_bytes(png[:third] + bytes(third) +
                                                          png[2 * third:])
    failed = mox("predict", "--data", copy, "--checkpoint", log_dir, "--output", results)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "triangle_0001.png" in failed.stderr
    assert results.read_bytes() == before
    assert os.listdir(results.parent) == ["predictions.csv"]


def test_predict_output_errors_say_what_was_expected(mox, trained, tmp_path):
    data, log_dir = trained
    (tmp_path / "a_file").write_text("x")
    folder, through_file = str(tmp_path), str(tmp_path / "a_file" / "p.csv")
    for output, message in [
        (folder, f"--output {folder!r} is a folder: give the path of the CSV file to write, "
                 f"e.g. {folder + '/predictions.csv'!r}"),
        (through_file, f"--output {through_file!r} cannot be written: "
                       f"{str(tmp_path / 'a_file')!r} is a file, not a folder; give the CSV a "
                       f"path in a folder"),
    ]:
        result = mox("predict", "--data", data, "--checkpoint", log_dir, "--output", output)
        assert result.returncode == 2
        assert [line for line in result.stderr.splitlines() if "mox: error" in line] == [
            f"mox: error: {message}"]
        assert "Traceback" not in result.stderr


def test_an_output_folder_reached_through_a_link_is_replaced_where_it_is(converted, tmp_path):
    from mox_core.datasets.convert import convert_to_tfrecord

    src, out = converted
    link = tmp_path / "latest"
    link.symlink_to(out)
    convert_to_tfrecord(str(src), str(link), num_shards=1, overwrite=True, progress=False)
    assert link.is_symlink() and os.path.realpath(link) == str(out)
    assert sorted(files(out)) == ["NOTES.md", "flowers_train_00000-of-00001.tfrecord",
                                  "labels.txt"]
