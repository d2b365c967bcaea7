"""``skip_corrupt`` never leaves a useless dataset behind and says each thing once; images of
formats TensorFlow does not decode are named as such, with the fix."""

from __future__ import annotations

import logging
import os

import pytest
import tensorflow as tf
from PIL import Image
from test_datasets_support import drain, make_class_folders, slim_example, write_records

import mox_core as mox
from mox_core.errors import DataError, cli_spelling, explain_data_errors


def spoil(folder, content=b"not an image"):
    for path in folder.iterdir():
        path.write_bytes(content)


def labels_read(dataset):
    with tf.Graph().as_default() as graph, explain_data_errors(graph):
        return [label for (label,) in drain(dataset.get(["label"]))]


def test_a_class_whose_every_image_is_skipped_is_an_error_naming_it(tmp_path):
    make_class_folders(tmp_path, {"cats": 3, "dogs": 4})
    spoil(tmp_path / "dogs")
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    dataset = mox.ImageClassificationRawDataset(meta, skip_corrupt=True, image_size=8,
                                                batch_size=2)
    with pytest.raises(DataError) as raised:
        labels_read(dataset)
    assert raised.value.describe(cli_spelling) == (
        f"no readable image is left in class folder {tmp_path / 'dogs'}: all 4 image files of "
        f"class 'dogs' (label 1) were skipped as unreadable or corrupt, and a model trained "
        f"without them never predicts that class. Fix or replace those files, or remove the "
        f"class (its folder and its line in the labels file).")


def test_a_class_whose_files_cannot_be_read_is_refused_before_any_graph(tmp_path):
    make_class_folders(tmp_path, {"cats": 2, "dogs": 2})
    for path in (tmp_path / "dogs").iterdir():
        path.unlink()
        os.symlink(tmp_path / "nowhere", path)
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    with pytest.raises(DataError, match=f"no readable image is left in class folder "
                                        f"{tmp_path / 'dogs'}: all 2 image files of class "
                                        f"'dogs'"):
        mox.ImageClassificationRawDataset(meta, skip_corrupt=True)


def test_every_record_of_counted_tfrecords_skipped_is_an_error_naming_the_folder(tmp_path):
    write_records(tmp_path / "d_train_0.tfrecord", [slim_example(b"junk", k % 2)
                                                    for k in range(3)])
    meta = mox.ImageClassificationTFRecordMetadata(str(tmp_path), "*.tfrecord")
    dataset = mox.ImageClassificationTFRecordDataset(meta, skip_corrupt=True, image_size=8)
    with pytest.raises(DataError, match=f"no readable samples are left in {tmp_path}: all 3 "
                                        f"image files were skipped"):
        labels_read(dataset)


def test_a_skipped_file_is_warned_about_once_however_many_epochs(tmp_path, caplog):
    make_class_folders(tmp_path, {"cats": 3, "dogs": 3})
    bad = tmp_path / "dogs" / "0.jpg"
    bad.write_bytes(b"")
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    dataset = mox.ImageClassificationRawDataset(meta, skip_corrupt=True, image_size=8,
                                                num_epochs=5)
    caplog.set_level(logging.WARNING, logger="tensorflow")
    assert len(labels_read(dataset)) == 5 * 5
    assert caplog.text.count("Skipping image") == 1 and dataset.num_skipped == 1


def save_tiff(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (10, 200, 30)).save(path, format="TIFF")


def test_tiff_files_are_an_unsupported_format_with_the_fix_not_non_images(tmp_path, caplog):
    make_class_folders(tmp_path, {"cats": 2})
    for i in range(2):
        save_tiff(tmp_path / "dogs" / f"scan{i}.tif")
    caplog.set_level(logging.INFO, logger="tensorflow")
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    assert meta.unsupported == ["dogs/scan0.tif", "dogs/scan1.tif"]
    assert ("Left out 2 TIFF files ('dogs/scan0.tif', 'dogs/scan1.tif') in class folders of "
            f"{tmp_path}: an unsupported format. TensorFlow decodes JPEG, PNG, GIF, BMP and "
            "WebP: convert them to JPEG or PNG") in caplog.text
    assert "that are not images" not in caplog.text
    with pytest.raises(DataError) as raised:
        mox.ImageClassificationRawDataset(meta)
    assert raised.value.describe(cli_spelling).startswith(
        f"class 1 folder {tmp_path / 'dogs'}: it has no image files (.bmp .gif .jpeg .jpg .png "
        f".webp) in a format TensorFlow decodes (it holds 2 TIFF files ('dogs/scan0.tif', "
        f"'dogs/scan1.tif'): TensorFlow decodes JPEG, PNG, GIF, BMP and WebP: convert them")
    assert raised.value.describe(cli_spelling).endswith(
        "or pass --skip-corrupt to train without that class's samples.")


def test_a_tiff_behind_an_image_name_is_named_as_tiff(tmp_path):
    make_class_folders(tmp_path, {"cats": 2})
    save_tiff(tmp_path / "cats" / "scan.jpg")
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    dataset = mox.ImageClassificationRawDataset(meta, image_size=8, num_epochs=1)
    with pytest.raises(DataError, match="cannot decode image file .*scan.jpg: the file is a "
                                        "TIFF image, a format TensorFlow does not decode "
                                        r"\(convert it to JPEG or PNG\)"):
        labels_read(dataset)


def test_predicting_a_folder_whose_every_image_is_skipped_is_an_error(tmp_path):
    from mox_core.commands import data

    for name in ("a.jpg", "b.png"):
        (tmp_path / name).write_bytes(b"")
    source = data.locate(str(tmp_path), "predict")
    folder = data.open_dataset(source, batch_size=2, image_size=8, training=False,
                               augmentation_fn=None, skip_corrupt=True)
    with pytest.raises(DataError, match=f"no readable samples are left in {tmp_path}: all 2 "
                                        f"image files were skipped"):
        with tf.Graph().as_default() as graph, explain_data_errors(graph):
            drain(folder.get(["image"]))


def test_predicting_a_folder_of_tiff_files_says_to_convert_them(tmp_path):
    from mox_core.commands import data

    save_tiff(tmp_path / "scan.tiff")
    with pytest.raises(ValueError) as raised:
        data.locate(str(tmp_path), "predict")
    assert str(raised.value).startswith(
        f"--data {str(tmp_path)!r} holds no images mox reads but 1 TIFF files ('scan.tiff'), an "
        f"unsupported format: TensorFlow decodes JPEG, PNG, GIF, BMP and WebP: convert them to "
        f"JPEG or PNG")
