"""The seed's examples run as tests: every example of moxing-tensorflow-api.zh.md's ModelSpec,
ExportSpec, get_collection, var_scope and run sections.

Every example is the seed's code ported only by ``import tensorflow.compat.v1 as tf`` and
``tf.one_hot`` in place of ``slim.one_hot_encoding``, run on small generated data: images of a
few classes told apart by a bright band, written to ``tmp_path`` where the seed reads folders,
a few steps, ``log_dir`` in ``tmp_path``. Where the seed elides code (``...``) or names
something it never defines (``log_info``, ``num_classes``), the smallest stand-in fills the gap.
LeNet (network and preprocessing) stands in for ResNet-50, which takes minutes a run on a CPU,
and image sizes shrink to LeNet's 28 pixels.
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

NETWORK = "lenet"  # the small network standing in for resnet_v1_50
needs_network = pytest.mark.skipif(
    NETWORK not in mox.list_networks(),
    reason=f"network {NETWORK!r} is not installed (it comes with mox-nets-classic)",
)
STEP_LINE = re.compile(r"step: (\d+)\(global step: (\d+)\)\tsample/sec: \d+\.\d{3}((?:\t\S+: "
                       r"-?\d+\.\d{3})*)$")


# --------------------------------------------------------------------------- generated data


def band_images(count, num_classes, size=28, channels=1, seed=0):
    """uint8 images ``[count, size, size, channels]`` whose class is where a bright band lies."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, count)
    images = rng.integers(0, 64, (count, size, size, channels)).astype(np.uint8)
    band = size // num_classes
    for image, label in zip(images, labels):
        image[label * band:(label + 1) * band] = 255
    return images, labels.astype(np.int64)


def flat_mnist_like(count, seed=0):
    """What ``input_data.read_data_sets(..., one_hot=True)`` gives: 784 floats, one-hot."""
    images, labels = band_images(count, 10, seed=seed)
    return (images.reshape(count, 784) / 255.0).astype(np.float32), np.eye(10)[labels].astype(
        np.float32)


def generated_mnist(count=500, seed=0):
    """A stand-in for ``input_data.read_data_sets``: ``mnist.train.next_batch(n)``, here with
    the rank-4 images and integer labels the seed's comment and model_fn expect."""
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


def step_lines(caplog):
    return [r.getMessage() for r in caplog.records if STEP_LINE.match(r.getMessage())]


def logged_values(line):
    """``{'loss': 3.451, 'accuracy': 0.312}`` from a step line, in the logged order."""
    pairs = STEP_LINE.match(line).group(3).split("\t")[1:]
    return {key: float(value) for key, value in (pair.split(": ") for pair in pairs)}


def checkpoint(log_dir):
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))


@pytest.fixture
def flags():
    saved = {name: mox.get_flag(name) for name in ("num_gpus",)}
    yield mox.set_flag
    for name, value in saved.items():
        mox.set_flag(name, value)


@pytest.fixture(autouse=True)
def forget_module_attributes():
    """The seed stores its network function as ``mox.mdoel_fn``; drop it after each test."""
    yield
    vars(mox).pop("mdoel_fn", None)


# --------------------------------------------------------------------------- ModelSpec


def softmax_model_fn(inputs, run_mode, **kwargs):
    """ModelSpec example 1, as the seed writes it."""
    x, y_ = inputs
    W = tf.get_variable(name='W', initializer=tf.zeros([784, 10]))
    b = tf.get_variable(name='b', initializer=tf.zeros([10]))
    y = tf.matmul(x, W) + b
    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    return mox.ModelSpec(loss=cross_entropy, log_info={'loss': cross_entropy, 'accuracy': accuracy})


def mnist_like_input_fn(run_mode, **kwargs):
    return tf.data.Dataset.from_tensor_slices(flat_mnist_like(256)).repeat()


def train_softmax(log_dir, steps, **kwargs):
    return mox.run(input_fn=mnist_like_input_fn, model_fn=softmax_model_fn,
                   optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=0.5),
                   run_mode=mox.ModeKeys.TRAIN, batch_size=32, log_dir=str(log_dir),
                   max_number_of_steps=steps, **kwargs)


