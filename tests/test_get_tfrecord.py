"""mox.get_tfrecord: MoXing's generic TFRecord reader (the iceberg sample's input)."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
import mox_core.slim as slim
from mox_core.datasets import get_tfrecord
from mox_core.file import dispatch
from mox_core.file.backend import Backend, FileStat

tf1 = tf.compat.v1


def example(band, label, name) -> bytes:
    feature = {
        "band": tf.train.Feature(float_list=tf.train.FloatList(value=band)),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        "id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[name])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def toy_records(k: int) -> bytes:
    """Record k: band k..k+5 (a 2x3 'image'), label k % 2, id b'id-k'."""
    return example([float(k + i) for i in range(6)], k % 2, f"id-{k}".encode())


@pytest.fixture
def data_dir(tmp_path):
    """toy-train-0/1 with 4 records each (k = 0..7), toy-eval-0 with 2 (k = 100, 101)."""
    for shard in range(2):
        with tf.io.TFRecordWriter(str(tmp_path / f"toy-train-{shard}.tfrecord")) as writer:
            for k in range(4 * shard, 4 * shard + 4):
                writer.write(toy_records(k))
    with tf.io.TFRecordWriter(str(tmp_path / "toy-eval-0.tfrecord")) as writer:
        for k in (100, 101):
            writer.write(toy_records(k))
    return tmp_path


KEYS_TO_FEATURES = {
    "band": tf1.FixedLenFeature((6,), tf.float32, default_value=None),
    "label": tf1.FixedLenFeature([1], tf.int64, default_value=None),
    "id": tf1.FixedLenFeature([1], tf.string, default_value=None),
}
ITEMS_TO_HANDLERS = {
    "band": slim.tfexample_decoder.Tensor("band", shape=[2, 3]),
    "label": slim.tfexample_decoder.Tensor("label", shape=[]),
    "id": slim.tfexample_decoder.Tensor("id", shape=[]),
}


def read_all(dataset, items, max_runs=100):
    with tf.Graph().as_default():
        tensors = dataset.get(items)
        rows = []
        with tf1.Session() as session:
            for _ in range(max_runs):
                try:
                    rows.append(session.run(tensors))
                except tf.errors.OutOfRangeError:
                    return rows
    raise AssertionError("the input did not end")


def test_the_iceberg_call_reads_every_record_with_its_items(data_dir, caplog):
    caplog.set_level(logging.INFO, logger="tensorflow")
    dataset = mox.datasets.get_tfrecord(dataset_dir=str(data_dir),
                                        file_pattern="toy-train-*.tfrecord",
                                        keys_to_features=KEYS_TO_FEATURES,
                                        items_to_handlers=ITEMS_TO_HANDLERS,
                                        shuffle=False, num_epochs=1)
    assert dataset.num_samples == dataset.total_num_samples == 8  # counted
    assert "Automatically extracting num_samples from tfrecord" in caplog.text
    assert dataset.list_items() == ["band", "label", "id"]
    rows = read_all(dataset, ["band", "label", "id"])
    assert [row[2] for row in rows] == [f"id-{k}".encode() for k in range(8)]  # file order
    for k, (band, label, _) in enumerate(rows):
        np.testing.assert_allclose(band, np.arange(k, k + 6).reshape(2, 3))
        assert label == k % 2


def test_shuffled_epochs_and_separate_gets_stay_paired(data_dir):
    dataset = get_tfrecord(str(data_dir), "toy-train-*", 8, KEYS_TO_FEATURES, ITEMS_TO_HANDLERS,
                           num_epochs=2, shuffle=True, shuffle_buffer_size=4, seed=1)
    with tf.Graph().as_default():
        label = dataset.get("label")
        band, name = dataset.get(["band", "id"])  # the same records as `label`
        assert band.shape == [2, 3] and label.shape == [] and label.dtype == tf.int64
        rows = []
        with tf1.Session() as session:
            with pytest.raises(tf.errors.OutOfRangeError):
                for _ in range(20):
                    rows.append(session.run([label, band, name]))
    assert len(rows) == 16
    for label, band, name in rows:
        k = int(name.decode()[3:])
        assert label == k % 2 and band[0, 0] == k
    assert sorted(int(r[2].decode()[3:]) for r in rows) == sorted(list(range(8)) * 2)


def test_an_image_item_with_a_given_num_samples(tmp_path, caplog):
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.fromarray(np.full((3, 4, 1), 77, np.uint8)[:, :, 0]).save(buffer, format="PNG")
    record = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[buffer.getvalue()])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"png"])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[4])),
    })).SerializeToString()
    with tf.io.TFRecordWriter(str(tmp_path / "mnist.tfrecord")) as writer:
        writer.write(record)
    caplog.set_level(logging.INFO, logger="tensorflow")
    dataset = get_tfrecord(
        dataset_dir=str(tmp_path), file_pattern="*.tfrecord", num_samples=1,
        keys_to_features={
            "image/encoded": tf1.FixedLenFeature((), tf.string, default_value=""),
            "image/format": tf1.FixedLenFeature((), tf.string, default_value=""),
            "image/class/label": tf1.FixedLenFeature(
                [1], tf.int64, default_value=tf.zeros([1], dtype=tf.int64)),
        },
        items_to_handlers={
            "image": slim.tfexample_decoder.Image(shape=[3, 4, 1], channels=1),
            "label": slim.tfexample_decoder.Tensor("image/class/label", shape=[]),
        }, num_epochs=1)
    assert "Automatically extracting" not in caplog.text
    ((image, label),) = read_all(dataset, ["image", "label"])
    assert image.shape == (3, 4, 1) and (image == 77).all() and label == 4


def test_mistakes_are_named(data_dir):
    kwargs = dict(keys_to_features=KEYS_TO_FEATURES, items_to_handlers=ITEMS_TO_HANDLERS)
    with pytest.raises(ValueError, match=r"no file in '.*' matches the pattern '\*test\*'"):
        get_tfrecord(str(data_dir), "*test*", **kwargs)
    with pytest.raises(ValueError, match=r"dataset_dir '.*missing' does not exist"):
        get_tfrecord(str(data_dir / "missing"), "*", **kwargs)
    with pytest.raises(ValueError, match="needs keys_to_features and items_to_handlers"):
        get_tfrecord(str(data_dir), "*train*")
    with pytest.raises(ValueError, match=r"item 'angle' \(Tensor\) reads feature\(s\) 'angle'"):
        get_tfrecord(str(data_dir), "*train*", keys_to_features=KEYS_TO_FEATURES,
                     items_to_handlers={"angle": slim.tfexample_decoder.Tensor("angle")})
    with pytest.raises(ValueError, match="num_epochs must be a positive int or None"):
        get_tfrecord(str(data_dir), "*train*", num_epochs=0, **kwargs)
    dataset = get_tfrecord(str(data_dir), "*eval*", **kwargs)
    with pytest.raises(ValueError, match=r"unknown item\(s\) 'image'; items_to_handlers "
                                         r"defines 'band', 'label', 'id'"):
        dataset.get(["image"])


class MemoryBackend(Backend):
    """An object store in a dict, served as mem:// through mox.file (like obs://)."""

    objects: dict[str, bytes] = {}

    def exists(self, url):
        return url in self.objects or self.is_directory(url)

    def is_directory(self, url):
        prefix = url.rstrip("/") + "/"
        return any(key.startswith(prefix) for key in self.objects)

    def stat(self, url):
        return FileStat(len(self.objects[url]), 0, False)

    def list_directory(self, url, recursive=False):
        prefix = url.rstrip("/") + "/"
        names = {key[len(prefix):] if recursive else key[len(prefix):].split("/")[0]
                 for key in self.objects if key.startswith(prefix)}
        return sorted(names)

    def read(self, url):
        return self.objects[url]

    def open_read(self, url):
        return io.BytesIO(self.objects[url])


