"""The API manual's (``moxing-tensorflow-api.zh.md``) model examples that need a network run as
tests: ``get_model_fn``, ``get_model_meta``, ModelSpec example 4's case, the ExportSpec sample
and the ``NetworkKeys`` list.

Every example is the manual's code ported only by ``import tensorflow.compat.v1 as tf`` and
``mox_core.slim`` in place of ``tf.contrib.slim``, on small generated data written to
``tmp_path`` where the manual reads folders, a few steps, ``log_dir`` in ``tmp_path``. Where the
manual elides code (``...``) or names something it never defines (``images``, ``log_info``,
``num_classes``), the smallest stand-in fills the gap. Where the manual builds ResNet-50,
ResNet-18 (``resnet_v1_18``, the same family and options) stands in; where it trains or
predicts with it, LeNet (network and preprocessing) does, and image sizes shrink to LeNet's 28
pixels. ``get_model_meta`` builds nothing and reads ResNet-50's own record. The core's tests
run the examples that need no network.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf2
import tensorflow.compat.v1 as tf
from api_manual_data import write_class_folders

import moxing.tensorflow as mox
from mox_core import slim  # the manual's slim = tf.contrib.slim
from mox_core.install_hints import NETWORK_DISTRIBUTIONS
from mox_core.testing import band_images

NETWORK = "lenet"  # the small network standing in for resnet_v1_50 where the manual trains it


@pytest.fixture(autouse=True)
def forget_module_attributes():
    """The manual stores its network function as ``mox.mdoel_fn``; drop it after each test."""
    yield
    vars(mox).pop("mdoel_fn", None)


# --------------------------------------------------------------------------- get_model_fn


def test_get_model_fn_example_builds_a_resnet_with_the_manuals_options():
    with tf.Graph().as_default() as graph:
        images, _ = band_images(2, 5, size=64, channels=3)  # the batch the manual calls images
        images = tf.constant(images)
        # the manual's example, from here on
        mox_model_fn = mox.get_model_fn(
            name='resnet_v1_18',  # the small ResNet v1 stands in for the manual's resnet_v1_50
            run_mode=mox.ModeKeys.TRAIN,  # the manual writes mox.MokeKeys, a typo of ModeKeys
            num_classes=1000,
            weight_decay=0.0001,
            data_format='NHWC',
            batch_norm_fused=True,
            batch_renorm=False,
            image_height=224,
            image_width=224)
        logits, end_points = mox_model_fn(images)

        assert logits.shape.as_list() == [2, 1000]
        # the 64-pixel images were resized to 224 x 224 first: ResNet's stride 32 leaves 7 x 7
        assert end_points['resnet_v1_18/block4'].shape.as_list() == [2, 7, 7, 512]
        # batch_norm_fused: every batch norm is one fused op; TRAIN: its moving averages update
        assert [op.type for op in graph.get_operations()].count('FusedBatchNormV3') == 20
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2 * 20
        # weight_decay: 0.0001 * L2 of every convolution's and the logits' weights
        weights = [v for v in tf.trainable_variables() if v.op.name.endswith('/weights')]
        regularization = tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
        expected = 0.0001 * tf.add_n([tf.nn.l2_loss(w) for w in weights])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            logits, regularization, expected = session.run((logits, regularization, expected))
    assert len(weights) == 21 and np.isfinite(logits).all()
    np.testing.assert_allclose(regularization, expected, rtol=1e-5)


# --------------------------------------------------------------------------- get_model_meta


def test_get_model_meta_example_prints_what_the_manual_shows(capsys):
    model_meta = mox.get_model_meta('resnet_v1_50')
    print(model_meta.default_image_size)
    print(model_meta.default_labels_offset)
    print(model_meta.default_logits_pattern)
    assert capsys.readouterr().out == "224\n1\nlogits\n"


def test_get_model_meta_fields_read_as_the_manual_describes_them():
    # "resnet classifies 1000 ImageNet classes of the datasets' 1001: offset 1; inception 0"
    assert mox.get_model_meta('resnet_v1_50').default_labels_offset == 1
    assert mox.get_model_meta('inception_v3').default_labels_offset == 0
    # "299 for the inception family, 224 for the others": TF-Slim's sizes, where Inception v1
    # and v2 take 224
    sizes = {name: mox.get_model_meta(name).default_image_size for name in (
        'inception_v1', 'inception_v2', 'inception_v3', 'inception_v4', 'inception_resnet_v2',
        'vgg_16', 'resnet_v2_50')}
    assert sizes == {'inception_v1': 224, 'inception_v2': 224, 'inception_v3': 299,
                     'inception_v4': 299, 'inception_resnet_v2': 299, 'vgg_16': 224,
                     'resnet_v2_50': 224}


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

        # no image size, as in the manual: PREDICT mode takes the network's (lenet: 28)
        logits, endpoints = mox.get_model_fn(
            name=NETWORK,
            run_mode=run_mode,
            num_classes=1000,
            weight_decay=0.0001)(images)
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
        labels_one_hot = slim.one_hot_encoding(labels, num_classes)
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


# --------------------------------------------------------------------------- NetworkKeys

# The manual's NetworkKeys list, as it prints it (Python assignments).
NETWORK_KEYS = """\
ALEXNET_V2 = 'alexnet_v2'
CIFARNET = 'cifarnet'
OVERFEAT = 'overfeat'
VGG_A = 'vgg_a'
VGG_16 = 'vgg_16'
VGG_19 = 'vgg_19'
VGG_A_BN = 'vgg_a_bn'
VGG_16_BN = 'vgg_16_bn'
VGG_19_BN = 'vgg_19_bn'
INCEPTION_V1 = 'inception_v1'
INCEPTION_V2 = 'inception_v2'
INCEPTION_V3 = 'inception_v3'
INCEPTION_V4 = 'inception_v4'
INCEPTION_RESNET_V2 = 'inception_resnet_v2'
LENET = 'lenet'
RESNET_V1_18 = 'resnet_v1_18'
RESNET_V1_50 = 'resnet_v1_50'
RESNET_V1_50_8K = 'resnet_v1_50_8k'
RESNET_V1_101 = 'resnet_v1_101'
RESNET_V1_152 = 'resnet_v1_152'
RESNET_V1_200 = 'resnet_v1_200'
RESNET_V2_50 = 'resnet_v2_50'
RESNET_V2_101 = 'resnet_v2_101'
RESNET_V2_152 = 'resnet_v2_152'
RESNET_V2_200 = 'resnet_v2_200'
RESNEXT_B_50 = 'resnext_b_50'
RESNEXT_B_101 = 'resnext_b_101'
RESNEXT_C_50 = 'resnext_c_50'
RESNEXT_C_101 = 'resnext_c_101'
PVANET = 'pvanet'
MOBILENET_V1 = 'mobilenet_v1'
MOBILENET_V1_075 = 'mobilenet_v1_075'
MOBILENET_V1_050 = 'mobilenet_v1_050'
MOBILENET_V1_025 = 'mobilenet_v1_025'
MOBILENET_V2 = 'mobilenet_v2'
MOBILENET_V2_140 = 'mobilenet_v2_140'
MOBILENET_V2_035 = 'mobilenet_v2_035'
RESNET_V1_20 = 'resnet_v1_20'
RESNET_V1_110 = 'resnet_v1_110'
NASNET_CIFAR = 'nasnet_cifar'
NASNET_MOBILE = 'nasnet_mobile'
NASNET_LARGE = 'nasnet_large'
PNASNET_LARGE = 'pnasnet_large'
PNASNET_MOBILE = 'pnasnet_mobile'
"""


def manual_network_keys():
    written = {}
    exec(NETWORK_KEYS, {}, written)
    return written


def test_network_keys_are_the_manuals_list_in_its_order():
    keys = {key: value for key, value in vars(mox.NetworkKeys).items() if key.isupper()}
    assert list(keys.items()) == list(manual_network_keys().items())


def test_every_network_key_is_a_network_here_or_names_the_package_to_install():
    installed = set(mox.list_networks())
    for key, name in manual_network_keys().items():
        assert getattr(mox.NetworkKeys, key) == name
        if NETWORK_DISTRIBUTIONS[name] == "mox-nets-classic":
            assert name in installed
        if name in installed:
            network_fn = mox.get_model_fn(name, mox.ModeKeys.EVAL, num_classes=10)
            assert network_fn.default_image_size == mox.get_model_meta(name).default_image_size
        else:  # a network of mox-nets-mobile, which this environment lacks
            with pytest.raises(ValueError, match=rf"(?s)'{name}'.*pip install mox-nets-mobile"):
                mox.get_model_fn(name, mox.ModeKeys.EVAL, num_classes=10)
