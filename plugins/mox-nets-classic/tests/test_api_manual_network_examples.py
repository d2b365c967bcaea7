"""The examples of MoXing's API manual (``moxing-tensorflow-api.zh.md``) that build a network
run as tests: its ModelSpec example 4 case, ExportSpec sample and ``mox.run`` examples.

Every example is the manual's code ported only by ``import tensorflow.compat.v1 as tf`` and
``tf.one_hot`` in place of ``slim.one_hot_encoding``, run on small generated data: images of a
few classes told apart by a bright band, written to ``tmp_path`` where the manual reads folders,
a few steps, ``log_dir`` in ``tmp_path``. Where the manual elides code (``...``) or names
something it never defines (``log_info``, ``num_classes``), the smallest stand-in fills the gap.
LeNet (network and preprocessing) stands in for ResNet-50, which takes minutes a run on a CPU,
and image sizes shrink to LeNet's 28 pixels. The core's tests run the manual's other examples.
"""

from __future__ import annotations

import io
import logging
import re
import types

import numpy as np
import pytest
import tensorflow as tf2
import tensorflow.compat.v1 as tf
from PIL import Image

import moxing.tensorflow as mox
from mox_core.testing import STEP_LINE, band_images, logged_values, step_lines

NETWORK = "lenet"  # the small network standing in for resnet_v1_50


# --------------------------------------------------------------------------- generated data


def generated_mnist(count=500, seed=0):
    """A stand-in for ``input_data.read_data_sets``: ``mnist.train.next_batch(n)``, here with
    the rank-4 images and integer labels the manual's comment and model_fn expect."""
    images, labels = band_images(count, 10, seed=seed)
    images = (images / 255.0).astype(np.float32)
    position = 0

    def next_batch(batch_size):
        nonlocal position
        indices = np.arange(position, position + batch_size) % count
        position += batch_size
        return images[indices], labels[indices]

    return types.SimpleNamespace(train=types.SimpleNamespace(next_batch=next_batch))


def write_class_folders(base_dir, count, num_classes, seed):
    """A raw image-classification folder: ``base_dir/<class>/<n>.png``, RGB 28x28."""
    images, labels = band_images(count, num_classes, channels=3, seed=seed)
    for index, (image, label) in enumerate(zip(images, labels)):
        folder = base_dir / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index:04d}.png")
    return str(base_dir)


def checkpoint(log_dir):
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))


@pytest.fixture(autouse=True)
def forget_module_attributes():
    """The manual stores its network function as ``mox.mdoel_fn``; drop it after each test."""
    yield
    vars(mox).pop("mdoel_fn", None)


# --------------------------------------------------------------------------- ModelSpec


def test_modelspec_example_4_case_predicts_with_a_network_and_writes_a_table(tmp_path):
    eval_dir = write_class_folders(tmp_path / "eval", 40, 5, seed=5)
    checkpoint_path = tmp_path / "checkpoint_path"

    def pretrain_model_fn(inputs, mode):
        logits, _ = mox.get_model_fn(NETWORK, mode, num_classes=1000)(inputs[0])
        return mox.ModelSpec(loss=tf.losses.sparse_softmax_cross_entropy(inputs[1], logits))

    images, labels = band_images(64, 5, channels=3, seed=6)
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(
                (images.astype(np.float32) / 255.0, labels)).repeat(),
            model_fn=pretrain_model_fn, optimizer_fn=mox.get_optimizer_fn('sgd', 0.01),
            run_mode=mox.ModeKeys.TRAIN, batch_size=8, log_dir=str(checkpoint_path),
            max_number_of_steps=1)
    table_path = tmp_path / "outputs.txt"

    # the manual's case, from here on
    def input_fn(mode, **kwargs):
        meta = mox.ImageClassificationRawMetadata(base_dir=eval_dir)
        dataset = mox.ImageClassificationRawDataset(meta)
        image = dataset.get(['image'])[0]
        image.set_shape([None, None, 3])
        image = tf.expand_dims(image, 0)
        image = tf.image.resize_images(image, size=[28, 28])
        image = tf.squeeze(image, 0)
        return image

    def model_fn(inputs, run_mode, **kwargs):
        images = inputs[0]

        logits, endpoints = mox.get_model_fn(
            name=NETWORK,
            run_mode=run_mode,
            num_classes=1000,
            weight_decay=0.0001,
            # mox needs the image size in PREDICT mode; the manual omits it
            image_height=28,
            image_width=28)(images)
        prediction = tf.argmax(logits, axis=1)

        return mox.ModelSpec(output_info={'prediction': prediction})

    def output_fn(outputs):
        table = np.array([step['prediction'] for step in outputs])  # pandas' DataFrame, in numpy
        with mox.file.File(str(table_path), 'w') as f:
            np.savetxt(f, table, fmt='%d', delimiter=',')

    mox.run(input_fn=input_fn,
            model_fn=model_fn,
            output_fn=output_fn,
            output_every_n_steps=10,
            batch_size=32,
            run_mode=mox.ModeKeys.PREDICT,
            max_number_of_steps=10,
            checkpoint_path=str(checkpoint_path))

    table = np.loadtxt(table_path, delimiter=',', dtype=np.int64)
    assert table.shape == (10, 32)  # output_fn was called once, with all 10 steps
    assert ((0 <= table) & (table < 1000)).all()


