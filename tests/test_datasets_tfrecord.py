"""ImageClassificationTFRecordMetadata / ImageClassificationTFRecordDataset on TF-Slim records."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tensorflow as tf
from test_datasets_support import (
    COLORS,
    collect,
    color_class,
    drain,
    encode,
    names,
    slim_example,
    write_records,
)

import mox_core as mox
from mox_core.datasets.tfrecord import count_records

NAMES = ["daisy", "roses", "tulips"]


def make_records(root, shards=2, per_shard=4, prefix="data_train"):
    """``shards`` files; record ``k`` of the split has label ``k % 3``, its colour, a filename."""
    k = 0
    for shard in range(shards):
        records = []
        for _ in range(per_shard):
            label = k % 3
            records.append(slim_example(encode(COLORS[label]), label,
                                        image__filename=f"img{k}.jpg".encode(),
                                        image__class__text=NAMES[label].encode()))
            k += 1
        write_records(root / f"{prefix}_{shard}.tfrecord", records)
    return k


@pytest.fixture
def records(tmp_path):
    make_records(tmp_path)
    make_records(tmp_path, shards=1, per_shard=3, prefix="data_eval")
    return tmp_path


def test_metadata_counts_the_records_when_not_told(records, caplog):
    caplog.set_level(logging.INFO, logger="tensorflow")
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*.tfrecord")
    assert meta.num_samples == meta.total_num_samples == 8
    assert [f.rsplit("/", 1)[1] for f in meta.files] == ["data_train_0.tfrecord",
                                                         "data_train_1.tfrecord"]
    assert "Automatically extracting num_samples from tfrecord. If the dataset is large, it " \
           "may take some time..." in caplog.text
    assert mox.ImageClassificationTFRecordMetadata(str(records), "*eval*").num_samples == 3


def test_a_url_is_globbed_counted_and_read_through_tensorflows_filesystems(records):
    meta = mox.ImageClassificationTFRecordMetadata(f"file://{records}", "*train*")
    assert meta.num_samples == 8 and meta.files[0].startswith("file://")
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(meta, num_epochs=1), ["label"])
    assert sorted(out["label"]) == [0, 0, 0, 1, 1, 1, 2, 2]


def test_a_given_num_samples_is_not_counted(records, caplog):
    caplog.set_level(logging.INFO, logger="tensorflow")
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*", num_samples=1000)
    assert meta.num_samples == 1000 and "Automatically extracting" not in caplog.text


def test_labels_to_names_from_the_label_map_in_both_layouts(records):
    (records / "labels.txt").write_text("0:daisy\n1:roses\n2:tulips\n")
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    assert meta.labels_to_names == dict(enumerate(NAMES)) and meta.num_classes == 3
    (records / "names.txt").write_text("daisy\nroses\ntulips\nlilies\n")
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*", num_classes=5,
                                                   label_map_file="names.txt")
    assert meta.labels_to_names[3] == "lilies" and meta.num_classes == 5
    assert mox.ImageClassificationTFRecordMetadata(str(records), "*eval*",
                                                   label_map_file="none.txt").num_classes == 0


def test_no_matching_file_is_an_error_naming_the_pattern(records):
    with pytest.raises(ValueError, match="no file in '.*' matches the pattern '\\*test\\*'"):
        mox.ImageClassificationTFRecordMetadata(str(records), "*test*")


def test_a_truncated_tfrecord_file_is_named_when_counting(records):
    path = records / "data_train_1.tfrecord"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=f"corrupt TFRecord file {path}: it ends inside record 4 "
                                         r"\(at byte \d+\), so it is truncated"):
        count_records(str(path))
    # a dataset checks its records as it reads them: counting stops at the last whole one
    assert count_records(str(path), checked_when_read=True) == 3
    assert count_records(str(records / "data_train_0.tfrecord")) == 4


def test_every_record_once_per_epoch_with_its_label(records):
    """Epochs are exact even though parsing and decoding run in parallel and unordered."""
    (records / "labels.txt").write_text("0:daisy\n1:roses\n2:tulips\n")
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(meta, num_epochs=2),
                  ["image", "label", "label_desc", "image_name", "image_buf"])
    epoch = sorted(names(out["image_name"][:8]))
    assert epoch == sorted(f"img{k}.jpg" for k in range(8))
    assert sorted(names(out["image_name"][8:])) == epoch
    for image, label, desc, name in zip(out["image"], out["label"], out["label_desc"],
                                        out["image_name"]):
        k = int(name.decode()[3:-4])
        assert label == k % 3 == color_class(image)
        assert desc.decode() == NAMES[label]
        assert image.shape == (12, 16, 3) and image.dtype == np.uint8


def test_the_seeds_session_loop_with_queue_runners_works(records):
    """MoXing's API manual's example drives the tensors the TF1 way: initializers, coordinator, threads."""
    tf1 = tf.compat.v1
    meta = mox.ImageClassificationTFRecordMetadata(base_dir=str(records),
                                                   file_pattern="*train*.tfrecord")
    with tf.Graph().as_default():
        dataset = mox.ImageClassificationTFRecordDataset(metadata=meta)
        image, label = dataset.get(["image", "label"])
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(tf1.local_variables_initializer())
            coord = tf1.train.Coordinator()
            threads = tf1.train.start_queue_runners(coord=coord)
            for _ in range(10):
                image_eval, label_eval = sess.run([image, label])
                assert color_class(image_eval) == label_eval
            coord.request_stop()
            coord.join(threads)


def test_without_shuffle_the_order_is_fixed(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    make = lambda: mox.ImageClassificationTFRecordDataset(meta, shuffle=False, num_epochs=1)  # noqa: E731
    first, second = (names(collect(make, ["image_name"])["image_name"]) for _ in range(2))
    assert first == second and sorted(first) == sorted(f"img{k}.jpg" for k in range(8))


def test_batches_one_hot_and_drop_remainder(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*", num_classes=3)
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(
        meta, batch_size=3, image_size=[6, 5], label_one_hot=True, num_epochs=1,
        drop_remainder=True, num_parallel=2, shuffle_buffer_size=2), ["image", "label"])
    assert [run[0].shape for run in out["_runs"]] == [(3, 6, 5, 3), (3, 6, 5, 3)]
    for image, label in zip(out["image"], out["label"]):
        assert label.shape == (3,) and label.argmax() == color_class(image)


def test_label_one_hot_needs_the_number_of_classes(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    with pytest.raises(ValueError, match="label_one_hot=True needs the number of classes"):
        mox.ImageClassificationTFRecordDataset(meta, label_one_hot=True)


def test_label_desc_falls_back_to_the_records_class_text(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(meta, num_epochs=1),
                  ["label", "label_desc"])
    assert [NAMES[label] for label in out["label"]] == names(out["label_desc"])


def test_custom_feature_keys_and_values_read_extra_features(tmp_path):
    records = [slim_example(encode(COLORS[1]), 1, image__object__bbox__xmin=[0.1, 0.5],
                            angle=[float(i)], image__filename=f"{i}".encode())
               for i in range(5)]
    write_records(tmp_path / "x.tfrecord", records)
    meta = mox.ImageClassificationTFRecordMetadata(str(tmp_path), "*.tfrecord")
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(
        meta, num_epochs=1, batch_size=5, image_size=4, shuffle=False,
        custom_feature_keys=["angle", "image/height", "image/object/bbox/xmin"],
        custom_feature_values=[tf.io.FixedLenFeature([1], tf.float32),
                               tf.compat.v1.FixedLenFeature((), tf.int64),
                               tf.io.VarLenFeature(tf.float32)]),
        ["angle", "image/height", "image/object/bbox/xmin", "label"])
    angles, heights, xmin, labels = out["_runs"][0]
    assert angles.ravel().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert heights.tolist() == [12] * 5 and labels.tolist() == [1] * 5
    assert xmin.dense_shape.tolist() == [5, 2]
    np.testing.assert_allclose(xmin.values, [0.1, 0.5] * 5, rtol=1e-6)


def test_custom_features_must_pair_up_and_be_feature_descriptions(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    with pytest.raises(ValueError, match="must pair up"):
        mox.ImageClassificationTFRecordDataset(meta, custom_feature_keys=["a", "b"],
                                               custom_feature_values=[tf.io.VarLenFeature(
                                                   tf.int64)])
    with pytest.raises(TypeError, match="custom feature 'a' must be described by"):
        mox.ImageClassificationTFRecordDataset(meta, custom_feature_keys=["a"],
                                               custom_feature_values=[tf.int64])
    with pytest.raises(ValueError, match="clashes"):
        mox.ImageClassificationTFRecordDataset(meta, custom_feature_keys=["label"],
                                               custom_feature_values=[tf.io.VarLenFeature(
                                                   tf.int64)])


def test_preprocess_fn_gets_batched_encoded_images(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")

    def preprocess_fn(image_name, image_buf, label, label_desc):
        images = tf.map_fn(lambda b: tf.image.resize(tf.io.decode_jpeg(b, channels=3), [4, 4]),
                           image_buf, fn_output_signature=tf.float32)
        return image_name, images, label, label_desc

    out = collect(lambda: mox.ImageClassificationTFRecordDataset(
        meta, batch_size=4, preprocess_fn=preprocess_fn, num_epochs=1), ["image", "label"])
    assert [run[0].shape for run in out["_runs"]] == [(4, 4, 4, 3)] * 2
    assert all(color_class(i) == label for i, label in zip(out["image"], out["label"]))


def test_augmentation_fn_on_each_decoded_image(records):
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*")
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(
        meta, batch_size=8, num_epochs=1,
        augmentation_fn=lambda image: tf.image.resize(image, [3, 3]) - 100.0), ["image"])
    assert out["_runs"][0][0].shape == (8, 3, 3, 3) and out["_runs"][0][0].min() < 0


def test_redirect_dir_and_cache_dir(records, tmp_path):
    other = tmp_path / "redirect"
    make_records(other)  # same names, the same records: only the place differs
    meta = mox.ImageClassificationTFRecordMetadata(str(records), "*train*",
                                                   redirect_dir=str(other))
    dataset = mox.ImageClassificationTFRecordDataset(meta, num_epochs=1,
                                                     cache_dir=str(tmp_path / "cache"))
    assert all("/cache/" in f for f in dataset._read_files)
    for f in list(records.glob("data_train*")) + list(other.glob("data_train*")):
        f.unlink()
    with tf.Graph().as_default():
        assert len(drain(dataset.get(["label"]))) == 8
    assert not any((tmp_path / "cache").iterdir())  # removed when the data ended


def test_a_corrupt_image_in_a_record_is_named(tmp_path):
    good = encode(COLORS[0])
    write_records(tmp_path / "r.tfrecord", [
        slim_example(good, 0, image__filename=b"fine.jpg"),
        slim_example(good[:40], 0, image__filename=b"broken.jpg"),
        slim_example(b"", 0),
    ])
    meta = mox.ImageClassificationTFRecordMetadata(str(tmp_path), "*.tfrecord")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="cannot decode image file broken.jpg: the file is truncated"):
        collect(lambda: mox.ImageClassificationTFRecordDataset(meta, num_epochs=1,
                                                               shuffle=False), ["label"])
    holder = {}

    def make():
        holder["d"] = mox.ImageClassificationTFRecordDataset(meta, num_epochs=1,
                                                             skip_corrupt=True)
        return holder["d"]

    assert names(collect(make, ["image_name"])["image_name"]) == ["fine.jpg"]
    assert holder["d"].num_skipped == 2
    scan = mox.ImageClassificationTFRecordDataset(meta).find_undecodable()
    assert scan.bad == [("broken.jpg", "the file is truncated or corrupt"),
                        (f"the record at byte 1023 of {tmp_path / 'r.tfrecord'}",
                         "the file is empty (0 bytes)")]


def test_a_record_without_a_label_is_an_error_not_a_wrong_label(tmp_path):
    example = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encode()]))}))
    write_records(tmp_path / "r.tfrecord", [example.SerializeToString()])
    meta = mox.ImageClassificationTFRecordMetadata(str(tmp_path), "*.tfrecord")
    with pytest.raises(tf.errors.InvalidArgumentError, match="image/class/label"):
        collect(lambda: mox.ImageClassificationTFRecordDataset(meta, num_epochs=1), ["label"])
