"""Damaged TFRecords, made for real (a flipped byte, a cut, a shard of another schema, garbage,
a label out of range, a lost shard) and read through real sessions: each is one ``DataError``
naming the shard and the record's byte offset, or with ``skip_corrupt`` a warning naming them
while every good record is still read."""

from __future__ import annotations

import logging

import pytest
import tensorflow as tf
from test_datasets_support import COLORS, drain, encode, slim_example, write_records

import mox_core as mox
import mox_core.slim as slim
from mox_core.errors import DataError, cli_spelling, explain_data_errors

PER_SHARD = 4


def shard_path(root, index, total=3):
    return root / f"flowers_train_{index:05d}-of-{total:05d}.tfrecord"


def write_shard(root, index, label=None, total=3):
    """``PER_SHARD`` TF-Slim records of label ``k % 3`` (or ``label``)."""
    return write_records(shard_path(root, index, total), [
        slim_example(encode(COLORS[k % 3]), k % 3 if label is None else label)
        for k in range(PER_SHARD)])


@pytest.fixture
def shards(tmp_path):
    for index in range(3):
        write_shard(tmp_path, index)
    (tmp_path / "labels.txt").write_text("0:daisy\n1:roses\n2:tulips\n")
    return tmp_path


def read(root, num_samples=None, **kwargs):
    """The labels of one epoch, in a session wrapped as ``mox.run`` wraps its own."""
    meta = mox.ImageClassificationTFRecordMetadata(str(root), "*_train_*.tfrecord",
                                                   num_samples=num_samples)
    dataset = mox.ImageClassificationTFRecordDataset(meta, num_epochs=1, image_size=8,
                                                     shuffle=False, **kwargs)
    with tf.Graph().as_default() as graph, explain_data_errors(graph):
        return [label for (label,) in drain(dataset.get(["label"]))]


def record_offset(path, index):
    """The byte offset of record ``index`` of a TFRecord file (16 bytes of framing each)."""
    data, offset = path.read_bytes(), 0
    for _ in range(index):
        offset += 16 + int.from_bytes(data[offset:offset + 8], "little")
    return offset


def test_a_flipped_byte_names_the_shard_and_the_record(shards, caplog):
    damaged = shard_path(shards, 1)
    offset = record_offset(damaged, 2)
    data = bytearray(damaged.read_bytes())
    data[offset + 40] ^= 0xFF  # inside the record's data: its checksum no longer matches
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataError) as raised:
        read(shards)
    assert raised.value.describe(cli_spelling) == (
        f"corrupt TFRecord file {damaged}: the record at byte {offset} is corrupt: its checksum "
        f"does not match. Restore the file or convert the dataset again, or pass "
        f"--skip-corrupt to skip such files.")
    caplog.set_level(logging.WARNING, logger="tensorflow")
    labels = read(shards, skip_corrupt=True)
    assert len(labels) == 3 * PER_SHARD - 2  # the shard's two records before it are read
    assert caplog.text.count(f"Skipping the rest of TFRecord file {damaged}: the record at "
                             f"byte {offset} is corrupt") == 1


def test_a_shard_cut_short_is_named_with_where_it_ends(shards, caplog):
    cut = shard_path(shards, 2)
    offset = record_offset(cut, 3)
    cut.write_bytes(cut.read_bytes()[:offset + 20])
    caplog.set_level(logging.WARNING, logger="tensorflow")
    for num_samples in (None, 12):  # counted (the complete records, with a warning) or given
        with pytest.raises(DataError, match=f"corrupt TFRecord file {cut}: the file is "
                                            f"truncated: it ends inside the record at byte "
                                            f"{offset}"):
            read(shards, num_samples)
        assert len(read(shards, num_samples, skip_corrupt=True)) == 3 * PER_SHARD - 1
    assert (f"TFRecord file {cut} is truncated: it ends inside record 4 (at byte {offset}); "
            f"counting its 3 complete records") in caplog.text
    meta = mox.ImageClassificationTFRecordMetadata(str(shards), "*_train_*.tfrecord")
    assert meta.num_samples == 3 * PER_SHARD - 1
    with pytest.raises(DataError, match=f"corrupt TFRecord file {cut}: it ends inside record 4 "
                                        f"\\(at byte {offset}\\), so it is truncated"):
        mox.get_tfrecord(str(shards), "*_train_*.tfrecord", keys_to_features={
            "image/class/label": tf.io.FixedLenFeature((), tf.int64)},
            items_to_handlers={"label": slim.tfexample_decoder.Tensor("image/class/label")})