@pytest.fixture
def mem_scheme(monkeypatch):
    from mox_core.registry import FilesystemSpec, Registry

    registry = Registry("URL scheme", [("mox-core", [
        FilesystemSpec("file", "mox_core.file.local:LocalBackend"),
        FilesystemSpec("mem", MemoryBackend)])])
    monkeypatch.setattr(dispatch, "registry", lambda kind: registry)
    dispatch.reset()
    MemoryBackend.objects.clear()
    yield MemoryBackend.objects
    dispatch.reset()


def test_a_registered_url_scheme_is_listed_counted_and_read_through_mox_file(data_dir,
                                                                             mem_scheme):
    for name in ("toy-train-0.tfrecord", "toy-eval-0.tfrecord"):
        mem_scheme[f"mem://bucket/iceberg/{name}"] = (data_dir / name).read_bytes()
    dataset = get_tfrecord("mem://bucket/iceberg", "toy-train-*.tfrecord",
                           keys_to_features=KEYS_TO_FEATURES, items_to_handlers=ITEMS_TO_HANDLERS,
                           shuffle=False, num_epochs=1)
    assert dataset.files == ["mem://bucket/iceberg/toy-train-0.tfrecord"]
    assert dataset.num_samples == 4
    assert [label for (label,) in read_all(dataset, ["label"])] == [0, 1, 0, 1]


