"""A plugin written from the reference alone (``tests/docs_plugin``: a network, a storage
backend, a dataset reader and a named dataset) installs, is listed, and passes the kit; the
kit's storage, reader and named-dataset checks name what a broken one gets wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from mox_core import cli, plugins, testing
from mox_core.commands import data
from mox_core.demo import write_shapes_dataset

DISTRIBUTION = "mox-docs-plugin"
SOURCE = Path(__file__).resolve().parent / "docs_plugin"


@pytest.fixture
def docs_plugin(fake_dists, monkeypatch):
    """tests/docs_plugin installed: its package on sys.path, its dist-info beside the others."""
    monkeypatch.syspath_prepend(str(SOURCE))
    fake_dists.add(DISTRIBUTION, {}, {"docs": "mox_docs_plugin.plugin"}, version="0.1.0")
    yield fake_dists
    for name in [m for m in list(__import__("sys").modules) if m.startswith("mox_docs_plugin")]:
        del __import__("sys").modules[name]


@pytest.fixture
def shapes(tmp_path):
    """The named dataset's layout: DIR/train and DIR/validation, class folders in each."""
    for split in ("train", "validation"):
        write_shapes_dataset(str(tmp_path / "shapes" / split), images_per_class=2, size=28)
    return str(tmp_path / "shapes")


def test_it_is_listed_with_everything_it_registers(docs_plugin, capsys):
    assert testing.check_plugin_registrations(DISTRIBUTION, expected={
        "networks": ["docs_pool_net"], "filesystems": ["memfs"],
        "dataset_readers": ["DocsReader"], "datasets": ["docs_shapes"]})
    assert cli.main(["plugins"]) == 0
    assert ("mox-docs-plugin 0.1.0  (mox_docs_plugin.plugin)\n    networks: docs_pool_net\n"
            "    dataset_readers: DocsReader\n    datasets: docs_shapes\n"
            "    filesystems: memfs\n") in capsys.readouterr().out


def test_its_network_builds_trains_and_exports(docs_plugin, tmp_path):
    testing.check_network("docs_pool_net", tmp_dir=tmp_path, distribution=DISTRIBUTION,
                          end_points=["Predictions"])


def test_its_storage_backend_passes_the_kit_and_so_does_the_cores(docs_plugin, tmp_path):
    checks = testing.check_filesystem("memfs://bucket/kit", tmp_dir=str(tmp_path / "a"))
    assert "copy to a local path (download)" in checks
    assert "copy from a local path (upload)" in checks
    assert "read of a missing path raises MoxFileNotExistsException" in checks
    assert testing.check_filesystem(str(tmp_path / "local"), tmp_dir=str(tmp_path / "b")) == checks


def test_its_reader_reads_local_files_and_its_own_urls(docs_plugin, tmp_path):
    local = testing.check_reader("DocsReader", tmp_dir=str(tmp_path))
    remote = testing.check_reader("DocsReader", tmp_dir=str(tmp_path), root="memfs://bucket/r")
    assert local == remote and len(local) == 5
    testing.check_reader("ParallelReader", tmp_dir=str(tmp_path))


def test_its_named_dataset_has_meta_from_its_folder_and_batches(docs_plugin, shapes):
    batch = testing.check_named_dataset("docs_shapes", shapes, batch_size=2, image_size=28)
    assert batch["image"].shape == (2, 28, 28, 3)
    from mox_core.datasets import get_dataset_meta

    assert get_dataset_meta("docs_shapes").splits_to_sizes == {"train": 8, "validation": 8}
    assert get_dataset_meta("docs_shapes", dataset_dir=shapes).splits_to_sizes == {
        "train": 8, "validation": 8}


LOSES_MISSING_ERRORS = """
from mox_docs_plugin.storage import MemoryBackend


class SloppyBackend(MemoryBackend):
    def read(self, url):
        return self.objects.get(self._key(url), b"")  # a missing object reads as empty
"""

SLOPPY_PLUGIN = """
from mox_core import hookimpl
from mox_core.registry import FilesystemSpec


@hookimpl
def mox_filesystems():
    return [FilesystemSpec(name="sloppyfs", backend="fake_sloppy_backend:SloppyBackend")]
"""


def test_the_storage_check_names_what_a_backend_gets_wrong(docs_plugin, tmp_path):
    docs_plugin.add("fake-sloppy", {"fake_sloppy_backend": LOSES_MISSING_ERRORS,
                                    "fake_sloppy": SLOPPY_PLUGIN}, {"sloppy": "fake_sloppy"})
    with pytest.raises(AssertionError) as excinfo:
        testing.check_filesystem("sloppyfs://bucket/kit", tmp_dir=str(tmp_path))
    assert str(excinfo.value) == (
        "storage backend SloppyBackend of sloppyfs: read of a missing path raises "
        "MoxFileNotExistsException: nothing was raised")


def test_the_reader_check_names_a_reader_built_from_reader_kwargs_alone(fake_dists, tmp_path):
    fake_dists.add("fake-reader", {"fake_reader": """
from mox_core import hookimpl
from mox_core.registry import DatasetReaderSpec


class OnlyKwargs:
    def __init__(self, **reader_kwargs):
        if reader_kwargs:
            raise TypeError(f"unexpected {sorted(reader_kwargs)}")

    def read(self, elements, deterministic):
        return elements


@hookimpl
def mox_dataset_readers():
    return [DatasetReaderSpec(name="OnlyKwargs", reader="fake_reader:OnlyKwargs")]
"""}, {"reader": "fake_reader"})
    with pytest.raises(AssertionError, match=r"dataset reader 'OnlyKwargs': cannot be built as "
                                             r"OnlyKwargs\(num_readers=\.\.\., capacity=\.\.\., "
                                             r"\*\*reader_kwargs\): unexpected \['capacity', "
                                             r"'num_readers'\]"):
        testing.check_reader("OnlyKwargs", tmp_dir=str(tmp_path))
    assert plugins.registry("dataset_readers").get("OnlyKwargs").distribution == "fake-reader"


def test_mox_train_and_eval_read_a_named_dataset_split_by_split(docs_plugin, shapes, tmp_path,
                                                              capsys):
    log_dir = str(tmp_path / "run")
    assert cli.main(["train", "--net", "docs_pool_net", "--dataset", "docs_shapes", "--data",
                     shapes, "--log-dir", log_dir, "--max-steps", "2", "--batch-size", "4",
                     "--quiet"]) == 0
    assert f"checkpoints and TensorBoard summaries: {log_dir}" in capsys.readouterr().out
    assert cli.main(["eval", "--dataset", "docs_shapes", "--data", shapes,
                     "--checkpoint", log_dir, "--batch-size", "4"]) == 0
    assert "accuracy: " in capsys.readouterr().out
    assert [data.locate(shapes, command, dataset="docs_shapes").split
            for command in ("train", "eval")] == ["train", "validation"]


def test_an_unknown_named_dataset_or_a_missing_folder_is_one_error_line(docs_plugin, shapes,
                                                                       tmp_path, capsys):
    args = ["train", "--net", "docs_pool_net", "--log-dir", str(tmp_path / "run"), "--dataset"]
    assert cli.main([*args, "docs_shapez", "--data", shapes]) == 2
    assert capsys.readouterr().err.startswith(
        "mox: error: unknown dataset 'docs_shapez'. Did you mean: docs_shapes?")
    assert cli.main([*args, "docs_shapes", "--data", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"mox: error: --data {str(tmp_path / 'nowhere')!r} is not a folder: with --dataset "
        f"docs_shapes, give the folder that dataset's files are in\n")
