"""Every network of this plugin creates exactly TF-Slim's variables, so slim checkpoints load.

``reference/slim_nets.json`` (repo root) records what the canonical TF-Slim implementation
creates for each network: every global variable in creation order, the logits, the end points.
The tests are parametrized over the networks this plugin registers that the reference knows,
so a network added to the plugin is checked without touching this file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tensorflow as tf

from mox_core import ModeKeys
from mox_core.nets import get_model_fn, get_model_meta
from mox_core.plugins import registered_by

tf1 = tf.compat.v1

REFERENCE = json.loads(
    (Path(__file__).resolve().parents[3] / "reference" / "slim_nets.json").read_text()
)
NETWORKS = [
    name
    for name in registered_by("mox-nets-classic").get("networks", [])
    if REFERENCE.get(name, {}).get("status") == "ok"
]


def build(name: str, run_mode: str = ModeKeys.EVAL):
    """Build ``name`` as the reference did: a ``[1, H, W, 3]`` input at the default size."""
    reference = REFERENCE[name]
    network_fn = get_model_fn(
        name, run_mode, num_classes=reference["num_classes"], preprocess_fn=None
    )
    images = tf1.placeholder(tf.float32, reference["input_shape"], name="images")
    return network_fn(images)


def test_the_plugin_registers_networks_of_the_reference():
    assert {"lenet", "cifarnet"} <= set(NETWORKS)


@pytest.mark.parametrize("name", NETWORKS)
def test_variables_match_tf_slim_in_name_shape_trainability_and_order(name):
    with tf.Graph().as_default():
        build(name)
        created = [
            (v.op.name, v.shape.as_list(), v.dtype.base_dtype.name, v.trainable)
            for v in tf1.global_variables()
        ]
    expected = [
        (v["name"], v["shape"], v["dtype"], v["trainable"]) for v in REFERENCE[name]["variables"]
    ]
    assert created == expected


@pytest.mark.parametrize("name", NETWORKS)
def test_logits_and_end_points_match_tf_slim(name):
    reference = REFERENCE[name]
    with tf.Graph().as_default():
        logits, end_points = build(name)
        assert logits.shape.as_list() == reference["logits_shape"]
        assert logits.op.name == reference["logits_op"]
        assert set(reference["end_points"]) <= set(end_points)
        shapes = {key: end_points[key].shape.as_list() for key in reference["end_points"]}
    assert shapes == reference["end_point_shapes"]


@pytest.mark.parametrize("name", NETWORKS)
def test_training_mode_adds_only_what_tf_slim_adds(name):
    reference = REFERENCE[name]
    with tf.Graph().as_default():
        build(name, ModeKeys.TRAIN)
        created = {v.op.name for v in tf1.global_variables()}
    expected = {v["name"] for v in reference["variables"]}
    expected |= {v["name"] for v in reference["train_mode"]["only_in_train_variables"]}
    assert created == expected


@pytest.mark.parametrize("name", NETWORKS)
def test_model_meta_matches_the_reference_image_size(name):
    assert get_model_meta(name).default_image_size == REFERENCE[name]["default_image_size"]
