"""BaseTFRecordDataset: a subclass reads records of its own schema (the iceberg v2 sample)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from moxing.tensorflow.datasets.tfrecord_common import (
    BaseTFRecordDataset,
    ImageClassificationTFRecordMetadata,
)

import mox_core as mox

SIDE = 5  # the sample's 75 x 75 radar bands, smaller


def write_bands(folder, name, first, count):
    with tf.io.TFRecordWriter(str(folder / name)) as writer:
        for k in range(first, first + count):
            features = {
                "band_1": tf.train.Feature(float_list=tf.train.FloatList(
                    value=[float(k)] * SIDE * SIDE)),
                "band_2": tf.train.Feature(float_list=tf.train.FloatList(
                    value=[float(-k)] * SIDE * SIDE)),
                "angle": tf.train.Feature(float_list=tf.train.FloatList(value=[k / 10])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[k % 2])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=features))
            writer.write(example.SerializeToString())


class BandsDataset(BaseTFRecordDataset):
    def _build_features(self, band_1, band_2, angle, label):
        self._add_feature("image", tf.stack([tf.reshape(band_1, [SIDE, SIDE]),
                                             tf.reshape(band_2, [SIDE, SIDE])], axis=2))
        self._add_feature("angle", angle)
        self._add_feature("label", label)


FEATURE_KEYS = ["band_1", "band_2", "angle", "label"]
FEATURE_VALUES = [tf.FixedLenFeature((SIDE * SIDE,), tf.float32),
                  tf.FixedLenFeature((SIDE * SIDE,), tf.float32),
                  tf.FixedLenFeature([], tf.float32), tf.FixedLenFeature([], tf.int64)]


def test_a_subclass_answers_the_features_it_builds_in_file_order(tmp_path):
    write_bands(tmp_path, "bands-train-0.tfrecord", 0, 3)
    write_bands(tmp_path, "bands-train-1.tfrecord", 3, 3)
    meta = ImageClassificationTFRecordMetadata(str(tmp_path), "bands-train-*.tfrecord")
    dataset = BandsDataset(meta, feature_keys=FEATURE_KEYS, feature_values=FEATURE_VALUES,
                           shuffle=False, num_epochs=1)
    assert dataset.total_num_samples == 6
    with tf.Graph().as_default():
        label, image, angle = dataset.get(["label", "image", "angle"])
        assert image.shape.as_list() == [SIDE, SIDE, 2]
        seen = []
        with tf.Session() as session:
            with pytest.raises(tf.errors.OutOfRangeError):
                while True:
                    seen.append(session.run([label, image, angle]))
    assert [int(s[0]) for s in seen] == [0, 1, 0, 1, 0, 1]
    np.testing.assert_allclose(seen[4][1][..., 0], 4.0)
    np.testing.assert_allclose(seen[4][1][..., 1], -4.0)
    assert seen[5][2] == pytest.approx(0.5)


def test_it_feeds_mox_run_with_auto_batch(tmp_path):
    write_bands(tmp_path, "bands-train-0.tfrecord", 0, 8)
    meta = ImageClassificationTFRecordMetadata(str(tmp_path), "bands-*.tfrecord", num_samples=8)

    def input_fn(mode):
        dataset = BandsDataset(meta, FEATURE_KEYS, FEATURE_VALUES)
        return dataset.get(["image", "label"])

    def model_fn(inputs, mode):
        images, labels = inputs
        weights = tf.get_variable("weights", [SIDE * SIDE * 2, 2])
        logits = tf.matmul(tf.reshape(images, [-1, SIDE * SIDE * 2]), weights)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    mox.run(input_fn=input_fn, model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn("adam", 0.01),
            run_mode=mox.ModeKeys.TRAIN, batch_size=4, log_dir=str(tmp_path / "log"),
            max_number_of_steps=3)
    assert tf.train.latest_checkpoint(str(tmp_path / "log")).endswith("-3")


def test_errors_name_the_feature(tmp_path):
    write_bands(tmp_path, "bands-0.tfrecord", 0, 1)
    meta = ImageClassificationTFRecordMetadata(str(tmp_path), "bands-*.tfrecord")
    with pytest.raises(ValueError, match=r"feature_keys \(4\) and feature_values \(3\)"):
        BandsDataset(meta, FEATURE_KEYS, FEATURE_VALUES[:3])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="BandsDataset has no feature 'band_1'; "
                                             "_build_features adds 'image', 'angle', 'label'"):
            BandsDataset(meta, FEATURE_KEYS, FEATURE_VALUES).get(["band_1"])
        plain = BaseTFRecordDataset(meta, FEATURE_KEYS, FEATURE_VALUES)
        assert plain.keys == FEATURE_KEYS  # without a subclass, every parsed feature
