"""MobileNet v1 and v2 compute what Keras's ports of the same networks compute.

``test_reference_nets.py`` checks that TF-Slim's checkpoints load (names and shapes); it does not
show that the loaded numbers are used as slim uses them, and the ``tf_slim`` package does not
ship the mobile networks to compare against. ``keras.applications`` does port them: MobileNet
(v1) and MobileNetV2 are the same layers as slim's, created in the same order, with slim's batch
norm epsilon (1e-3); Keras pads its stride-2 convolutions explicitly (``ZeroPadding2D`` then
``VALID``), which is what ``SAME`` does on the even map sizes of a 224x224 input. So the test

1. builds the Keras model (``weights=None``, 1001 classes as slim's, logits out) and gives it
   seeded random weights of a scale that keeps activations O(1): He-scaled kernels, random
   biases, and non-trivial batch-norm ``gamma``/``beta``/``moving_mean``/``moving_variance``
   (variances down to 1e-3, where epsilon shows), so a wrong channel axis, epsilon, activation
   or batch statistics used at inference changes the output;
2. builds ours with ``mox.get_model_fn(name, 'EVAL', 1001)`` and hands it Keras's weights: by
   kind (convolution kernels, depthwise kernels, biases, each batch-norm variable) in creation
   order, every shape checked and every one of our variables given a value;
3. runs both on the same batch of two 224x224 images and compares the logits to 1e-4 of their
   largest magnitude.

The multipliers compared are those where Keras's ``alpha`` means slim's ``depth_multiplier``:
MobileNet v1 0.5 (both ``int(depth * multiplier)``, slim's ``min_depth`` 8 never binding), and
MobileNet v2 1.4 and 0.35 (the same rounding to multiples of 8; below 1 Keras keeps the last
layer at 1280 channels, which is slim's fine-grain mode of ``mobilenet_v2_035``).

NASNet-A Mobile is not compared: Keras's ``NASNetMobile`` is a different network at the image
borders. Its reduction cells pool with stride 2 (``reduction_left2``, ``reduction_left3``,
``reduction_right5``) on ``reduction_pad_1``, an explicit ``ZeroPadding2D``, convolving ``VALID``:
its border averages count the padded zeros and its border maxima see them. Slim's
``nasnet_utils._pooling`` pools ``SAME``, as ours does: padding never enters an average or a
maximum. Nothing else differs (with those three pools made ``SAME`` in Keras, the logits agree
to 3e-7 of their scale), but the published Keras port is no reference for slim's NASNet.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from mobile_testing import assignments, build, run

from mox_core.testing import random_images

keras = pytest.importorskip("keras")  # a dependency of TensorFlow, so normally present

NUM_CLASSES = 1001  # slim's ImageNet classes: background first
SIZE = 224
BATCH = 2
RELATIVE_TOLERANCE = 1e-4

# Our network -> its Keras port at 224x224 with slim's classes, returning logits.
KERAS_NETS = {
    "mobilenet_v1": ("MobileNet", 1.0),
    "mobilenet_v1_050": ("MobileNet", 0.5),
    "mobilenet_v2": ("MobileNetV2", 1.0),
    "mobilenet_v2_140": ("MobileNetV2", 1.4),
    "mobilenet_v2_035": ("MobileNetV2", 0.35),
}

BATCH_NORM = ("gamma", "beta", "moving_mean", "moving_variance")


def keras_model(name):
    application, alpha = KERAS_NETS[name]
    return getattr(keras.applications, application)(
        input_shape=(SIZE, SIZE, 3),
        alpha=alpha,
        weights=None,
        classes=NUM_CLASSES,
        classifier_activation=None,
    )


def keras_weights(model) -> dict[str, list[np.ndarray]]:
    """The model's weights by slim's variable kind, each list in layer order.

    Keras's ``Dense`` classifier (MobileNet v2) is slim's 1x1 convolution on the pooled map:
    its kernel is given slim's ``[1, 1, in, out]`` shape.
    """
    layers = keras.layers
    kinds = {kind: [] for kind in ("weights", "depthwise_weights", "biases", *BATCH_NORM)}
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            for kind in BATCH_NORM:
                kinds[kind].append(np.asarray(getattr(layer, kind)))
        elif isinstance(layer, layers.DepthwiseConv2D):
            kinds["depthwise_weights"].append(np.asarray(layer.kernel))
        elif isinstance(layer, layers.Conv2D | layers.Dense):
            kernel = np.asarray(layer.kernel)
            if isinstance(layer, layers.Dense):
                kernel = kernel.reshape([1, 1, *kernel.shape])
            kinds["weights"].append(kernel)
            if layer.use_bias:
                kinds["biases"].append(np.asarray(layer.bias))
    return kinds


def randomize(model, seed: int = 0) -> None:
    """Give every weight of ``model`` a seeded random value that keeps activations O(1)."""
    rng = np.random.default_rng(seed)
    layers = keras.layers
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            shape = layer.gamma.shape
            # Log-uniform variances down to 1e-3, so epsilon (1e-3) shows; gamma follows them,
            # gamma / sqrt(variance) in [0.5, 1.5], so that small ones do not blow activations up.
            variance = np.exp(rng.uniform(np.log(1e-3), 0.7, shape))
            gamma = rng.uniform(0.5, 1.5, shape) * np.sqrt(variance)
            beta, mean = rng.normal(0.0, 0.1, (2, *shape))
            layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, variance)])
        elif isinstance(layer, layers.DepthwiseConv2D | layers.Conv2D | layers.Dense):
            shape = layer.kernel.shape
            # He scaling: a kernel [kh, kw, in, out] (or a Dense [in, out]) sees all but its last
            # dimension; a depthwise filter [kh, kw, in, multiplier] sees kh * kw inputs.
            depthwise = isinstance(layer, layers.DepthwiseConv2D)
            fan_in = np.prod(shape[:2] if depthwise else shape[:-1])
            weights = [rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)]
            if layer.use_bias:
                weights.append(rng.normal(0.0, 0.1, layer.bias.shape))
            layer.set_weights([w.astype(np.float32) for w in weights])


def values_for_our_variables(kinds: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """Pair the current graph's variables with Keras's weights of their kind, in order."""
    ours = {kind: [] for kind in kinds}
    for variable in tf.compat.v1.global_variables():
        kind = variable.op.name.rsplit("/", 1)[-1]
        assert kind in ours, f"no Keras weight of the kind of {variable.op.name}"
        ours[kind].append(variable)
    values = {}
    for kind, variables in ours.items():
        assert len(variables) == len(kinds[kind]), kind
        for variable, value in zip(variables, kinds[kind]):
            assert variable.shape.as_list() == list(value.shape), variable.op.name
            values[variable.op.name] = value
    return values


@pytest.mark.parametrize("name", KERAS_NETS)
def test_logits_are_those_of_the_keras_port_with_the_same_weights(name):
    images = random_images(BATCH, SIZE, seed=1)
    model = keras_model(name)
    randomize(model)
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    weights = keras_weights(model)

    with tf.Graph().as_default():
        # build() feeds ours the constant batch random_images(BATCH, SIZE, seed=1).
        logits, _ = build(name, num_classes=NUM_CLASSES, size=SIZE, batch=BATCH, seed=1)
        values = values_for_our_variables(weights)
        actual = run(logits, assignments(values))  # assignments: every variable, by name

    assert actual.shape == expected.shape == (BATCH, NUM_CLASSES)
    scale = float(np.max(np.abs(expected)))
    tolerance = RELATIVE_TOLERANCE * max(1.0, scale)
    error = float(np.max(np.abs(actual - expected)))
    between_images = float(np.max(np.abs(expected[0] - expected[1])))
    print(
        f"{name}: logits max abs error {error:.3g}, scale {scale:.3g}, "
        f"largest difference between the images {between_images:.3g}"
    )
    # Not vacuous: the logits are of order 1 and differ between the classes, and between the
    # two images by far more than the tolerance (deep random networks bring the images' features
    # together, but not that close).
    assert scale > 1.0 and np.std(expected) > 0.1
    assert between_images > 100 * tolerance
    assert error <= tolerance
