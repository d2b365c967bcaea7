"""The five preprocessing pipelines and ``get_data_augmentation_fn``, in real sessions.

Images are small and oddly sized (37x53) so that every crop, pad and resize has to handle
uneven margins; synthetic gradients make it possible to tell exactly which pixels a crop kept.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
from mox_core import plugins
from mox_core.preprocessing import (
    _common,
    cifarnet,
    get_data_augmentation_fn,
    inception,
    lenet,
    pvanet,
    vgg,
)

tf1 = tf.compat.v1

VGG_MEANS = np.array([123.68, 116.78, 103.94], np.float32)
PVANET_BGR_MEANS = np.array([102.9801, 115.9465, 122.7717], np.float32)
PIPELINES = {
    "vgg_preprocessing": vgg,
    "inception_preprocessing": inception,
    "cifarnet_preprocessing": cifarnet,
    "lenet_preprocessing": lenet,
    "pvanet_preprocessing": pvanet,
}
#: (pipeline, output height, output width, options) small enough for fast tests.
SMALL = [
    ("vgg_preprocessing", 12, 16, {"resize_side_min": 20, "resize_side_max": 40}),
    ("inception_preprocessing", 20, 24, {}),
    ("cifarnet_preprocessing", 32, 32, {}),
    ("lenet_preprocessing", 28, 28, {}),
    ("pvanet_preprocessing", 20, 30, {}),
]


def random_image(shape=(37, 53, 3), seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def gradient_image(height=37, width=53):
    """Every pixel distinct: red encodes the row, green the column, blue a mix of both."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows * 5, cols * 4, (rows + cols) % 256], axis=-1).astype(np.uint8)


def run(fn, image, times=1, seed=None):
    """``fn(image)`` evaluated ``times`` times in one fresh graph and ``tf.compat.v1`` session."""
    with tf.Graph().as_default():
        if seed is not None:
            tf1.set_random_seed(seed)
        output = fn(tf.constant(image))
        with tf1.Session() as sess:
            return [sess.run(output) for _ in range(times)]


def windows(image, height, width):
    """Every ``height x width`` window of ``image``, unflipped and flipped left-right."""
    found = {}
    for top in range(image.shape[0] - height + 1):
        for left in range(image.shape[1] - width + 1):
            window = image[top:top + height, left:left + width]
            found[(top, left, False)] = window
            found[(top, left, True)] = window[:, ::-1]
    return found


def which_windows(outputs, image, height, width):
    """The (top, left, flipped) window each output is, failing when one is none of them.

    Outputs are rounded first: adding back a subtracted mean is exact only up to float32.
    """
    candidates = windows(image.astype(np.float32), height, width)
    placed = []
    for output in np.round(outputs):
        matches = [key for key, window in candidates.items() if np.array_equal(output, window)]
        assert matches, "output is not a (flipped) crop of the image"
        placed.append(matches[0])
    return placed


# --------------------------------------------------------------------------------------------
# get_data_augmentation_fn: choosing the pipeline


@pytest.mark.parametrize(
    ("network", "module"),
    [
        ("resnet_v1_50", vgg),
        ("vgg_16", vgg),
        ("inception_v3", inception),
        ("mobilenet_v1", inception),
        ("cifarnet", cifarnet),
        ("resnet_v1_20", cifarnet),
        ("lenet", lenet),
        ("pvanet", pvanet),
    ],
)
def test_a_network_name_picks_its_pipeline_from_preprocessing_keys(network, module):
    fn = mox.get_data_augmentation_fn(network, mox.ModeKeys.TRAIN, 224, 224)
    assert fn.__module__ == module.__name__


def test_the_seeds_example_gives_224_by_224_vgg_images():
    augment = mox.get_data_augmentation_fn(
        name="resnet_v1_50", run_mode=mox.ModeKeys.TRAIN, output_height=224, output_width=224
    )
    (output,) = run(augment, random_image())
    assert output.shape == (224, 224, 3) and output.dtype == np.float32


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_pipeline_names_are_accepted_directly(pipeline):
    fn = get_data_augmentation_fn(pipeline, "EVAL", 28, 28)
    assert fn.__module__ == PIPELINES[pipeline].__name__


def test_the_core_registers_the_five_pipelines_through_the_hook():
    registry = plugins.registry("preprocessing")
    assert registry.names() == sorted(PIPELINES)
    for spec in registry:
        assert spec.distribution == "mox-core"
        assert spec.factory == f"{PIPELINES[spec.name].__name__}:factory"