# --------------------------------------------------------------------------- ExportSpec


def test_exportspec_sample_exports_version_1_with_its_inputs_and_outputs(tmp_path):
    num_classes = 1000

    def model_fn(inputs, run_mode, **kwargs):
        images, labels = inputs
        mox.mdoel_fn = mox.get_model_fn(
            name=NETWORK,
            run_mode=run_mode,
            num_classes=1000,
            image_height=28,
            image_width=28)
        logits, end_points = mox.mdoel_fn(images)
        labels_one_hot = tf.one_hot(labels, num_classes)
        loss = tf.losses.softmax_cross_entropy(
            logits=logits, onehot_labels=labels_one_hot,
            label_smoothing=0.0, weights=1.0)
        accuracy_top_1 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
        log_info = {'loss': loss, 'top1': accuracy_top_1}  # the sample uses it undefined
        export_spec = mox.ExportSpec(inputs_dict={'images': images},
                                     outputs_dict={'logits': logits},
                                     version=1)
        return mox.ModelSpec(loss=loss, log_info=log_info, export_spec=export_spec)

    images, labels = band_images(64, 5, channels=3, seed=7)
    images = images.astype(np.float32) / 255.0

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def train_and_export():
        mox.run(input_fn=input_fn, model_fn=model_fn,
                optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=0.01),
                run_mode=mox.ModeKeys.TRAIN, batch_size=8, log_dir=str(tmp_path),
                max_number_of_steps=3, export_model=mox.ExportKeys.TF_SERVING)

    train_and_export()
    loaded = tf2.saved_model.load(str(tmp_path / "1"))
    for name in ("serving_default", "predict_object"):
        signature = loaded.signatures[name]
        (spec,) = signature.structured_input_signature[1].values()
        assert list(signature.structured_input_signature[1]) == ['images']
        assert spec.shape.as_list() == [None, 28, 28, 3] and spec.dtype == tf.float32
        logits = signature(images=tf2.constant(images[:4]))['logits'].numpy()
        assert logits.shape == (4, 1000) and np.isfinite(logits).all()
        # exported in EXPORT mode, so without dropout: the same images, the same logits
        np.testing.assert_array_equal(
            signature(images=tf2.constant(images[:4]))['logits'].numpy(), logits)
    with pytest.raises(ValueError, match=r"export directory .*1 already exists"):
        train_and_export()  # version=1 is written once


# --------------------------------------------------------------------------- run


def write_mnist_tfrecords(dataset_dir, count):
    """TF-Slim's MNIST layout (``download_and_convert_mnist.py``): ``mnist_train.tfrecord`` and
    ``mnist_test.tfrecord`` of 28x28x1 PNGs with ``image/encoded``, ``image/format``,
    ``image/class/label``, ``image/height``, ``image/width``; and ``labels.txt``."""
    dataset_dir.mkdir()
    for split, seed in (("train", 10), ("test", 11)):
        images, labels = band_images(count, 10, seed=seed)
        with tf.io.TFRecordWriter(str(dataset_dir / f"mnist_{split}.tfrecord")) as writer:
            for image, label in zip(images, labels):
                png = io.BytesIO()
                Image.fromarray(image[:, :, 0]).save(png, format="PNG")
                feature = {
                    "image/encoded": bytes_feature(png.getvalue()),
                    "image/format": bytes_feature(b"png"),
                    "image/class/label": int64_feature(int(label)),
                    "image/height": int64_feature(28),
                    "image/width": int64_feature(28),
                }
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    (dataset_dir / "labels.txt").write_text("".join(f"{i}:{i}\n" for i in range(10)))
    return str(dataset_dir)