def test_a_shard_of_another_schema_is_named_with_the_missing_feature(shards):
    other = tf.train.Example(features=tf.train.Features(feature={
        "band_1": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5] * 4))}))
    wrong = write_records(shard_path(shards, 0), [other.SerializeToString()] * 2)
    with pytest.raises(DataError) as raised:
        read(shards)
    assert raised.value.path == str(wrong)
    assert raised.value.describe(cli_spelling).startswith(
        f"unexpected record in TFRecord file {wrong}: the record at byte 0 is not a "
        f"tf.train.Example with the features the dataset reads: Feature: image/class/label "
        f"(data type: int64) is required but could not be found. Fix the file")
    assert len(read(shards, skip_corrupt=True)) == 2 * PER_SHARD


def test_a_garbage_record_is_named_even_though_tensorflow_quotes_its_bytes(shards):
    good = slim_example(encode(COLORS[0]), 0)
    garbage = write_records(shard_path(shards, 2), [good, b"\x01garbage\xff\xfe" * 5])
    with pytest.raises(DataError, match=f"unexpected record in TFRecord file {garbage}: the "
                                        f"record at byte {16 + len(good)} is not a "
                                        f"tf.train.Example .*Could not parse example input"):
        read(shards)
    assert len(read(shards, skip_corrupt=True)) == 2 * PER_SHARD + 1


def test_a_label_outside_the_labels_file_is_named(shards, caplog):
    wrong = write_shard(shards, 1, label=7)
    with pytest.raises(DataError) as raised:
        read(shards)
    assert raised.value.describe(cli_spelling) == (
        f"label out of range in TFRecord file {wrong}: the record at byte 0 has label 7, outside "
        f"the 3 classes of the dataset (0 to 2). Fix the records' labels, or the labels file or "
        f"num_classes the dataset is read with, or pass --skip-corrupt to skip such files.")
    caplog.set_level(logging.WARNING, logger="tensorflow")
    assert sorted(read(shards, skip_corrupt=True)) == [0, 0, 0, 0, 1, 1, 2, 2]  # 2 shards
    assert caplog.text.count(f"Skipping a record of TFRecord file {wrong}: the record at") == 4


def test_an_incomplete_shard_set_names_the_missing_shards_and_the_folder(shards):
    shard_path(shards, 1).unlink()
    expected = (f"incomplete TFRecord shard set in {shards}: 1 shard(s) of the set are missing: "
                f"'flowers_train_00001-of-00003.tfrecord'. Restore the missing shards or convert "
                f"the dataset again.")
    with pytest.raises(DataError) as raised:
        mox.ImageClassificationTFRecordMetadata(str(shards), "*_train_*.tfrecord")
    assert raised.value.describe(cli_spelling) == expected
    with pytest.raises(DataError, match="flowers_train_00001-of-00003.tfrecord"):
        mox.get_tfrecord(
            dataset_dir=str(shards), file_pattern="*.tfrecord", num_samples=8,
            keys_to_features={"image/class/label": tf.io.FixedLenFeature([], tf.int64)},
            items_to_handlers={"label": slim.tfexample_decoder.Tensor("image/class/label")})
    for index in range(2):  # a complete set of another size next to it is fine
        write_shard(shards, index, total=2)
    shard_path(shards, 0).unlink()
    shard_path(shards, 2).unlink()
    assert mox.ImageClassificationTFRecordMetadata(str(shards), "*-of-00002*").num_samples == 8


def test_a_flipped_byte_is_named_when_tensorflows_own_reader_reads_the_shards(shards):
    """get_tfrecord (and TF-Slim's readers) read with TensorFlow's TFRecord reader, whose error
    says "corrupted record at 1565" without the file: the shard is found and named."""
    damaged = shard_path(shards, 1)
    offset = record_offset(damaged, 2)
    data = bytearray(damaged.read_bytes())
    data[offset + 40] ^= 0xFF
    damaged.write_bytes(bytes(data))
    dataset = mox.get_tfrecord(
        str(shards), "*_train_*.tfrecord", num_samples=12, shuffle=False, num_epochs=1,
        keys_to_features={"image/class/label": tf.io.FixedLenFeature([], tf.int64)},
        items_to_handlers={"label": slim.tfexample_decoder.Tensor("image/class/label")})
    with pytest.raises(DataError) as raised, tf.Graph().as_default() as graph, \
            explain_data_errors(graph), tf.compat.v1.Session() as session:
        label = dataset.get("label")
        while True:
            session.run(label)
    assert raised.value.describe(cli_spelling) == (
        f"corrupt TFRecord file {damaged}: the record at byte {offset} is corrupt: its checksum "
        f"does not match. Restore the file or convert the dataset again.")