def test_listing_pipelines_imports_no_tensorflow():
    code = (
        "import sys, mox_core.plugins as p; names = p.registry('preprocessing').names(); "
        "assert len(names) == 5, names; assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_network_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="no preprocessing pipeline is known for network 'resnut'"):
        get_data_augmentation_fn("resnut", "TRAIN", 224, 224)


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_an_unknown_argument_is_a_value_error_naming_pipeline_and_argument(pipeline):
    with pytest.raises(ValueError, match=rf"{pipeline} got unknown argument\(s\) 'fastmode'"):
        get_data_augmentation_fn(pipeline, "TRAIN", 32, 32, fastmode=False)


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_a_bad_run_mode_is_a_value_error(pipeline):
    with pytest.raises(ValueError, match="run_mode must be one of TRAIN, EVAL, PREDICT, EXPORT"):
        get_data_augmentation_fn(pipeline, "train", 32, 32)
    with pytest.raises(ValueError, match=f"{pipeline}: run_mode must be one of"):
        PIPELINES[pipeline].factory("INFER", 32, 32)


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_a_missing_output_size_for_training_is_a_value_error_naming_the_pipeline(pipeline):
    with pytest.raises(ValueError, match=f"{pipeline} needs both output_height and output_width"):
        get_data_augmentation_fn(pipeline, "TRAIN")
    with pytest.raises(ValueError, match=f"{pipeline} needs both"):
        get_data_augmentation_fn(pipeline, "TRAIN", output_height=32)


@pytest.mark.parametrize("size", [0, -3, 2.5, "32", True])
def test_an_output_size_must_be_a_positive_integer(size):
    with pytest.raises(ValueError, match="output_height must be a positive integer"):
        get_data_augmentation_fn("lenet", "EVAL", size, 28)


@pytest.mark.parametrize("pipeline", ["vgg_preprocessing", "inception_preprocessing",
                                      "pvanet_preprocessing"])
def test_colour_pipelines_refuse_images_that_are_not_rgb(pipeline):
    fn = get_data_augmentation_fn(pipeline, "EVAL", 16, 16)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=f"{pipeline} needs 3-channel"):
            fn(tf.zeros([37, 53, 1], tf.uint8))
        with pytest.raises(ValueError, match=f"{pipeline} maps one \\[height, width, channels\\]"):
            fn(tf.zeros([2, 37, 53, 3], tf.uint8))


# --------------------------------------------------------------------------------------------
# Everywhere: every mode, tf.data, unknown shapes


@pytest.mark.parametrize("mode", ["TRAIN", "EVAL", "PREDICT", "EXPORT"])
@pytest.mark.parametrize(("pipeline", "height", "width", "options"), SMALL)
def test_every_pipeline_gives_float32_images_of_the_output_size(
    pipeline, height, width, options, mode
):
    fn = get_data_augmentation_fn(pipeline, mode, height, width, **options)
    for image in (random_image(), random_image().astype(np.float32)):
        (output,) = run(fn, image)
        assert output.shape == (height, width, 3)
        assert output.dtype == np.float32
        assert np.isfinite(output).all()


@pytest.mark.parametrize("mode", ["TRAIN", "EVAL"])
@pytest.mark.parametrize(("pipeline", "height", "width", "options"), SMALL)
def test_every_pipeline_works_inside_tf_data_map_in_graph_mode(
    pipeline, height, width, options, mode
):
    fn = get_data_augmentation_fn(pipeline, mode, height, width, **options)
    images = np.stack([random_image(seed=i) for i in range(4)])
    with tf.Graph().as_default():
        dataset = tf.data.Dataset.from_tensor_slices(images).map(fn, num_parallel_calls=2)
        batch = tf1.data.make_one_shot_iterator(dataset.batch(4)).get_next()
        assert batch.shape.as_list() == [None, height, width, 3]
        with tf1.Session() as sess:
            output = sess.run(batch)
    assert output.shape == (4, height, width, 3)


@pytest.mark.parametrize(("pipeline", "height", "width", "options"), SMALL)
def test_every_pipeline_takes_images_whose_size_is_known_only_at_run_time(
    pipeline, height, width, options
):
    fn = get_data_augmentation_fn(pipeline, "TRAIN", height, width, **options)
    with tf.Graph().as_default():
        image = tf1.placeholder(tf.uint8, [None, None, 3])
        output = fn(image)
        assert output.shape.as_list() == [height, width, 3]
        with tf1.Session() as sess:
            for shape in [(37, 53, 3), (61, 40, 3)]:
                value = sess.run(output, {image: random_image(shape)})
                assert value.shape == (height, width, 3)


