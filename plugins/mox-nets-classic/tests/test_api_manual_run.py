"""The API manual's (``moxing-tensorflow-api.zh.md``) ``mox.run`` examples run as tests.

Every example is the manual's code ported only by ``import tensorflow.compat.v1 as tf`` and
``mox_core.slim`` in place of ``tf.contrib.slim``, on small generated data written to
``tmp_path`` where the manual reads folders or ``s3://bucket/mnist/``, with 20 steps where it
trains for 2000 and ``log_dir`` in ``tmp_path`` where a test reads the checkpoint. LeNet
(network and preprocessing) stands in for example 2's ResNet-50, which takes minutes a run on
a CPU, and its image sizes shrink to LeNet's 28 pixels.
"""

from __future__ import annotations

import logging
import re
import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from api_manual_data import checkpoint, write_class_folders, write_mnist_tfrecords

import moxing.tensorflow as mox
from mox_core import slim  # the manual's slim = tf.contrib.slim
from mox_core.testing import STEP_LINE, band_images, logged_values, step_lines

NETWORK = "lenet"  # the small network standing in for resnet_v1_50


@pytest.fixture(autouse=True)
def forget_module_attributes():
    """The manual stores its network function as ``mox.mdoel_fn``; drop it after each test."""
    yield
    vars(mox).pop("mdoel_fn", None)


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


# --------------------------------------------------------------------------- example 1


def run_example_1(log_dir=None, mnist_dir=None):
    """Run example 1 as the manual writes it: with the internal dataset (``get_dataset``) from
    ``mnist_dir``, or else with its custom dataset (``from_generator``, auto_batch=False); with
    no ``log_dir``, as the manual launches it, unless one is given."""
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
    # The manual's read_data_sets('s3://bucket/mnist/, one_hot=True) lacks a closing quote and
    # declares [None, 784] images and one-hot labels, against its own comment (rank 4) and
    # model_fn (LeNet, in_top_k): the nearest form that runs gives rank-4 images, integer labels.
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
        labels_one_hot = slim.one_hot_encoding(labels, num_classes)
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
            log_dir=log_dir and str(log_dir),  # the manual gives none
            max_number_of_steps=20)  # the manual's 2000


def assert_lenet_trained_20_steps(caplog):
    lines = step_lines(caplog.records)
    assert [STEP_LINE.match(line).group(2) for line in lines] == ["0", "10"]
    assert list(logged_values(lines[0])) == ['loss', 'top1']
    assert logged_values(lines[-1])['loss'] < logged_values(lines[0])['loss']
    assert mox.mdoel_fn.__name__ == "lenet_network_fn"


@pytest.mark.slow
def test_run_example_1_trains_lenet_on_the_internal_mnist_dataset(tmp_path, caplog):
    mnist_dir = write_mnist_tfrecords(tmp_path / "mnist", count=200)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run_example_1(tmp_path / "log", mnist_dir)
    assert_lenet_trained_20_steps(caplog)
    assert checkpoint(tmp_path / "log").get_tensor("LeNet/fc4/weights").shape == (1024, 10)
    assert tf.train.latest_checkpoint(str(tmp_path / "log")).endswith("model.ckpt-20")


@pytest.mark.slow
def test_run_example_1_trains_lenet_on_a_custom_dataset_without_a_log_dir(
        tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run_example_1()
    assert_lenet_trained_20_steps(caplog)
    assert list(tmp_path.iterdir()) == []  # without log_dir, no checkpoint nor summary


# --------------------------------------------------------------------------- example 2


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

        labels_one_hot = slim.one_hot_encoding(labels, 1000)
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