@pytest.fixture(scope="module")
def softmax_checkpoint(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("softmax")
    train_softmax(log_dir, steps=20)
    return log_dir


def test_modelspec_example_1_trains_and_logs_loss_and_accuracy(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        result = train_softmax(tmp_path, steps=30, log_every_n_steps=10)
    lines = step_lines(caplog)
    assert [STEP_LINE.match(line).group(1, 2) for line in lines] == [
        ("0", "0"), ("10", "10"), ("20", "20")]
    assert list(logged_values(lines[0])) == ["loss", "accuracy"]
    assert logged_values(lines[-1])["accuracy"] > logged_values(lines[0])["accuracy"]
    assert result["accuracy"] >= 0.9  # the bands are easy to tell apart
    assert checkpoint(tmp_path).get_tensor("W").shape == (784, 10)
    assert checkpoint(tmp_path).get_tensor("global_step") == 30


def placeholder_model_fn(inputs, run_mode, **kwargs):
    """ModelSpec example 2, as the seed writes it."""
    del inputs
    x = tf.placeholder(dtype=tf.float32, shape=())

    class FeedRunHook(mox.AggregativeSessionRunHook):
        def before_run(self, run_context):
            feed_x = 1.0
            return tf.train.SessionRunArgs(fetches=None, feed_dict={x: feed_x})

        def support_aggregation(self):
            return False

        def support_sync_workers(self):
            return False

        def run_inter_mode(self):
            return False

    return mox.ModelSpec(log_info={'x': x}, hooks=[FeedRunHook()])


def test_modelspec_example_2_feeds_a_placeholder_through_a_hook(softmax_checkpoint, caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        result = mox.run(input_fn=mnist_like_input_fn, model_fn=placeholder_model_fn,
                         run_mode=mox.ModeKeys.EVAL, batch_size=8,
                         checkpoint_path=str(softmax_checkpoint), max_number_of_steps=3)
    assert result == {'x': 1.0}
    assert "eval step: 0\tx: 1.000" in [r.getMessage() for r in caplog.records]


def test_modelspec_example_2_needs_no_input_data(softmax_checkpoint):
    # the model ignores its inputs, so input_fn may return no tensor at all
    result = mox.run(input_fn=lambda mode: (), model_fn=placeholder_model_fn,
                     run_mode=mox.ModeKeys.EVAL, batch_size=8,
                     checkpoint_path=str(softmax_checkpoint), max_number_of_steps=3)
    assert result == {'x': 1.0}


NOISE = np.random.default_rng(1).normal(size=(128, 2)).astype(np.float32)
REAL = (np.random.default_rng(2).normal(size=(128, 2)) * 0.5 + 3.0).astype(np.float32)


def gan_model_fn(inputs, mode, **kwargs):
    """ModelSpec example 3, its ``...`` filled with a one-layer generator and discriminator."""
    noise, real = inputs

    def generator(x, is_training, reuse):
        with tf.variable_scope('generator', reuse=reuse):
            w = tf.get_variable('w', [2, 2], initializer=tf.initializers.identity())
            b = tf.get_variable('b', [2], initializer=tf.zeros_initializer())
            return tf.matmul(x, w) + b

    def discriminator(x, is_training, reuse):
        with tf.variable_scope('discriminator', reuse=reuse):
            w = tf.get_variable('w', [2, 1], initializer=tf.constant_initializer(0.1))
            b = tf.get_variable('b', [1], initializer=tf.zeros_initializer())
            return tf.matmul(x, w) + b

    is_training = mode == mox.ModeKeys.TRAIN
    fake = generator(noise, is_training, reuse=False)
    real_logits = discriminator(real, is_training, reuse=False)
    fake_logits = discriminator(fake, is_training, reuse=True)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    D_loss = tf.reduce_mean(xent(labels=tf.ones_like(real_logits), logits=real_logits)
                            + xent(labels=tf.zeros_like(fake_logits), logits=fake_logits))
    G_loss = tf.reduce_mean(xent(labels=tf.ones_like(fake_logits), logits=fake_logits))

    return mox.ModelSpec(loss=[D_loss, G_loss],
                         var_scopes=[['discriminator'], ['generator']],
                         log_info={'D_loss': D_loss, 'G_loss': G_loss})


def train_gan(log_dir, optimizer_fn):
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices((NOISE, REAL)).repeat(),
            model_fn=gan_model_fn, optimizer_fn=optimizer_fn, run_mode=mox.ModeKeys.TRAIN,
            batch_size=16, log_dir=str(log_dir), max_number_of_steps=5)
    reader = checkpoint(log_dir)
    return {name: reader.get_tensor(name) for name in
            ("generator/w", "generator/b", "discriminator/w", "discriminator/b", "global_step")}


def test_modelspec_example_3_each_loss_updates_only_its_variable_scopes(tmp_path, caplog):
    initial = {"generator/w": np.eye(2, dtype=np.float32), "generator/b": np.zeros(2, np.float32),
               "discriminator/w": np.full((2, 1), 0.1, np.float32),
               "discriminator/b": np.zeros(1, np.float32)}
    sgd, frozen = mox.get_optimizer_fn('sgd', 0.1), mox.get_optimizer_fn('sgd', 0.0)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        both = train_gan(tmp_path / "both", sgd)
    assert list(logged_values(step_lines(caplog)[0])) == ['D_loss', 'G_loss']
    assert both["global_step"] == 5  # both losses step once per step, on the same input
    assert all(not np.allclose(both[name], value) for name, value in initial.items())

    d_only = train_gan(tmp_path / "d_only", [sgd, frozen])  # G_loss's optimizer does nothing
    np.testing.assert_array_equal(d_only["generator/w"], initial["generator/w"])
    np.testing.assert_array_equal(d_only["generator/b"], initial["generator/b"])
    assert not np.allclose(d_only["discriminator/w"], initial["discriminator/w"])

    g_only = train_gan(tmp_path / "g_only", [frozen, sgd])  # D_loss's optimizer does nothing
    np.testing.assert_array_equal(g_only["discriminator/w"], initial["discriminator/w"])
    assert not np.allclose(g_only["generator/w"], initial["generator/w"])


def predictions_model_fn(inputs, mode, **kwargs):
    """ModelSpec example 4's model_fn, its ``...`` being example 1's model."""
    x = inputs[0]
    W = tf.get_variable(name='W', initializer=tf.zeros([784, 10]))
    b = tf.get_variable(name='b', initializer=tf.zeros([10]))
    predictions = tf.argmax(tf.matmul(x, W) + b, 1)
    return mox.ModelSpec(output_dict={'predictions': predictions})


def expected_predictions(log_dir, images):
    reader = checkpoint(log_dir)
    return np.argmax(images @ reader.get_tensor("W") + reader.get_tensor("b"), axis=1)


def test_modelspec_example_4_output_fn_gets_output_every_n_steps_dicts(softmax_checkpoint,
                                                                       capsys):
    images = flat_mnist_like(320, seed=3)[0]
    received = []

    def output_fn(outputs, **kwargs):
        received.append(outputs)
        print(outputs)

    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(images),
            model_fn=predictions_model_fn,
            output_fn=output_fn,
            output_every_n_steps=10,
            run_mode=mox.ModeKeys.PREDICT, batch_size=16,
            checkpoint_path=str(softmax_checkpoint))
    # 320 images in batches of 16: 20 steps, so two calls of 10 steps each
    assert [len(outputs) for outputs in received] == [10, 10]
    assert all(set(step) == {'predictions'} for outputs in received for step in outputs)
    assert all(isinstance(step['predictions'], np.ndarray) for step in received[0])
    got = np.concatenate([step['predictions'] for outputs in received for step in outputs])
    np.testing.assert_array_equal(got, expected_predictions(softmax_checkpoint, images))
    assert capsys.readouterr().out.startswith("[{'predictions': array([")


def test_modelspec_example_4_with_two_devices_lists_each_step_per_device(softmax_checkpoint,
                                                                         flags):
    images = flat_mnist_like(320, seed=4)[0]
    received = []
    flags("num_gpus", 2)  # two logical CPU devices stand in for two GPUs
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(images),
            model_fn=predictions_model_fn, output_fn=received.append, output_every_n_steps=10,
            run_mode=mox.ModeKeys.PREDICT, batch_size=8, max_number_of_steps=10,
            checkpoint_path=str(softmax_checkpoint))
    # [(step-0, GPU-0), (step-0, GPU-1), (step-1, GPU-0), ..., (step-9, GPU-1)], 8 images each:
    # the global batch of a step is split between the devices in order
    assert len(received) == 1 and len(received[0]) == 2 * 10
    expected = expected_predictions(softmax_checkpoint, images[:160]).reshape(20, 8)
    for index, step in enumerate(received[0]):
        np.testing.assert_array_equal(step['predictions'], expected[index])