@pytest.mark.parametrize(("pipeline", "height", "width", "options"),
                         [case for case in SMALL if case[0] != "lenet_preprocessing"])
def test_training_draws_new_augmentations_on_every_run(pipeline, height, width, options):
    fn = get_data_augmentation_fn(pipeline, "TRAIN", height, width, **options)
    # Small outputs leave few distinct augmentations (pvanet at 20x30: 2 crops x 2 flips), so
    # two draws match by chance; eight draws all alike would mean the same augmentation each run.
    first, *others = run(fn, random_image(), times=8)
    assert any(not np.array_equal(first, other) for other in others)


@pytest.mark.parametrize(("pipeline", "height", "width", "options"), SMALL)
def test_a_graph_level_seed_makes_training_reproducible(pipeline, height, width, options):
    fn = get_data_augmentation_fn(pipeline, "TRAIN", height, width, **options)
    np.testing.assert_array_equal(run(fn, random_image(), seed=7)[0],
                                  run(fn, random_image(), seed=7)[0])


@pytest.mark.parametrize(("pipeline", "height", "width", "options"), SMALL)
def test_evaluation_is_deterministic(pipeline, height, width, options):
    fn = get_data_augmentation_fn(pipeline, "EVAL", height, width, **options)
    first, second = run(fn, random_image(), times=2)
    np.testing.assert_array_equal(first, second)


# --------------------------------------------------------------------------------------------
# vgg_preprocessing


def test_vgg_eval_of_a_constant_image_is_exactly_the_value_minus_the_rgb_means():
    fn = vgg.factory("EVAL", 224, 224)
    (output,) = run(fn, np.full((37, 53, 3), 100, np.uint8))
    assert output.shape == (224, 224, 3)
    np.testing.assert_array_equal(output, np.broadcast_to(np.float32(100) - VGG_MEANS, output.shape))


def test_vgg_eval_takes_the_central_crop():
    image = gradient_image()
    # resize_side_min equal to the smaller side makes the resize the identity.
    fn = vgg.factory("EVAL", 21, 31, resize_side_min=37)
    (output,) = run(fn, image)
    # Margins 16 and 22: 8 rows above and 11 columns to the left.
    np.testing.assert_allclose(output + VGG_MEANS, image[8:29, 11:42], atol=1e-4)


@pytest.mark.parametrize(
    ("shape", "side", "resized"),
    [((37, 53), 74, (74, 106)), ((53, 37), 74, (106, 74)), ((37, 53), 256, (256, 366)),
     ((37, 37), 40, (40, 40))],
)
def test_vgg_resizes_the_smaller_side_keeping_the_aspect_ratio(shape, side, resized):
    # 53 * 256 / 37 = 366.7: the larger side is rounded down, as in TF-Slim.
    def resize(image):
        return tf.shape(_common.aspect_preserving_resize(image, side))

    (output_shape,) = run(resize, random_image((*shape, 3)))
    assert tuple(output_shape[:2]) == resized


def test_vgg_training_crops_at_random_places_and_flips_about_half_the_time():
    image = gradient_image()
    fn = vgg.factory("TRAIN", 21, 31, resize_side_min=37, resize_side_max=37)
    outputs = [output + VGG_MEANS for output in run(fn, image, times=24, seed=3)]
    placed = which_windows(outputs, image, 21, 31)
    assert len({(top, left) for top, left, _ in placed}) > 5
    flips = sum(flipped for _, _, flipped in placed)
    assert 4 <= flips <= 20


def test_vgg_training_jitters_the_scale():
    # The smaller side is resized to a random 37..74: only at 37 (the image's own size) is a
    # crop a window of the original pixels; enlarged images interpolate new values.
    image = gradient_image(37, 37)
    fn = vgg.factory("TRAIN", 8, 8, resize_side_min=37, resize_side_max=74)
    candidates = list(windows(image.astype(np.float32), 8, 8).values())
    outputs = run(fn, image, times=12, seed=1)
    rescaled = [
        output for output in outputs
        if not any(np.allclose(output + VGG_MEANS, window, atol=1e-3) for window in candidates)
    ]
    assert rescaled