def bytes_feature(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def int64_feature(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def run_example_1(log_dir, mnist_dir=None):
    """Run example 1 as the manual writes it: with the internal dataset (``get_dataset``) from
    ``mnist_dir``, or else with its custom dataset (``from_generator``, auto_batch=False)."""
    batch_size = 50
    dataset_meta = mox.get_dataset_meta('mnist')
    model_meta = mox.get_model_meta('lenet')
    split_name_train, split_name_eval = dataset_meta.splits_to_sizes.keys()
    image_size = model_meta.default_image_size
    labels_offset = model_meta.default_labels_offset
    num_classes = dataset_meta.num_classes - labels_offset

    def internal_input_fn(run_mode, **kwargs):
        dataset = mox.get_dataset(name='mnist', split_name=split_name_train,
                                  dataset_dir=mnist_dir, capacity=4000)
        image, label = dataset.get(['image', 'label'])
        data_augmentation_fn = mox.get_data_augmentation_fn(
            name='lenet', run_mode=mox.ModeKeys.TRAIN,
            output_height=image_size, output_width=image_size)
        image = data_augmentation_fn(image)
        label -= labels_offset
        return image, label

    # Here returns a batch of data with rank=4, so we need to set auto_batch=False
    # When calling mox.run(...)
    def custom_input_fn(run_mode, **kwargs):
        mnist = generated_mnist()  # input_data.read_data_sets('s3://bucket/mnist/')

        def gen():
            while True:
                yield mnist.train.next_batch(batch_size)
        ds = tf.data.Dataset.from_generator(
            gen, output_types=(tf.float32, tf.int64),
            output_shapes=(tf.TensorShape([None, 28, 28, 1]), tf.TensorShape([None])))
        return ds.make_one_shot_iterator().get_next()

    def model_fn(inputs, run_mode, **kwargs):
        images, labels = inputs
        mox.mdoel_fn = mox.get_model_fn(
            name='lenet',
            run_mode=mox.ModeKeys.TRAIN,
            num_classes=num_classes,
            weight_decay=0.0001,
            data_format='NHWC',
            batch_norm_fused=True,
            batch_renorm=False,
            image_height=image_size,
            image_width=image_size)
        logits, end_points = mox.mdoel_fn(images)
        labels_one_hot = tf.one_hot(labels, num_classes)
        loss = tf.losses.softmax_cross_entropy(
            logits=logits, onehot_labels=labels_one_hot,
            label_smoothing=0.0, weights=1.0)
        accuracy_top_1 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
        log_info = {'loss': loss,
                    'top1': accuracy_top_1}
        top_1_confidence, top_1_label = tf.nn.top_k(tf.nn.softmax(logits), k=1)
        top_1_label += labels_offset
        export_spec = mox.ExportSpec(inputs_dict={'images': images},
                                     outputs_dict={'labels': top_1_label,
                                                   'confidences': top_1_confidence},
                                     version=1)
        return mox.ModelSpec(loss=loss, log_info=log_info, export_spec=export_spec)

    mox.run(input_fn=internal_input_fn if mnist_dir else custom_input_fn,
            model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=0.01),
            run_mode=mox.ModeKeys.TRAIN,
            batch_size=batch_size,
            auto_batch=mnist_dir is not None,
            log_dir=str(log_dir),
            max_number_of_steps=20)


def assert_lenet_trained_20_steps(log_dir, caplog):
    lines = step_lines(caplog.records)
    assert [STEP_LINE.match(line).group(2) for line in lines] == ["0", "10"]
    assert list(logged_values(lines[0])) == ['loss', 'top1']
    assert logged_values(lines[-1])['loss'] < logged_values(lines[0])['loss']
    assert checkpoint(log_dir).get_tensor("LeNet/fc4/weights").shape == (1024, 10)
    assert tf.train.latest_checkpoint(str(log_dir)).endswith("model.ckpt-20")
    assert mox.mdoel_fn.__name__ == "lenet_network_fn"


@pytest.mark.slow
def test_run_example_1_trains_lenet_on_the_internal_mnist_dataset(tmp_path, caplog):
    mnist_dir = write_mnist_tfrecords(tmp_path / "mnist", count=200)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run_example_1(tmp_path / "log", mnist_dir)
    assert_lenet_trained_20_steps(tmp_path / "log", caplog)


@pytest.mark.slow
def test_run_example_1_trains_lenet_on_a_custom_dataset(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run_example_1(tmp_path / "log")
    assert_lenet_trained_20_steps(tmp_path / "log", caplog)


def evaluations_until_early_stop(values, min_delta, patience):
    """The number of evaluations after which the manual's EarlyStoppingHook stops training."""
    best, stalled = values[0], 0
    for count, value in enumerate(values[1:], start=2):
        best, stalled = (value, 0) if value > best + min_delta else (best, stalled + 1)
        if stalled == patience:
            return count
    return None


@pytest.mark.slow
def test_run_example_2_early_stopping_stops_when_the_accuracy_stalls(tmp_path, caplog):
    train_dir = write_class_folders(tmp_path / "train", 32, 4, seed=8)
    eval_dir = write_class_folders(tmp_path / "eval", 16, 4, seed=9)
    batch_size, samples_in_train, samples_in_eval = 8, 32, 16  # the manual's 32, 640, 32

    def input_fn(mode, **kwargs):
        if mode == mox.ModeKeys.TRAIN:
            meta = mox.ImageClassificationRawMetadata(base_dir=train_dir)
        else:
            meta = mox.ImageClassificationRawMetadata(base_dir=eval_dir)

        dataset = mox.ImageClassificationRawDataset(meta)

        image, label = dataset.get(['image', 'label'])
        image = mox.get_data_augmentation_fn(
            name=NETWORK,
            run_mode=mode,
            output_height=28,
            output_width=28)(image)
        return image, label

    def model_fn(inputs, mode, **kwargs):
        images, labels = inputs

        logits, endpoints = mox.get_model_fn(
            name=NETWORK,
            run_mode=mode,
            num_classes=1000)(images)

        labels_one_hot = tf.one_hot(labels, 1000)
        loss = tf.losses.softmax_cross_entropy(logits=logits, onehot_labels=labels_one_hot)

        accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))

        early_stop_hook = mox.EarlyStoppingHook(
            monitor_info={'accuracy': accuracy},
            monitor='accuracy',
            batch_size=batch_size,
            samples_in_train=samples_in_train,
            samples_in_eval=samples_in_eval,
            evaluate_every_n_epochs=1,
            min_delta=0.01,
            patience=3,
            prefix='[EarlyStopping]'
        )

        return mox.ModelSpec(loss=loss,
                             log_info={'loss': loss, 'accuracy': accuracy},
                             hooks=[early_stop_hook])

    with caplog.at_level(logging.INFO, logger="tensorflow"):
        mox.run(input_fn=input_fn,
                model_fn=model_fn,
                optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=0.01),
                batch_size=batch_size,
                run_mode=mox.ModeKeys.TRAIN,
                inter_mode=mox.ModeKeys.EVAL,
                log_dir=str(tmp_path / "log"),
                max_number_of_steps=10000)

    messages = [r.getMessage() for r in caplog.records]
    evaluations = [re.fullmatch(r"\[EarlyStopping\] step: (\d+) accuracy: (\d\.\d{3})", m)
                   for m in messages if m.startswith("[EarlyStopping] step")]
    assert all(evaluations)
    steps_per_epoch = samples_in_train // batch_size
    assert [int(m.group(1)) for m in evaluations] == [
        (n + 1) * steps_per_epoch - 1 for n in range(len(evaluations))]
    # the manual's rule: stop once the accuracy has not risen by more than min_delta for
    # patience=3 evaluations in a row (so after at least 4), at the first such moment
    accuracies = [float(m.group(2)) for m in evaluations]
    assert evaluations_until_early_stop(accuracies, min_delta=0.01, patience=3) == len(
        accuracies)
    assert len(accuracies) >= 4
    assert any("did not improve" in m and f"stopping at step {evaluations[-1].group(1)}" in m
               for m in messages)
    stopped_at = len(accuracies) * steps_per_epoch
    assert checkpoint(tmp_path / "log").get_tensor("global_step") == stopped_at < 10000
    lines = step_lines(caplog.records)
    assert STEP_LINE.match(lines[0]).group(1, 2) == ("0", "0")
    assert list(logged_values(lines[0])) == ['loss', 'accuracy']