@needs_network
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

    # the seed's case, from here on
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
            # mox requires the size in PREDICT mode (spec section 4); the seed omits it
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


@needs_network
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


# --------------------------------------------------------------------------- get_collection


def test_get_collection_samples_inside_model_fn_with_two_devices(tmp_path, flags):
    seen = []

    def model_fn(inputs, mode):
        x, y = inputs
        w = tf.get_variable('w', [784, 10], initializer=tf.zeros_initializer(),
                            regularizer=lambda w: 1e-4 * tf.nn.l2_loss(w))
        logits = tf.matmul(x, w)
        regularization_losses = mox.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        global_variables = mox.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
        seen.append((len(regularization_losses), [v.op.name for v in global_variables]))
        loss = tf.losses.softmax_cross_entropy(y, logits) + tf.add_n(regularization_losses)
        return mox.ModelSpec(loss=loss)

    flags("num_gpus", 2)  # model_fn is called once per device
    mox.run(input_fn=mnist_like_input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn('sgd', 0.1), run_mode=mox.ModeKeys.TRAIN,
            batch_size=8, log_dir=str(tmp_path), max_number_of_steps=2)
    # each device's call sees the one shared weight's regularization loss and the variables
    assert seen == [(1, ['global_step', 'w']), (1, ['global_step', 'w'])]


