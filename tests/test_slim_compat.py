"""mox_core.slim: hand-ported tf.contrib.slim scripts (layers, losses, variables, data)."""

from __future__ import annotations

import importlib
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image as PILImage

import mox_core.slim as slim
from mox_core.nets import layers as mox_layers

tf1 = tf.compat.v1


def small_net(images, num_classes, weight_decay=0.01):
    """A slim-style network: conv -> pool -> flatten -> logits, under one arg_scope."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_initializer=tf1.ones_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with tf1.variable_scope("net"):
            net = slim.conv2d(images, 2, [3, 3], scope="conv1")
            net = slim.max_pool2d(net, [2, 2], scope="pool1")
            net = slim.flatten(net)
            return slim.fully_connected(net, num_classes, activation_fn=None, scope="logits")


def example(**features) -> bytes:
    """A serialized tf.train.Example; bytes, ints and floats become the matching lists."""
    feature = {}
    for key, value in features.items():
        key = key.replace("__", "/")
        values = value if isinstance(value, list) else [value]
        if isinstance(values[0], bytes):
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif isinstance(values[0], int):
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        else:
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def png(value: int, size=(4, 5)) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(np.full((*size, 3), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def run_until_end(tensors, max_runs=100):
    rows = []
    with tf1.Session() as session:
        session.run(tf1.tables_initializer())
        for _ in range(max_runs):
            try:
                rows.append(session.run(tensors))
            except tf.errors.OutOfRangeError:
                return rows
    raise AssertionError("the input did not end")


# -- layers ----------------------------------------------------------------------------------


def test_layers_are_mox_own_layers_under_slim_names():
    assert slim.conv2d is mox_layers.conv2d and slim.batch_norm is mox_layers.batch_norm
    assert slim.arg_scope is mox_layers.arg_scope and slim.convolution2d is slim.conv2d
    assert slim.layers.one_hot_encoding is slim.one_hot_encoding


def test_a_small_net_under_arg_scope_has_slims_variables_and_numbers():
    with tf.Graph().as_default():
        logits = small_net(tf.ones([1, 4, 4, 1]), num_classes=3)
        names = {v.op.name: v.shape.as_list() for v in slim.get_model_variables()}
        assert names == {"net/conv1/weights": [3, 3, 1, 2], "net/conv1/biases": [2],
                         "net/logits/weights": [8, 3], "net/logits/biases": [3]}
        assert [v.op.name for v in slim.get_variables("net/logits")] == [
            "net/logits/weights", "net/logits/biases"]
        assert len(slim.get_variables_by_name("weights")) == 2
        assert slim.get_unique_variable("net/conv1/biases").shape == [2]
        regularization = slim.losses.get_regularization_losses()
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            out, reg = session.run([logits, regularization])
    # a 3x3 all-ones kernel over ones is 9 inside; each 2x2 pool window sees an inside pixel;
    # the 8 pooled values x ones weights -> 72 per class
    np.testing.assert_allclose(out, [[72.0, 72.0, 72.0]])
    np.testing.assert_allclose(sorted(reg), [0.01 * 18 / 2, 0.01 * 24 / 2], rtol=1e-6)


def test_one_hot_encoding_widens_int32_labels_and_rejects_floats():
    with tf.Graph().as_default():
        onehot = slim.one_hot_encoding(tf.constant([2, 0], tf.int32), 3)
        assert onehot.op.name.startswith("OneHotEncoding")
        with tf1.Session() as session:
            np.testing.assert_array_equal(session.run(onehot), [[0, 0, 1], [1, 0, 0]])
        with pytest.raises(TypeError, match="labels must be integers"):
            slim.one_hot_encoding(tf.constant([1.0]), 3)
        with pytest.raises(ValueError, match="num_classes must be a positive int"):
            slim.one_hot_encoding(tf.constant([1]), 0)


def test_initializers_and_regularizers_have_contribs_numbers():
    with tf.Graph().as_default():
        he = slim.variable("he", [100, 200], initializer=slim.variance_scaling_initializer(
            seed=1))
        xavier = slim.model_variable("xavier", [100, 200],
                                     initializer=slim.xavier_initializer(seed=1))
        l1 = slim.l1_regularizer(0.5)(tf.constant([1.0, -3.0]))
        both = slim.l1_l2_regularizer(0.5, 2.0)(tf.constant([1.0, -3.0]))
        assert [v.op.name for v in slim.get_model_variables()] == ["xavier"]
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            he, xavier, l1, both = session.run([he, xavier, l1, both])
    # contrib's truncated normal: stddev sqrt(1.3 * 2 / fan_in), cut at two deviations
    assert np.abs(he).max() <= 2 * np.sqrt(1.3 * 2 / 100) + 1e-6
    assert abs(he.std() - np.sqrt(1.3 * 2 / 100) * 0.88) < 0.01
    assert np.abs(xavier).max() <= np.sqrt(6.0 / 300) + 1e-6
    assert l1 == pytest.approx(2.0) and both == pytest.approx(2.0 + 2.0 * 10 / 2)


# -- losses ----------------------------------------------------------------------------------

LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], np.float32)
LABELS = np.array([0, 2])


def softmax_ce(logits, labels):
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


def test_losses_take_tf_slims_order_logits_first():
    with tf.Graph().as_default():
        onehot = slim.one_hot_encoding(LABELS, 3)
        dense = slim.losses.softmax_cross_entropy(LOGITS, onehot)
        sparse = slim.losses.sparse_softmax_cross_entropy(LOGITS, LABELS, weights=[1.0, 0.0])
        keyword = slim.losses.softmax_cross_entropy(onehot_labels=onehot, logits=LOGITS)
        core = tf1.losses.softmax_cross_entropy(onehot, LOGITS)
        assert slim.losses.get_losses() == [dense, sparse, keyword, core]
        total = slim.losses.get_total_loss()
        with tf1.Session() as session:
            dense, sparse, keyword, core, total = session.run(
                [dense, sparse, keyword, core, total])
    expected = softmax_ce(LOGITS, LABELS)
    assert dense == pytest.approx(expected.mean(), rel=1e-5) == keyword == core
    assert sparse == pytest.approx(expected[0], rel=1e-5)  # zero weight: mean over the others
    assert total == pytest.approx(3 * dense + sparse, rel=1e-5)


def test_regression_and_multilabel_losses_weigh_whole_samples():
    predictions = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
    labels = np.array([[1.0, 0.0], [1.0, 1.0]], np.float32)
    with tf.Graph().as_default():
        mse = slim.losses.mean_squared_error(predictions, labels, weights=[1.0, 0.0])
        mae = slim.losses.absolute_difference(predictions, labels)
        sigmoid = slim.losses.sigmoid_cross_entropy(predictions, labels, weights=[0.0, 2.0])
        with tf1.Session() as session:
            mse, mae, sigmoid = session.run([mse, mae, sigmoid])
    assert mse == pytest.approx((0 + 4) / 2)  # sample 2 weighs nothing
    assert mae == pytest.approx((0 + 2 + 2 + 4) / 4)
    per_element = np.maximum(predictions, 0) - predictions * labels + np.log1p(
        np.exp(-np.abs(predictions)))
    assert sigmoid == pytest.approx(2 * per_element[1].sum() / 2, rel=1e-5)


def test_a_swapped_or_missing_argument_is_a_clear_error():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="labels must be integers"):
            slim.losses.sparse_softmax_cross_entropy(LOGITS, LOGITS)
        with pytest.raises(TypeError, match=r"logits must be floating point.*argument order"):
            slim.losses.sparse_softmax_cross_entropy(LABELS, LOGITS)
        with pytest.raises(ValueError, match="onehot_labels must be given"):
            slim.losses.softmax_cross_entropy(LOGITS)
        with pytest.raises(ValueError, match="no loss in the graph yet"):
            slim.losses.get_total_loss()


# -- variables and checkpoints ---------------------------------------------------------------


def test_fine_tuning_restores_all_but_the_excluded_logits(tmp_path):
    """Train-on-flowers style: restore the body from a checkpoint, keep new logits."""
    with tf.Graph().as_default():
        small_net(tf.ones([1, 4, 4, 1]), num_classes=3)
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            for var in slim.get_variables("net/conv1"):
                session.run(var.assign(tf.fill(var.shape, 0.25)))
            path = tf1.train.Saver().save(session, str(tmp_path / "model.ckpt"))
    with tf.Graph().as_default():
        small_net(tf.ones([1, 4, 4, 1]), num_classes=5)  # a new number of classes
        extra = slim.model_variable("net/extra", [2], initializer=tf1.zeros_initializer())
        wanted = slim.get_variables_to_restore(exclude=["net/logits"])
        assert [v.op.name for v in wanted] == ["net/conv1/weights", "net/conv1/biases",
                                               "net/extra"]
        assert slim.get_variables_to_restore(include=["net/conv1"], exclude="net/conv1/b") == [
            slim.get_unique_variable("net/conv1/weights")]
        with pytest.raises(ValueError, match="has no variable 'net/extra'.*ignore_missing_vars"):
            slim.assign_from_checkpoint_fn(path, wanted)
        init_fn = slim.assign_from_checkpoint_fn(path, wanted, ignore_missing_vars=True)
        assign_op, feed = slim.assign_from_checkpoint(str(tmp_path), wanted[:1])
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            init_fn(session)
            restored = session.run(wanted)
            session.run(tf1.variables_initializer(wanted))
            session.run(assign_op, feed)  # the folder form: its newest checkpoint
            again = session.run(wanted[0])
        assert slim.assign_from_checkpoint_fn(path, [extra], ignore_missing_vars=True) is None
    np.testing.assert_allclose(restored[0], np.full([3, 3, 1, 2], 0.25))
    np.testing.assert_allclose(restored[1], [0.25, 0.25])
    np.testing.assert_allclose(restored[2], [0.0, 0.0])
    np.testing.assert_allclose(again, restored[0])


def test_the_restore_function_is_also_a_scaffold_init_fn(tmp_path):
    with tf.Graph().as_default():
        weights = slim.variable("w", [2], initializer=tf1.constant_initializer(7.0))
        with tf1.Session() as session:
            session.run(weights.initializer)
            path = tf1.train.Saver().save(session, str(tmp_path / "model.ckpt"))
    with tf.Graph().as_default():
        weights = slim.variable("w", [2])
        step = slim.get_or_create_global_step()
        init_fn = slim.assign_from_checkpoint_fn(
            path, slim.get_variables_to_restore(exclude=["global_step"]))
        scaffold = tf1.train.Scaffold(init_fn=init_fn)
        with tf1.train.MonitoredSession(tf1.train.ChiefSessionCreator(scaffold)) as session:
            value, step_value = session.run([weights, step])
    np.testing.assert_allclose(value, [7.0, 7.0])
    assert step_value == 0


def test_bad_checkpoint_arguments_are_named(tmp_path):
    with tf.Graph().as_default():
        weights = slim.variable("w", [2])
        with pytest.raises(ValueError, match="var_list is empty"):
            slim.assign_from_checkpoint_fn(str(tmp_path / "x.ckpt"), [])
        with pytest.raises(ValueError, match="is a folder without a checkpoint"):
            slim.assign_from_checkpoint_fn(str(tmp_path), [weights])
        with pytest.raises(ValueError, match="no checkpoint there"):
            slim.assign_from_checkpoint_fn(str(tmp_path / "x.ckpt"), [weights])
        with pytest.raises(TypeError, match="exclude must be a list of scope names"):
            slim.get_variables_to_restore(exclude=[3])


# -- data: tfexample_decoder, Dataset, DatasetDataProvider ----------------------------------

KEYS_TO_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature((), tf.string),
    "image/format": tf.io.FixedLenFeature((), tf.string, default_value="png"),
    "image/class/label": tf.io.FixedLenFeature([1], tf.int64),
    "values": tf.io.FixedLenFeature([6], tf.float32),
    "tags": tf.io.VarLenFeature(tf.int64),
}


def decoder():
    handlers = slim.tfexample_decoder
    return handlers.TFExampleDecoder(KEYS_TO_FEATURES, {
        "image": handlers.Image(shape=[4, 5, 3]),
        "label": handlers.Tensor("image/class/label", shape=[]),
        "values": handlers.Tensor("values", shape=[2, 3]),
        "tags": handlers.Tensor("tags", default_value=-1),
        "first_value": handlers.ItemHandlerCallback("values", lambda f: f["values"][0]),
    })


@pytest.fixture
def records(tmp_path):
    """Two shards of three records; record k has colour 10 k, label k % 2, values k..k+5."""
    for shard in range(2):
        with tf.io.TFRecordWriter(str(tmp_path / f"toy-{shard}.tfrecord")) as writer:
            for k in range(3 * shard, 3 * shard + 3):
                writer.write(example(image__encoded=png(10 * k), image__format=b"png",
                                     image__class__label=k % 2,
                                     values=[float(k + i) for i in range(6)],
                                     tags=list(range(k % 3 + 1))))
    return tmp_path


def test_the_decoder_turns_one_record_into_items(records):
    serialized = next(iter(tf.data.TFRecordDataset(str(records / "toy-1.tfrecord"))))
    with tf.Graph().as_default():
        items = decoder()
        assert items.list_items() == ["image", "label", "values", "tags", "first_value"]
        tensors = items.decode(tf.constant(serialized.numpy()), ["values", "image", "tags"])
        assert tensors[0].shape == [2, 3] and tensors[1].shape == [4, 5, 3]
        with tf1.Session() as session:
            values, image, tags = session.run(tensors)
    np.testing.assert_allclose(values, [[3, 4, 5], [6, 7, 8]])
    assert image.dtype == np.uint8 and (image == 30).all()
    np.testing.assert_array_equal(tags, [0])


def test_a_raw_image_needs_its_shape_and_decodes_with_it():
    raw = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    serialized = example(image__encoded=raw.tobytes(), image__format=b"raw")
    features = {"image/encoded": tf.io.FixedLenFeature((), tf.string),
                "image/format": tf.io.FixedLenFeature((), tf.string)}
    with tf.Graph().as_default():
        image_handler = slim.tfexample_decoder.Image(shape=[2, 4, 3])
        decoded = slim.tfexample_decoder.TFExampleDecoder(features, {"image": image_handler})
        (image,) = decoded.decode(tf.constant(serialized), ["image"])
        with tf1.Session() as session:
            np.testing.assert_array_equal(session.run(image), raw)


def test_a_handler_reading_an_unparsed_feature_is_named_at_once():
    with pytest.raises(ValueError, match=r"item 'image' \(Image\) reads feature\(s\) "
                                         r"'image/format', which keys_to_features does not"):
        slim.tfexample_decoder.TFExampleDecoder(
            {"image/encoded": tf.io.FixedLenFeature((), tf.string)},
            {"image": slim.tfexample_decoder.Image()})
    with pytest.raises(TypeError, match=r"keys_to_features\['x'\] must be a tf.io"):
        slim.tfexample_decoder.TFExampleDecoder({"x": "int"}, {})
    with pytest.raises(ValueError, match="give shape_keys or shape, not both"):
        slim.tfexample_decoder.Tensor("x", shape_keys="h", shape=[2])


def test_dataset_data_provider_reads_every_record_once_per_epoch(records):
    with tf.Graph().as_default():
        dataset = slim.dataset.Dataset(
            data_sources=str(records / "toy-*.tfrecord"), reader=tf1.TFRecordReader,
            decoder=decoder(), num_samples=6, items_to_descriptions={"image": "a colour"},
            num_classes=2)
        assert dataset.num_classes == 2
        provider = slim.dataset_data_provider.DatasetDataProvider(
            dataset, num_readers=2, shuffle=True, num_epochs=2, common_queue_capacity=4, seed=3)
        assert provider.num_samples() == 6 and "record_key" in provider.list_items()
        image, label, first, key = provider.get(["image", "label", "first_value", "record_key"])
        assert image.shape == [4, 5, 3] and label.shape == []
        rows = run_until_end([image, label, first, key])
    assert len(rows) == 12
    for image, label, first, key in rows:
        k = int(first)
        assert (image == 10 * k).all() and label == k % 2
        assert key.decode().endswith(f"toy-{k // 3}.tfrecord:{k % 3}")
    assert sorted(int(r[2]) for r in rows) == sorted(list(range(6)) * 2)


def test_without_shuffle_the_provider_keeps_file_order(records):
    with tf.Graph().as_default():
        dataset = slim.data.dataset.Dataset(
            [str(records / "toy-1.tfrecord"), str(records / "toy-0.tfrecord")], None, decoder(),
            6, {})
        provider = slim.dataset_data_provider.DatasetDataProvider(dataset, shuffle=False,
                                                                  num_epochs=1)
        label = provider.get("first_value")
        with pytest.raises(ValueError, match="unknown item.*'nope'"):
            provider.get(["nope"])
        assert [int(v) for v in run_until_end(label)] == [3, 4, 5, 0, 1, 2]


def test_a_lookup_table_in_the_decoder_is_initialised_with_the_tables(records):
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(["png"]), tf.constant([7], tf.int64)),
            default_value=-1)
        handlers = {"format_id": slim.tfexample_decoder.LookupTensor("image/format", table)}
        dataset = slim.dataset.Dataset(str(records / "toy-0.tfrecord"), None,
                                       slim.tfexample_decoder.TFExampleDecoder(
                                           KEYS_TO_FEATURES, handlers), 3, {})
        provider = slim.dataset_data_provider.DatasetDataProvider(dataset, shuffle=False,
                                                                  num_epochs=1)
        assert run_until_end(provider.get("format_id")) == [7, 7, 7]


def test_no_matching_data_file_is_an_error_naming_the_pattern(tmp_path):
    with tf.Graph().as_default():
        dataset = slim.dataset.Dataset(str(tmp_path / "*.tfrecord"), None, decoder(), 0, {})
        with pytest.raises(ValueError, match=r"no data file matches '.*\*\.tfrecord'"):
            slim.dataset_data_provider.DatasetDataProvider(dataset)


def test_parallel_read_gives_keys_and_records_of_tf1_reader_classes(records, tmp_path):
    (tmp_path / "lines.csv").write_text("header\nfirst\nsecond\n")
    with tf.Graph().as_default():
        key, value = slim.parallel_reader.parallel_read(
            str(tmp_path / "*.csv"), tf1.TextLineReader, num_epochs=1, shuffle=False,
            reader_kwargs={"skip_header_lines": 1})
        lines = run_until_end([key, value])
        key, _ = slim.parallel_reader.parallel_read(str(records / "toy-*"), tf1.TFRecordReader,
                                                    num_epochs=1, num_readers=2)
        keys = run_until_end(key)
    assert [line for _, line in lines] == [b"first", b"second"]
    assert lines[0][0].decode().endswith("lines.csv:0")
    assert sorted(k.decode().rsplit("/", 1)[1] for k in keys) == sorted(
        f"toy-{shard}.tfrecord:{index}" for shard in range(2) for index in range(3))
    with pytest.raises(TypeError, match="reader .*IdentityReader.* is not supported"):
        slim.parallel_reader.parallel_read(str(records / "toy-*"), tf1.IdentityReader)


def test_moxing_tensorflow_serves_the_same_slim():
    import moxing.tensorflow  # noqa: F401 -- installs the alias
    from moxing.tensorflow import slim as aliased

    assert aliased is slim
    module = importlib.import_module("moxing.tensorflow.slim.tfexample_decoder")
    assert module.TFExampleDecoder is slim.tfexample_decoder.TFExampleDecoder


def test_slim_parts_mox_does_not_carry_say_what_to_use_instead():
    with pytest.raises(AttributeError, match=r"slim.learning \(train loops\) is not provided: "
                                             r"train with mox.run"):
        slim.learning  # noqa: B018
    with pytest.raises(AttributeError, match="build TF-Slim's networks with mox.get_model_fn"):
        slim.nets  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'conv3d'"):
        slim.conv3d  # noqa: B018
