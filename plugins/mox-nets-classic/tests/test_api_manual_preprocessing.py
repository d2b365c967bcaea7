"""The API manual's (``moxing-tensorflow-api.zh.md``) ``get_data_augmentation_fn`` example and
its ``PreprocessingKeys`` table, run with the classic networks installed: each network augments
with the pipeline the table names.

The example is the manual's code ported only by ``import tensorflow.compat.v1 as tf``; the
image it augments (which the manual takes from a dataset) is a generated one. No network is
built here, so ``resnet_v1_50`` is itself, not a stand-in. The core's tests check the table's
constants against the manual's text.
"""

from __future__ import annotations

import numpy as np
import tensorflow.compat.v1 as tf

import moxing.tensorflow as mox
from mox_core.constants import NETWORK_NAMES

#: MoXing's table: network name (upper case) -> pipeline; the core's tests check it is the manual's.
KEYS = {key: value for key, value in vars(mox.PreprocessingKeys).items() if key.isupper()}
PIPELINES = sorted(set(KEYS.values()))


def photo(height=300, width=400, seed=0):
    """One decoded RGB image, what ``dataset.get(['image'])`` gives the manual's example."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return tf.constant(pixels)


def augment_in_a_seeded_graph(name):
    """The manual's example in a graph of its own with a graph-level seed, so that two runs
    with the same pipeline draw the same crop, scale and flip."""
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        image = photo()
        data_augmentation_fn = mox.get_data_augmentation_fn(
            name=name, run_mode=mox.ModeKeys.TRAIN,
            output_height=224, output_width=224)
        image = data_augmentation_fn(image)
        with tf.Session() as session:
            return session.run(image)


# --------------------------------------------------------------------------- get_data_augmentation_fn


def test_get_data_augmentation_fn_example_1_gives_resnet_v1_50s_vgg_training_images():
    with tf.Graph().as_default():
        image = photo()
        # the manual's example 1, from here on
        data_augmentation_fn = mox.get_data_augmentation_fn(
            name='resnet_v1_50', run_mode=mox.ModeKeys.TRAIN,
            output_height=224, output_width=224)
        image = data_augmentation_fn(image)

        assert image.shape.as_list() == [224, 224, 3] and image.dtype == tf.float32
        with tf.Session() as session:
            first, second = session.run(image), session.run(image)
    assert not np.array_equal(first, second)  # a new random crop and flip on every run
    assert first.min() < -100  # VGG's pipeline subtracts the ImageNet means from 0..255

    augmented = augment_in_a_seeded_graph('resnet_v1_50')
    np.testing.assert_array_equal(augmented, augment_in_a_seeded_graph('vgg_preprocessing'))
    assert not np.array_equal(augmented, augment_in_a_seeded_graph('inception_preprocessing'))


# --------------------------------------------------------------------------- PreprocessingKeys


def test_every_network_of_the_table_augments_with_the_pipeline_it_names():
    # the manual's table and the three thinner MobileNet v1 networks of NetworkKeys it omits
    assert set(KEYS) == {name.upper() for name in NETWORK_NAMES} | {'INCEPTION', 'VGG'}
    names = [key.lower() for key in KEYS]
    with tf.Graph().as_default():
        image = photo(48, 64)
        by_pipeline = {pipeline: mox.get_data_augmentation_fn(
            pipeline, mox.ModeKeys.EVAL, 32, 32)(image) for pipeline in PIPELINES}
        by_network = {name: mox.get_data_augmentation_fn(
            name, mox.ModeKeys.EVAL, 32, 32)(image) for name in names}
        with tf.Session() as session:
            by_pipeline, by_network = session.run((by_pipeline, by_network))

    for one in PIPELINES:  # the five pipelines tell an image apart ...
        for other in set(PIPELINES) - {one}:
            assert not np.allclose(by_pipeline[one], by_pipeline[other]), (one, other)
    for name, augmented in by_network.items():  # ... so each network's is the table's
        np.testing.assert_array_equal(augmented, by_pipeline[KEYS[name.upper()]], err_msg=name)
