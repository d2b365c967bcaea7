"""Training through mox.run from obs://: raw class folders and TFRecords, nothing patched.

The datasets list, count, cache and read obs:// paths through ``mox.file`` themselves (no
``mox.file.shift``, no ``tf.io.gfile`` wrapper), with either reader.
"""

from __future__ import annotations

import pytest
import tensorflow as tf
from conftest import CLASSES, COLORS, png_bytes

import moxing.tensorflow as mox
from mox_core import file as mox_file


@pytest.fixture
def unpatched(obs_env):
    """The test runs with TensorFlow's and Python's own file functions."""
    from mox_core.file.shift import is_shifted

    assert not is_shifted() and not hasattr(tf.io.gfile.exists, "__wrapped__")
    yield
    assert not is_shifted()


def linear_model_fn(num_classes: int, size: int):
    def model_fn(inputs, mode):
        images, labels = inputs
        weights = tf.compat.v1.get_variable("w", [size * size * 3, num_classes])
        logits = tf.matmul(tf.reshape(images, [-1, size * size * 3]), weights)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    return model_fn


def train(input_fn, num_classes: int, log_dir: str, steps: int = 50) -> str:
    mox.run(input_fn=input_fn, model_fn=linear_model_fn(num_classes, 4),
            run_mode=mox.ModeKeys.TRAIN, optimizer_fn=mox.get_optimizer_fn("sgd", 0.1),
            batch_size=4, auto_batch=False, log_dir=log_dir, max_number_of_steps=steps,
            log_every_n_steps=1)
    return tf.train.latest_checkpoint(log_dir)


@pytest.mark.parametrize("reader", ["AsyncRawGenerator", None])
def test_raw_class_folders_on_obs_train(flowers, unpatched, tmp_path, reader):
    meta = mox.ImageClassificationRawMetadata(f"obs://{flowers}/flowers")
    assert meta.labels_list == list(CLASSES) and meta.total_num_samples == 12

    def input_fn(mode):
        dataset = mox.ImageClassificationRawDataset(
            meta, batch_size=4, image_size=4, num_epochs=2, shuffle=False,
            reader_class=reader)
        image, label = dataset.get(["image", "label"])
        return tf.cast(image, tf.float32) / 255.0, label

    checkpoint = train(input_fn, meta.num_classes, str(tmp_path / f"raw-{reader}"))
    assert checkpoint.endswith("model.ckpt-6")  # 2 epochs of 12 samples in batches of 4


def _example(image: bytes, label: int) -> bytes:
    feature = {
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"png"])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        "image/height": tf.train.Feature(int64_list=tf.train.Int64List(value=[6])),
        "image/width": tf.train.Feature(int64_list=tf.train.Int64List(value=[8])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def upload_records(bucket: str, tmp_path) -> str:
    """Two shards of TF-Slim records (3 images each) and a label map on obs://."""
    for shard in range(2):
        local = tmp_path / f"flowers_train_{shard}.tfrecord"
        with tf.io.TFRecordWriter(str(local)) as writer:
            for label, cls in enumerate(CLASSES):
                writer.write(_example(png_bytes(COLORS[cls]), label))
        mox_file.copy(str(local), f"obs://{bucket}/records/{local.name}")
    mox_file.write(f"obs://{bucket}/records/labels.txt",
                   "".join(f"{i}:{c}\n" for i, c in enumerate(CLASSES)))
    return f"obs://{bucket}/records"


@pytest.mark.parametrize("cached", [False, True])
def test_tfrecords_on_obs_train(bucket, unpatched, tmp_path, cached):
    meta = mox.ImageClassificationTFRecordMetadata(upload_records(bucket, tmp_path),
                                                   "flowers_train_*.tfrecord")
    assert meta.num_samples == 6 and meta.num_classes == 3  # counted from obs://
    cache_dir = tmp_path / "cache"

    def input_fn(mode):
        dataset = mox.ImageClassificationTFRecordDataset(
            meta, batch_size=3, image_size=4, num_epochs=2, shuffle=False,
            cache_dir=str(cache_dir) if cached else None)
        image, label = dataset.get(["image", "label"])
        return tf.cast(image, tf.float32) / 255.0, label

    checkpoint = train(input_fn, meta.num_classes, str(tmp_path / "records-log"))
    assert checkpoint.endswith("model.ckpt-4")
    if cached:  # the local copy is removed when the data has ended
        assert list(cache_dir.iterdir()) == []


def test_tfrecords_on_obs_give_every_record_once_per_epoch(bucket, unpatched, tmp_path):
    meta = mox.ImageClassificationTFRecordMetadata(upload_records(bucket, tmp_path),
                                                   "flowers_train_*.tfrecord")
    dataset = mox.ImageClassificationTFRecordDataset(meta, num_epochs=2, shuffle=True)
    with tf.Graph().as_default():
        pair = dataset.get(["label", "label_desc"])
        with tf.compat.v1.Session() as session:
            epochs = [sorted((int(label), desc.decode()) for label, desc in
                             (session.run(pair) for _ in range(6))) for _ in range(2)]
            with pytest.raises(tf.errors.OutOfRangeError):
                session.run(pair)
    assert epochs == [sorted(list(enumerate(CLASSES)) * 2)] * 2


def test_tfrecords_stream_from_obs_through_the_tfdata_bridge(bucket, obs_env, tmp_path):
    from mox_core.file import tfdata

    local = tmp_path / "r.tfrecord"
    with tf.io.TFRecordWriter(str(local)) as writer:
        for index in range(5):
            writer.write(f"record {index}".encode())
    mox_file.copy(str(local), f"obs://{bucket}/r.tfrecord")
    records = tfdata.tfrecord_records(tf.constant(f"obs://{bucket}/r.tfrecord"), remote=True)
    assert [r.numpy() for r in records] == [f"record {i}".encode() for i in range(5)]
    contents = tf.data.Dataset.from_tensor_slices([f"obs://{bucket}/r.tfrecord", str(local)])
    sizes = [len(tfdata.read_file(p).numpy()) for p in contents]
    assert sizes == [local.stat().st_size] * 2
