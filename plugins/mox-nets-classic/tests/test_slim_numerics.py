"""Restoring a TF-Slim checkpoint into a mox network gives TF-Slim's logits (issue #5, item 3).

Matching variable names (``test_reference_nets.py``) lets a TF-Slim checkpoint load; it does not
show that the loaded numbers are used the same way. Here the reference is TF-Slim itself: the
``tf_slim`` package (PyPI ``tf-slim``, its ``tf_slim.nets``) is imported at test time, never copied.
For every network ``tf_slim.nets`` implements and this plugin registers, the test

1. builds TF-Slim's network as its users do (inference mode, inside the family's own
   ``arg_scope``) in one graph;
2. gives every variable random values of a useful scale: He-scaled weights so activations stay
   O(1) through deep stacks, and non-trivial batch-norm ``gamma``/``beta``/``moving_mean``/
   ``moving_variance`` (some variances small), so a wrong channel axis, epsilon, a missing
   ``scale``/``center`` or batch statistics used at inference changes the output;
3. saves a checkpoint, builds ours with ``mox_core.get_model_fn(name, 'EVAL', ...)`` in a fresh
   graph, checks that its variables are exactly the checkpoint's (name and shape) and restores them;
4. runs both on the same random batch and compares the logits and every end point both nets
   expose with the same shape, to 1e-4 of each tensor's largest magnitude.

Inputs are the smallest each network takes: the nets whose classifier is a convolution over the
last feature map (alexnet_v2, overfeat, VGG, inception_v1's 7x7 VALID pool) need their default
size; the others run on small images, still with odd and even sizes so SAME/VALID padding and
stride placement matter.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import tensorflow as tf

import mox_core
from mox_core.plugins import registered_by

tf1 = tf.compat.v1


def _alias_tf_keras_legacy_layers() -> None:
    """Let ``tf_slim`` build batch norm with tf-keras 2.21.

    TF-Slim's ``batch_norm`` (the non-fused path its arg_scopes take) uses
    ``tensorflow.python.layers.normalization.BatchNormalization``; TF 2.21 resolves that lazily to
    ``tf_keras.legacy_tf_layers.normalization``, but tf-keras 2.21 ships the module as
    ``tf_keras.src.legacy_tf_layers``. Registering the old names in ``sys.modules`` (nothing else is
    changed) makes the lazy import succeed. It must run before the first TF-Slim network is built;
    importing tf_keras here has no other effect on mox, which does not use Keras.
    """
    for module in ("", ".base", ".convolutional", ".core", ".normalization", ".pooling"):
        sys.modules.setdefault(
            "tf_keras.legacy_tf_layers" + module,
            importlib.import_module("tf_keras.src.legacy_tf_layers" + module),
        )


# tox's classic environment installs both; elsewhere: pip install --no-deps tf-slim tf-keras
for _reference in ("tf_keras", "tf_slim"):
    pytest.importorskip(_reference, reason=f"{_reference} (the TF-Slim reference) is not "
                                           f"installed; tox's classic environment installs it")
_alias_tf_keras_legacy_layers()

import tf_slim  # noqa: E402  (needs the alias above)
from tf_slim.nets import (  # noqa: E402
    alexnet,
    inception_v1,
    inception_v2,
    inception_v3,
    overfeat,
    resnet_utils,
    resnet_v1,
    resnet_v2,
    vgg,
)

BATCH = 2
NUM_CLASSES = 10
RELATIVE_TOLERANCE = 1e-4


@dataclass(frozen=True)
class SlimNet:
    """How TF-Slim's users build one network: the function, its arg_scope, an input size."""

    network_fn: object
    arg_scope_fn: object
    size: int


SLIM_NETS = {
    # Classifier is a VALID convolution over the last feature map: default size only.
    "alexnet_v2": SlimNet(alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope, 224),
    "overfeat": SlimNet(overfeat.overfeat, overfeat.overfeat_arg_scope, 231),
    "vgg_a": SlimNet(vgg.vgg_a, vgg.vgg_arg_scope, 224),
    "vgg_16": SlimNet(vgg.vgg_16, vgg.vgg_arg_scope, 224),
    "vgg_19": SlimNet(vgg.vgg_19, vgg.vgg_arg_scope, 224),
    # 7x7 VALID average pool over Mixed_5c (stride 32, SAME): 193 is the smallest 7x7 map.
    "inception_v1": SlimNet(inception_v1.inception_v1, inception_v1.inception_v1_arg_scope, 193),
    # Final pool shrinks for small inputs.
    "inception_v2": SlimNet(inception_v2.inception_v2, inception_v2.inception_v2_arg_scope, 64),
    # TF-Slim 1.1.0's auxiliary head pools Mixed_6e with a fixed 5x5 VALID window: 107 is the
    # smallest input giving a 5x5 Mixed_6e through v3's VALID stem.
    "inception_v3": SlimNet(inception_v3.inception_v3, inception_v3.inception_v3_arg_scope, 107),
    # Global average pool: any size; 65 is odd, so the explicit padding of strided convs matters.
    **{
        f"resnet_v{version}_{depth}": SlimNet(
            getattr(module, f"resnet_v{version}_{depth}"), resnet_utils.resnet_arg_scope, 65
        )
        for version, module in ((1, resnet_v1), (2, resnet_v2))
        for depth in (50,)
    },
}
# Not here, to keep CI minutes for other tests: vgg_16/vgg_19 and the deeper ResNets (101, 152,
# 200) are the same code as vgg_a / the 50-layer ResNets with more repeats of the same blocks.
# All of them were checked once the same way (max difference <= 1e-6 of the logits' scale).

# Tens of seconds of CPU: still run in CI, but marked.
SLOW = {"inception_v3", "resnet_v1_50", "resnet_v2_50"}