def test_vgg_refuses_output_sizes_larger_than_the_resize_side():
    with pytest.raises(ValueError, match="pass resize_side_min >= 299"):
        vgg.factory("EVAL", 299, 299, resize_side_min=256)
    with pytest.raises(ValueError, match="resize_side_max \\(100\\) is smaller"):
        vgg.factory("TRAIN", 32, 32, resize_side_min=200, resize_side_max=100)


# --------------------------------------------------------------------------------------------
# inception_preprocessing


@pytest.mark.parametrize("fast_mode", [True, False])
def test_inception_training_stays_in_minus_one_to_one(fast_mode):
    fn = inception.factory("TRAIN", 20, 24, fast_mode=fast_mode)
    for output in run(fn, random_image(), times=8, seed=0):
        assert output.shape == (20, 24, 3)
        assert output.min() >= -1.0 and output.max() <= 1.0


def test_inception_eval_maps_black_and_white_to_minus_one_and_one():
    fn = inception.factory("EVAL", 20, 24)
    (black,) = run(fn, np.zeros((37, 53, 3), np.uint8))
    (white,) = run(fn, np.full((37, 53, 3), 255, np.uint8))
    np.testing.assert_allclose(black, -1.0, atol=1e-6)
    np.testing.assert_allclose(white, 1.0, atol=1e-6)


def test_inception_eval_keeps_the_central_87_5_percent():
    image = gradient_image().astype(np.float32) / 255.0  # float input is taken as [0, 1]
    (output,) = run(inception.factory("EVAL"), image)
    # tf.image.central_crop: start int((37 - 37 * 0.875) / 2) = 2, int((53 - 46.375) / 2) = 3.
    np.testing.assert_allclose(output, (image[2:35, 3:50] - 0.5) * 2.0, atol=1e-6)


def test_inception_eval_without_crop_only_resizes_and_rescales():
    fn = inception.factory("EVAL", 37, 53, crop_image=False)
    image = random_image()
    (output,) = run(fn, image)
    np.testing.assert_allclose(output, image / 127.5 - 1.0, atol=1e-5)


def test_inception_training_follows_a_bounding_box_and_can_give_grayscale():
    fn = inception.factory("TRAIN", 20, 24, use_grayscale=True)
    with tf.Graph().as_default():
        output = fn(tf.constant(random_image()), bbox=tf.constant([[0.2, 0.2, 0.8, 0.9]]))
        with tf1.Session() as sess:
            value = sess.run(output)
    assert value.shape == (20, 24, 1)


def test_inception_image_summaries_are_added_in_graph_mode_only_when_asked():
    with tf.Graph().as_default():
        inception.factory("TRAIN", 20, 24)(tf.constant(random_image()))
        assert not tf1.get_collection(tf1.GraphKeys.SUMMARIES)
        inception.factory("TRAIN", 20, 24, add_image_summaries=True)(tf.constant(random_image()))
        assert len(tf1.get_collection(tf1.GraphKeys.SUMMARIES)) == 4


def test_inception_checks_central_fraction():
    with pytest.raises(ValueError, match="central_fraction must be in"):
        inception.factory("EVAL", 20, 20, central_fraction=1.5)


# --------------------------------------------------------------------------------------------
# cifarnet_preprocessing


def standardize(image):
    image = image.astype(np.float64)
    return (image - image.mean()) / max(image.std(), 1.0 / np.sqrt(image.size))


@pytest.mark.parametrize("mode", ["TRAIN", "EVAL"])
def test_cifarnet_standardizes_each_image(mode):
    fn = cifarnet.factory(mode, 32, 32)
    for output in run(fn, random_image(), times=4):
        assert abs(output.mean()) < 1e-4
        assert abs(output.std() - 1.0) < 1e-3


def test_cifarnet_eval_crops_the_centre_and_pads_with_zeros():
    image = gradient_image()
    (cropped,) = run(cifarnet.factory("EVAL", 32, 32), image)
    # Margins 5 and 21: 2 rows above, 10 columns to the left.
    np.testing.assert_allclose(cropped, standardize(image[2:34, 10:42]), atol=1e-5)
    (padded,) = run(cifarnet.factory("EVAL", 40, 60), image)
    expected = np.zeros((40, 60, 3))
    expected[1:38, 3:56] = image
    np.testing.assert_allclose(padded, standardize(expected), atol=1e-5)


def test_cifarnet_keeps_height_and_width_apart():
    (output,) = run(cifarnet.factory("EVAL", 24, 40), random_image())
    assert output.shape == (24, 40, 3)


