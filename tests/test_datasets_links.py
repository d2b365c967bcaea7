"""Symbolic links out of a dataset folder, and the dataset cache's folder.

A dataset unpacked from someone else's archive can hold links to the user's own files (a key,
a credentials file); the raw datasets leave out links that lead out of the dataset folder
unless asked, name them in one warning, and keep links inside the folder working. The cache
folder's name under ``cache_dir`` is predictable, so what someone planted there is refused.
"""

from __future__ import annotations

import logging
import os

import pytest
from test_datasets_support import COLORS, encode, make_class_folders, save_image

import mox_core as mox
from mox_core.datasets.cache import cache_root_for

COUNTS = {"a": 2, "b": 2}


@pytest.fixture
def layout(tmp_path):
    """``data/`` (classes a, b) with links out to a file and to a class folder of ``home/``,
    and links inside (a file, and a class folder ``c`` that is ``a`` again)."""
    data = tmp_path / "data"
    make_class_folders(data, COUNTS)
    home = tmp_path / "home"
    secret = save_image(home / "credentials.jpg", COLORS[2])
    make_class_folders(home, {"private": 3})
    os.symlink(secret, data / "a" / "innocent.jpg")
    os.symlink(home / "private", data / "private")
    os.symlink(data / "b" / "0.jpg", data / "a" / "alias.jpg")
    os.symlink("a", data / "c")  # relative, inside
    return data, home


def link_warnings(caplog):
    return [r.getMessage() for r in caplog.records if "symbolic links" in r.getMessage()]