def test_files_listed_remotely_are_read_from_the_local_copy_in_redirect_dir(data_dir,
                                                                          mem_scheme):
    mem_scheme["mem://bucket/iceberg/toy-eval-0.tfrecord"] = b"not read: only listed"
    dataset = get_tfrecord("mem://bucket/iceberg", "toy-eval-*", num_samples=2,
                           keys_to_features=KEYS_TO_FEATURES, items_to_handlers=ITEMS_TO_HANDLERS,
                           shuffle=False, num_epochs=1, redirect_dir=str(data_dir))
    assert [name for (name,) in read_all(dataset, ["id"])] == [b"id-100", b"id-101"]


def test_get_tfrecord_feeds_a_mox_run(data_dir, tmp_path):
    """The iceberg pattern: get_tfrecord inside input_fn, batched by mox.run, slim losses."""

    def input_fn(run_mode, **kwargs):
        dataset = mox.datasets.get_tfrecord(
            dataset_dir=str(data_dir), file_pattern="toy-train-*.tfrecord", num_samples=8,
            keys_to_features=KEYS_TO_FEATURES, items_to_handlers=ITEMS_TO_HANDLERS,
            num_epochs=None, shuffle=True)
        band, label = dataset.get(["band", "label"])
        return band, label

    def model_fn(inputs, run_mode, **kwargs):
        bands, labels = inputs
        weights = tf1.get_variable("w", [6, 2], initializer=tf1.zeros_initializer())
        logits = tf.matmul(tf.reshape(bands, [-1, 6]), weights)
        loss = slim.losses.softmax_cross_entropy(logits, slim.one_hot_encoding(labels, 2))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    log_dir = tmp_path / "log"
    result = mox.run(input_fn=input_fn, model_fn=model_fn,
                     optimizer_fn=mox.get_optimizer_fn("sgd", learning_rate=0.001),
                     run_mode=mox.ModeKeys.TRAIN, batch_size=4, log_dir=str(log_dir),
                     max_number_of_steps=3, log_every_n_steps=1)
    assert tf.train.latest_checkpoint(str(log_dir)).endswith("model.ckpt-3")
    assert np.isfinite(result["loss"])
    trained = tf.train.load_checkpoint(str(log_dir)).get_tensor("w")
    assert trained.shape == (6, 2) and np.abs(trained).sum() > 0  # moved from the zero start