def test_cifarnet_training_crops_within_the_padded_image_and_handles_one_channel():
    # With zero padding the crop can only be a (flipped) window of the image itself; a
    # constant image then stays constant whatever the brightness and contrast did, and
    # standardizes to zeros (up to float32 rounding of its mean, scaled by 1 / min stddev).
    fn = cifarnet.factory("TRAIN", 32, 32, padding=0)
    for output in run(fn, np.full((37, 53, 1), 90, np.uint8), times=3):
        assert output.shape == (32, 32, 1)
        assert np.ptp(output) == 0
        np.testing.assert_allclose(output, 0.0, atol=1e-2)
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        cifarnet.factory("TRAIN", 32, 32, padding=-1)


# --------------------------------------------------------------------------------------------
# lenet_preprocessing


@pytest.mark.parametrize("mode", ["TRAIN", "EVAL"])
def test_lenet_centres_and_scales_by_128_in_every_mode(mode):
    image = random_image((37, 53, 1))
    (output,) = run(lenet.factory(mode, 28, 28), image)
    # Margins 9 and 25: 4 rows above, 12 columns to the left.
    np.testing.assert_array_equal(output, (image[4:32, 12:40].astype(np.float32) - 128) / 128)


def test_lenet_grayscale_option_gives_one_channel():
    (output,) = run(lenet.factory("EVAL", 28, 28, use_grayscale=True), random_image())
    assert output.shape == (28, 28, 1)


# --------------------------------------------------------------------------------------------
# pvanet_preprocessing


def test_pvanet_eval_gives_bgr_minus_pvanets_means():
    image = np.empty((37, 53, 3), np.uint8)
    image[...] = (10, 20, 30)  # RGB
    (output,) = run(pvanet.factory("EVAL", 20, 30), image)
    expected = np.float32([30, 20, 10]) - PVANET_BGR_MEANS
    np.testing.assert_array_equal(output, np.broadcast_to(expected, output.shape))


def test_pvanet_eval_takes_the_central_crop_of_a_covering_resize():
    image = gradient_image()
    # 37x31 is covered by the image at scale 1: the resize is the identity.
    (output,) = run(pvanet.factory("EVAL", 37, 31), image)
    rgb = (output + PVANET_BGR_MEANS)[..., ::-1]
    np.testing.assert_allclose(rgb, image[:, 11:42].astype(np.float32), atol=1e-4)


@pytest.mark.parametrize("shape", [(37, 53, 3), (53, 37, 3), (5, 200, 3)])
def test_pvanet_resizes_any_aspect_ratio_to_cover_the_output(shape):
    (output,) = run(pvanet.factory("TRAIN", 20, 30), random_image(shape))
    assert output.shape == (20, 30, 3)


def test_pvanet_training_crops_at_random_places_and_flips():
    image = gradient_image()
    outputs = run(pvanet.factory("TRAIN", 37, 31), image, times=24, seed=5)
    rgb = [np.round((output + PVANET_BGR_MEANS)[..., ::-1]) for output in outputs]
    placed = which_windows(rgb, image, 37, 31)
    assert len({left for _, left, _ in placed}) > 5
    assert 4 <= sum(flipped for _, _, flipped in placed) <= 20


def test_pvanet_takes_no_option():
    with pytest.raises(ValueError, match="pvanet_preprocessing got unknown argument"):
        pvanet.factory("TRAIN", 20, 20, fast_mode=True)


def test_vgg_resize_sides_follow_the_crop_size_so_a_small_crop_sees_the_whole_object():
    assert vgg._scaled_defaults(224, 224) == {"resize_side_min": 256, "resize_side_max": 512}
    assert vgg._scaled_defaults(64, 64) == {"resize_side_min": 73, "resize_side_max": 146}
    assert vgg._scaled_defaults(32, 48) == {"resize_side_min": 55, "resize_side_max": 110}
    # EVAL at 64 on a 146 x 146 image: resized to 73, the central 64 x 64 (not a 64 x 64
    # piece of a 256 x 256 resize, a quarter of the image's width)
    image = np.zeros((146, 146, 3), np.uint8)
    image[:, :73] = 255  # left half white
    with tf1.Graph().as_default(), tf1.Session() as session:
        output = session.run(vgg.factory("EVAL", 64, 64)(tf1.constant(image))) + VGG_MEANS
    assert output.shape == (64, 64, 3)
    white = (output[..., 0] > 127).mean(axis=0)  # share of white per column
    assert white[:28].min() == 1.0 and white[36:].max() == 0.0  # both halves, split mid-crop