REGISTERED = set(registered_by("mox-nets-classic").get("networks", []))
NETWORKS = [
    pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [])
    for name in SLIM_NETS
    if name in REGISTERED
]


def _randomize(variables) -> list:
    """Assign ops giving every variable random values of a scale that keeps activations O(1).

    Run them in order: each list reads what the previous one assigned.
    """
    by_name = {v.op.name: v for v in variables}
    first, second = [], []
    for variable in variables:
        name, shape = variable.op.name, variable.shape.as_list()
        scope, kind = name.rsplit("/", 1)
        if kind in ("weights", "pointwise_weights", "depthwise_weights"):
            # He scaling. conv [kh, kw, in, out], fc [in, out]; a depthwise filter
            # [kh, kw, in, multiplier] sees kh * kw inputs per output.
            fan_in = int(np.prod(shape[:2] if kind == "depthwise_weights" else shape[:-1]))
            first.append(variable.assign(tf1.random.normal(shape) * np.sqrt(2.0 / fan_in)))
        elif kind in ("biases", "beta", "moving_mean"):
            first.append(variable.assign(tf1.random.normal(shape, stddev=0.1)))
        elif kind == "moving_variance" and f"{scope}/gamma" in by_name:
            # Log-uniform down to 1e-3, so epsilon (1e-3 or 1e-5 per family) shows; gamma
            # follows it (below) so that the small ones do not blow activations up.
            first.append(variable.assign(tf1.exp(tf1.random.uniform(shape, np.log(1e-3), 0.7))))
        elif kind == "moving_variance":
            # Without gamma 1 / sqrt(variance) is the layer's gain: keep it near 1.
            first.append(variable.assign(tf1.random.uniform(shape, 0.5, 2.0)))
        elif kind == "gamma":
            # gamma / sqrt(moving_variance) in [0.5, 1.5].
            variance = by_name[f"{scope}/moving_variance"].read_value()
            ratio = tf1.random.uniform(shape, 0.5, 1.5)
            second.append(variable.assign(ratio * tf1.sqrt(variance)))
        else:
            raise AssertionError(f"no random initializer for variable {name}")
    return [first, second]


def _run_slim(name: str, images: np.ndarray, checkpoint: str):
    """Build TF-Slim's ``name``, randomize and save its variables; its logits and end points."""
    spec = SLIM_NETS[name]
    with tf.Graph().as_default():
        tf1.set_random_seed(0)
        inputs = tf1.placeholder(tf.float32, images.shape)
        with tf_slim.arg_scope(spec.arg_scope_fn()):
            logits, end_points = spec.network_fn(inputs, num_classes=NUM_CLASSES, is_training=False)
        variables = tf1.global_variables()
        assigns = _randomize(variables)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for assigns_in_order in assigns:
                sess.run(assigns_in_order)
            tf1.train.Saver(variables).save(sess, checkpoint, write_meta_graph=False)
            return sess.run((logits, end_points), {inputs: images})


def _run_mox(name: str, images: np.ndarray, checkpoint: str):
    """Build our ``name``, restore the checkpoint by name; its logits and end points."""
    with tf.Graph().as_default():
        inputs = tf1.placeholder(tf.float32, images.shape)
        network_fn = mox_core.get_model_fn(name, "EVAL", NUM_CLASSES, preprocess_fn=None)
        logits, end_points = network_fn(inputs)
        ours = {v.op.name: v for v in tf1.global_variables()}
        saved = dict(tf1.train.list_variables(checkpoint))
        # Every variable maps by name and shape, both ways: nothing left at its initializer,
        # nothing of TF-Slim's unused.
        assert {k: v.shape.as_list() for k, v in ours.items()} == saved
        with tf1.Session() as sess:
            tf1.train.Saver(ours).restore(sess, checkpoint)
            return sess.run((logits, end_points), {inputs: images})


def _max_error(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Largest absolute difference, and the tolerance for it (relative to ``expected``'s scale)."""
    scale = float(np.max(np.abs(expected)))
    return float(np.max(np.abs(actual - expected))), RELATIVE_TOLERANCE * max(scale, 1e-6)


@pytest.mark.parametrize("name", NETWORKS)
def test_restored_tf_slim_checkpoint_gives_tf_slim_outputs(name, tmp_path):
    size = SLIM_NETS[name].size
    images = np.random.default_rng(0).standard_normal((BATCH, size, size, 3)).astype(np.float32)
    checkpoint = str(tmp_path / "slim.ckpt")

    slim_logits, slim_points = _run_slim(name, images, checkpoint)
    mox_logits, mox_points = _run_mox(name, images, checkpoint)

    # TF-Slim 1.1.0's ResNets return [N, 1, 1, classes] logits; ours are squeezed as in research/slim.
    slim_logits = slim_logits.reshape(BATCH, NUM_CLASSES)
    # Random weights at this scale give logits of order 1 or more: a near-zero output would
    # make the comparison vacuous.
    assert np.std(slim_logits) > 1e-2
    error, tolerance = _max_error(mox_logits, slim_logits)
    print(f"{name}: logits max abs error {error:.3g}, scale {np.max(np.abs(slim_logits)):.3g}")
    assert error <= tolerance, f"{name} logits differ by {error:.3g} (tolerance {tolerance:.3g})"

    shared = [
        k for k in slim_points if k in mox_points and slim_points[k].shape == mox_points[k].shape
    ]
    assert shared, "no end point in common"
    differing = {}
    for key in shared:
        error, tolerance = _max_error(mox_points[key], slim_points[key])
        if error > tolerance:
            differing[key] = (error, tolerance)
    assert not differing, f"{name} end points differ (max abs error, tolerance): {differing}"