def test_links_out_of_the_dataset_are_left_out_and_named_once(layout, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    data, home = layout
    meta = mox.ImageClassificationRawMetadata(str(data))
    assert meta.labels_list == ["a", "b", "c"]
    assert sorted(rel for rel, _ in meta.samples) == [
        "a/0.jpg", "a/1.jpg", "a/alias.jpg", "b/0.jpg", "b/1.jpg",
        "c/0.jpg", "c/1.jpg", "c/alias.jpg"]
    assert sorted(meta.links_outside) == [("a/innocent.jpg", str(home / "credentials.jpg")),
                                          ("c/innocent.jpg", str(home / "credentials.jpg")),
                                          ("private", str(home / "private"))]
    [warning] = link_warnings(caplog)
    assert f"Left out 3 symbolic links in {data} that lead out of the dataset folder" in warning
    assert f"'a/innocent.jpg -> {home / 'credentials.jpg'}'" in warning
    assert f"'private -> {home / 'private'}'" in warning
    assert "follow_symlinks=True" in warning


def test_follow_symlinks_reads_them(layout, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    data, _ = layout
    meta = mox.ImageClassificationRawMetadata(str(data), follow_symlinks=True)
    assert meta.labels_list == ["a", "b", "c", "private"]
    assert meta.total_num_samples == 4 * 2 + 2 + 3 and meta.links_outside == []
    assert ("a/innocent.jpg", 0) in meta.samples
    assert link_warnings(caplog) == []


def test_a_dataset_folder_reached_through_a_link_is_the_users_choice(layout, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    data, _ = layout
    os.symlink(data, tmp_path / "view")  # the folder named is resolved first
    meta = mox.ImageClassificationRawMetadata(str(tmp_path / "view"))
    assert meta.total_num_samples == 8 and len(meta.links_outside) == 3


def test_a_labels_file_naming_a_linked_class_says_it_was_not_followed(layout):
    data, _ = layout
    (data / "labels.txt").write_text("0: a\n1: b\n2: c\n3: private\n")
    with pytest.raises(ValueError, match="classes without a folder: 'private'; 'private' are "
                                         "symbolic links leading out of the dataset folder"):
        mox.ImageClassificationRawMetadata(str(data))
    assert mox.ImageClassificationRawMetadata(str(data), follow_symlinks=True).num_classes == 4


def test_a_dataset_of_only_links_out_says_so(tmp_path, layout):
    _, home = layout
    only = tmp_path / "only"
    only.mkdir()
    os.symlink(home / "private", only / "private")
    with pytest.raises(ValueError, match=f"dataset folder '{only}' has no class folders "
                                         f"\\('private' are symbolic links leading out of it"):
        mox.ImageClassificationRawMetadata(str(only))


def test_multilabel_leaves_out_links_out_of_the_dataset(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    base = tmp_path / "ml"
    save_image(base / "images" / "0.jpg")
    (base / "labels").mkdir()
    (base / "labels" / "0.jpg.txt").write_text("cat\n")
    secret = save_image(tmp_path / "home" / "key.jpg")
    (tmp_path / "home" / "key.jpg.txt").write_text("dog\n")
    os.symlink(secret, base / "images" / "key.jpg")
    os.symlink(tmp_path / "home" / "key.jpg.txt", base / "labels" / "key.jpg.txt")
    meta = mox.MultilabelClassificationRawMetadata(str(base))
    assert meta.images == ["0.jpg"] and meta.labels_list == ["cat"]
    assert sorted(rel for rel, _ in meta.links_outside) == ["images/key.jpg",
                                                            "labels/key.jpg.txt"]
    assert len(link_warnings(caplog)) == 1
    followed = mox.MultilabelClassificationRawMetadata(str(base), follow_symlinks=True)
    assert followed.images == ["0.jpg", "key.jpg"] and followed.labels_list == ["cat", "dog"]
    os.rename(base / "images", tmp_path / "home" / "images")
    os.symlink(tmp_path / "home" / "images", base / "images")
    with pytest.raises(ValueError, match=f"the images folder '{base / 'images'}' is a symbolic "
                                         f"link leading out of the dataset folder"):
        mox.MultilabelClassificationRawMetadata(str(base))


def test_predicting_a_folder_of_images_leaves_out_links_out(tmp_path, caplog):
    from mox_core.commands.data import locate

    caplog.set_level(logging.WARNING, logger="tensorflow")
    folder = tmp_path / "photos"
    save_image(folder / "mine.jpg")
    secret = save_image(tmp_path / "home" / "key.jpg")
    os.symlink(secret, folder / "key.jpg")
    assert locate(str(folder), "predict").images == ["mine.jpg"]
    assert f"'key.jpg -> {secret}'" in link_warnings(caplog)[0]


def cache_dataset(data, cache_dir):
    meta = mox.ImageClassificationRawMetadata(str(data))
    return mox.ImageClassificationRawDataset(meta, cache_dir=str(cache_dir),
                                             remove_cache_on_finish=False)


def test_a_link_planted_at_the_cache_folder_is_refused(tmp_path):
    data = tmp_path / "data"
    make_class_folders(data, COUNTS)
    cache_dir, elsewhere = tmp_path / "cache", tmp_path / "elsewhere"
    cache_dir.mkdir()
    elsewhere.mkdir()
    planted = cache_root_for(str(data), str(cache_dir))
    os.symlink(elsewhere, planted)
    with pytest.raises(ValueError, match=f"dataset cache folder '{planted}' is a symbolic link "
                                         f"\\(to '{elsewhere}'\\)"):
        cache_dataset(data, cache_dir)
    assert os.listdir(elsewhere) == []
    os.unlink(planted)
    with open(planted, "wb") as handle:
        handle.write(encode())
    with pytest.raises(ValueError, match=f"'{planted}' exists but is not a folder"):
        cache_dataset(data, cache_dir)
    os.unlink(planted)
    dataset = cache_dataset(data, cache_dir)  # made here, and reused by a second dataset
    assert dataset._cache.root == planted and sorted(os.listdir(planted)) == ["a", "b"]
    assert cache_dataset(data, cache_dir)._cache.root == planted


def test_a_cache_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "data"
    make_class_folders(data, COUNTS)
    planted = cache_root_for(str(data), str(tmp_path / "cache"))
    os.makedirs(planted)
    owner = os.stat(planted).st_uid
    # Giving the folder away takes root; running as another user makes it someone else's too.
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)
    with pytest.raises(ValueError, match=f"dataset cache folder '{planted}' belongs to another "
                                         f"user \\(uid {owner}, you are uid {owner + 1}\\)"):
        cache_dataset(data, tmp_path / "cache")


@pytest.mark.parametrize("follow", [False, True])
def test_the_cli_data_of_train_eval_and_predict_follows_links_only_when_asked(layout, follow):
    # `mox train|eval|predict --data DIR [--follow-symlinks]` open their data this way
    from mox_core.commands import data as cli_data

    folder, _ = layout
    source = cli_data.locate(str(folder), "train", follow_symlinks=follow)
    dataset = cli_data.open_dataset(source, batch_size=2, image_size=8, training=False,
                                    augmentation_fn=None, num_epochs=1)
    assert dataset.metadata.labels_list == (["a", "b", "c", "private"] if follow
                                            else ["a", "b", "c"])
    assert (("a/innocent.jpg", 0) in dataset.metadata.samples) == follow
    predict = cli_data.locate(str(folder / "a"), "predict", follow_symlinks=follow)
    assert ("innocent.jpg" in predict.images) == follow