# --------------------------------------------------------------------------- var_scope


def test_var_scope_sample_prints_what_the_seed_shows():
    with tf.Graph().as_default():  # the seed's session runs in graph mode
        with mox.var_scope(force_dtype=tf.float32):
            a = tf.get_variable('a', shape=[], dtype=tf.float16)

        assert str(a) == 'Tensor("Cast:0", shape=(), dtype=float16)'
        # TF 1 printed reference variables as float32_ref; TF 2 makes resource variables
        assert re.fullmatch(r"<tf\.Variable 'a:0' shape=\(\) dtype=float32(_ref)?>",
                            str(tf.global_variables()[0]))


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
    """Run example 1 as the seed writes it: with the internal dataset (``get_dataset``) from
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
    lines = step_lines(caplog)
    assert [STEP_LINE.match(line).group(2) for line in lines] == ["0", "10"]
    assert list(logged_values(lines[0])) == ['loss', 'top1']
    assert logged_values(lines[-1])['loss'] < logged_values(lines[0])['loss']
    assert checkpoint(log_dir).get_tensor("LeNet/fc4/weights").shape == (1024, 10)
    assert tf.train.latest_checkpoint(str(log_dir)).endswith("model.ckpt-20")
    assert mox.mdoel_fn.__name__ == "lenet_network_fn"


@needs_network
@pytest.mark.slow
def test_run_example_1_trains_lenet_on_the_internal_mnist_dataset(tmp_path, caplog):
    mnist_dir = write_mnist_tfrecords(tmp_path / "mnist", count=200)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run_example_1(tmp_path / "log", mnist_dir)
    assert_lenet_trained_20_steps(tmp_path / "log", caplog)


@needs_network
@pytest.mark.slow
def test_run_example_1_trains_lenet_on_a_custom_dataset(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run_example_1(tmp_path / "log")
    assert_lenet_trained_20_steps(tmp_path / "log", caplog)


def evaluations_until_early_stop(values, min_delta, patience):
    """The number of evaluations after which the seed's EarlyStoppingHook stops training."""
    best, stalled = values[0], 0
    for count, value in enumerate(values[1:], start=2):
        best, stalled = (value, 0) if value > best + min_delta else (best, stalled + 1)
        if stalled == patience:
            return count
    return None


@needs_network
@pytest.mark.slow
def test_run_example_2_early_stopping_stops_when_the_accuracy_stalls(tmp_path, caplog):
    train_dir = write_class_folders(tmp_path / "train", 32, 4, seed=8)
    eval_dir = write_class_folders(tmp_path / "eval", 16, 4, seed=9)
    batch_size, samples_in_train, samples_in_eval = 8, 32, 16  # the seed's 32, 640, 32

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
    # the seed's rule: stop once the accuracy has not risen by more than min_delta for
    # patience=3 evaluations in a row (so after at least 4), at the first such moment
    accuracies = [float(m.group(2)) for m in evaluations]
    assert evaluations_until_early_stop(accuracies, min_delta=0.01, patience=3) == len(
        accuracies)
    assert len(accuracies) >= 4
    assert any("did not improve" in m and f"stopping at step {evaluations[-1].group(1)}" in m
               for m in messages)
    stopped_at = len(accuracies) * steps_per_epoch
    assert checkpoint(tmp_path / "log").get_tensor("global_step") == stopped_at < 10000
    lines = step_lines(caplog)
    assert STEP_LINE.match(lines[0]).group(1, 2) == ("0", "0")
    assert list(logged_values(lines[0])) == ['loss', 'accuracy']
