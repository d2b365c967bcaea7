"""MultilabelClassificationRawMetadata / MultilabelClassificationRawDataset."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tensorflow as tf
from test_datasets_support import COLORS, collect, names, save_image

import mox_core as mox

#: image -> its class names
TAGS = {"0.jpg": ["sky", "tree"], "1.jpg": ["car"], "2.jpg": ["tree", "car", "sky"],
        "3.png": [], "4.jpg": ["sky"]}


def make_multilabel(root, tags=TAGS, sep="\n"):
    for i, (image, classes) in enumerate(sorted(tags.items())):
        save_image(root / "images" / image, COLORS[i], fmt="PNG" if image.endswith("png")
                   else "JPEG")
        (root / "labels").mkdir(parents=True, exist_ok=True)
        (root / "labels" / f"{image}.txt").write_text(sep.join(classes) + "\n")
    return root


@pytest.fixture
def data(tmp_path):
    return make_multilabel(tmp_path / "data")


def read(meta, **kwargs):
    holder = {}

    def make():
        holder["d"] = mox.MultilabelClassificationRawDataset(meta, num_epochs=1, **kwargs)
        return holder["d"]

    return collect(make, ["image", "label", "label_desc", "image_name"]), holder["d"]


def test_metadata_collects_sorted_class_names_from_the_label_files(data, caplog):
    caplog.set_level(logging.INFO, logger="tensorflow")
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    assert meta.labels_to_names == {0: "car", 1: "sky", 2: "tree"}
    assert meta.names_to_labels == {"car": 0, "sky": 1, "tree": 2}
    assert meta.num_classes == 3 and meta.total_num_samples == 5
    assert "Total 5 files found in" in caplog.text


def test_the_labels_file_decides_classes_and_order(data):
    (data / "labels.txt").write_text("0: tree\n1: car\n2: sky\n3: boat\n")
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    assert meta.labels_to_names == {0: "tree", 1: "car", 2: "sky", 3: "boat"}
    out, _ = read(meta)
    by_name = {n.rsplit("/", 1)[1]: label for n, label in zip(names(out["image_name"]),
                                                             out["label"])}
    assert by_name["2.jpg"].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert by_name["0.jpg"].tolist() == [1.0, 0.0, 1.0, 0.0]


def test_every_image_once_with_its_multi_hot_label(data):
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    out, dataset = read(meta)
    assert dataset.num_samples == 5
    seen = {}
    for name, label, desc in zip(names(out["image_name"]), out["label"], out["label_desc"]):
        image = name.rsplit("/", 1)[1]
        seen[image] = label
        expected = np.zeros(3, np.float32)
        for tag in TAGS[image]:
            expected[meta.names_to_labels[tag]] = 1.0
        assert label.dtype == np.float32 and label.tolist() == expected.tolist(), image
        assert sorted(filter(None, desc.decode().split("\n"))) == sorted(TAGS[image])
    assert sorted(seen) == sorted(TAGS)


def test_batches_with_image_size(data):
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    out, _ = read(meta, batch_size=2, image_size=4)
    assert [run[0].shape for run in out["_runs"]] == [(2, 4, 4, 3), (2, 4, 4, 3), (1, 4, 4, 3)]
    assert [run[1].shape for run in out["_runs"]] == [(2, 3), (2, 3), (1, 3)]


def test_label_sep_splits_one_line_files(tmp_path):
    root = make_multilabel(tmp_path, sep=",")
    (root / "labels.txt").write_text("car\nsky\ntree\n")
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    out, _ = read(meta, label_sep=",")
    total = np.sum(out["label"], axis=0)
    assert total.tolist() == [2.0, 3.0, 2.0]


def test_a_name_that_is_not_a_class_is_an_error_naming_the_label_file(data):
    (data / "labels.txt").write_text("0: car\n1: sky\n")
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    with pytest.raises(ValueError, match=f"label file '{data / 'labels' / '0.jpg.txt'}' names "
                                         "class 'tree', which is not a class"):
        mox.MultilabelClassificationRawDataset(meta)


def test_another_label_sep_without_a_labels_file_is_an_error_not_wrong_labels(tmp_path):
    root = make_multilabel(tmp_path, sep=",")
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    with pytest.raises(ValueError, match="add a labels file when label_sep is not a newline"):
        mox.MultilabelClassificationRawDataset(meta, label_sep=",")


# -- MoXing's one-line forms -------------------------------------------------------------

def make_images(root, labels):
    """``root/images/<image>`` and ``root/labels/<image>.txt`` holding ``labels[image]``."""
    for i, (image, text) in enumerate(sorted(labels.items())):
        save_image(root / "images" / image, COLORS[i])
        (root / "labels").mkdir(parents=True, exist_ok=True)
        (root / "labels" / f"{image}.txt").write_text(text)
    return root


def labels_by_image(meta, **kwargs):
    out, _ = read(meta, **kwargs)
    return {name.rsplit("/", 1)[1]: [meta.labels_to_names[i] for i in np.flatnonzero(label)]
            for name, label in zip(names(out["image_name"]), out["label"])}


def test_the_seeds_one_line_files_labels_txt_and_per_image(tmp_path):
    root = make_images(tmp_path, {"0.jpg": "bird dog\n", "1.jpg": "cat", "2.jpg": "dog cat bird"})
    (root / "labels.txt").write_text("0: bird 1: cat 2: dog\n")
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    assert meta.labels_to_names == {0: "bird", 1: "cat", 2: "dog"}
    assert labels_by_image(meta) == {"0.jpg": ["bird", "dog"], "1.jpg": ["cat"],
                                     "2.jpg": ["bird", "cat", "dog"]}


def test_one_entry_per_line_forms_and_class_names_with_spaces(tmp_path):
    root = make_images(tmp_path, {
        "0.jpg": "sports car\nstreet\n",  # several lines: one class per line
        "1.jpg": "sports car\n",          # one line that is a class name
        "2.jpg": "street tree",           # one line that is not: two classes
        "3.jpg": "tree\n",
    })
    (root / "labels.txt").write_text("0: sports car\n1: street\n2: tree\n")
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    assert labels_by_image(meta) == {"0.jpg": ["sports car", "street"], "1.jpg": ["sports car"],
                                     "2.jpg": ["street", "tree"], "3.jpg": ["tree"]}


def test_without_labels_txt_one_line_lists_are_split_and_lines_of_their_own_are_names(tmp_path):
    root = make_images(tmp_path, {"0.jpg": "bird dog", "1.jpg": "sports car\ncat\n",
                                  "2.jpg": "sports car", "3.jpg": "cat bird"})
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    assert meta.labels_list == ["bird", "cat", "dog", "sports car"]
    assert labels_by_image(meta) == {"0.jpg": ["bird", "dog"], "1.jpg": ["cat", "sports car"],
                                     "2.jpg": ["sports car"], "3.jpg": ["bird", "cat"]}


def test_a_one_line_file_that_is_a_name_and_a_list_is_an_error_naming_it(tmp_path):
    root = make_images(tmp_path, {"0.jpg": "red car", "1.jpg": "red"})
    (root / "labels.txt").write_text("0: red 1: car 2: red car\n")
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    with pytest.raises(ValueError, match=f"label file '{root / 'labels' / '0.jpg.txt'}' is "
                                         "ambiguous: its line 'red car' is a class name and "
                                         "also the space-separated class names 'red', 'car'"):
        mox.MultilabelClassificationRawDataset(meta)


def test_an_unknown_name_in_a_one_line_file_is_an_error_naming_file_and_label(tmp_path):
    root = make_images(tmp_path, {"0.jpg": "bird dgo", "1.jpg": "cat"})
    (root / "labels.txt").write_text("0: bird 1: cat 2: dog")
    meta = mox.MultilabelClassificationRawMetadata(str(root))
    with pytest.raises(ValueError) as caught:
        mox.MultilabelClassificationRawDataset(meta)
    message = str(caught.value)
    assert f"label file '{root / 'labels' / '0.jpg.txt'}' names class 'dgo'" in message
    assert "read as the space-separated classes 'bird', 'dgo'" in message
    assert f"not in the labels file '{root / 'labels.txt'}'" in message


def test_a_one_line_labels_txt_with_a_nameless_index_is_an_error(tmp_path):
    root = make_images(tmp_path, {"0.jpg": "bird"})
    (root / "labels.txt").write_text("0: bird 1: 2: dog")
    with pytest.raises(ValueError, match=f"labels file '{root / 'labels.txt'}', line 1: index 1 "
                                         "has no name"):
        mox.MultilabelClassificationRawMetadata(str(root))


def test_the_one_line_labels_txt_also_serves_class_folder_datasets(tmp_path):
    for index, name in enumerate(["daisy", "roses"]):
        save_image(tmp_path / name / "0.jpg", COLORS[index])
    (tmp_path / "labels.txt").write_text("0: roses 1: daisy")
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    assert meta.labels_list == ["roses", "daisy"]


def test_a_missing_label_file_is_an_error_naming_the_image(data):
    (data / "labels" / "1.jpg.txt").unlink()
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    with pytest.raises(ValueError, match=f"image '{data / 'images' / '1.jpg'}' has no label "
                                         f"file '{data / 'labels' / '1.jpg.txt'}'.*"
                                         "skip_label_not_found=True"):
        mox.MultilabelClassificationRawDataset(meta)


def test_skip_label_not_found_leaves_the_image_out_and_says_so(data, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    (data / "labels" / "1.jpg.txt").unlink()
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    out, dataset = read(meta, skip_label_not_found=True)
    assert sorted(n.rsplit("/", 1)[1] for n in names(out["image_name"])) == [
        "0.jpg", "2.jpg", "3.png", "4.jpg"]
    assert dataset.num_skipped_unlabelled == 1
    assert "Skipping 1 images without a label file" in caplog.text


def test_missing_folders_are_errors_naming_them(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(ValueError, match=f"labels folder '{tmp_path / 'labels'}'"):
        mox.MultilabelClassificationRawMetadata(str(tmp_path))


def test_a_corrupt_image_is_named_or_skipped(data):
    (data / "images" / "4.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    meta = mox.MultilabelClassificationRawMetadata(str(data))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="4.jpg: the file is truncated or corrupt"):
        read(meta)
    out, dataset = read(meta, skip_corrupt=True)
    assert len(out["label"]) == 4 and dataset.num_skipped == 1
