"""Every network of this plugin creates exactly TF-Slim's variables, so slim checkpoints load.

``reference/slim_nets.json`` (repo root) records what the canonical TF-Slim implementation
creates for each network, built at its default size: every global variable in creation order,
the logits, the end points, and what training mode adds (NASNet's and PNASNet's auxiliary head
and, where drop-path runs, the global step slim creates inside the first cell's scope). The
tests are parametrized over the networks this plugin registers, each built once per mode.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest
import tensorflow as tf
from mobile_testing import REFERENCE

from mox_core import ModeKeys
from mox_core.nets import get_model_fn, get_model_meta
from mox_core.plugins import registered_by

tf1 = tf.compat.v1

MOBILE_NETWORKS = {
    name for name in REFERENCE if name.startswith(("mobilenet", "nasnet", "pnasnet"))
}
NETWORKS = [
    name
    for name in registered_by("mox-nets-mobile").get("networks", [])
    if REFERENCE.get(name, {}).get("status") == "ok"
]
# A NASNet has 900 to 1500 variables, which take TensorFlow long to create (graph building, not
# computing, is the cost); the marker still runs them in CI.
PARAMS = [
    pytest.param(name, marks=pytest.mark.slow) if "nasnet" in name else name for name in NETWORKS
]


@dataclasses.dataclass(frozen=True)
class Built:
    """What a build created, as plain values (the graph itself is not kept)."""

    variables: list
    logits_shape: list
    logits_op: str
    end_point_shapes: dict


@functools.cache
def build(name: str, run_mode: str) -> Built:
    """Build ``name`` as the reference did: a ``[1, H, W, 3]`` input at the default size."""
    reference = REFERENCE[name]
    with tf.Graph().as_default():
        network_fn = get_model_fn(
            name, run_mode, num_classes=reference["num_classes"], preprocess_fn=None
        )
        images = tf1.placeholder(tf.float32, reference["input_shape"], name="images")
        logits, end_points = network_fn(images)
        return Built(
            variables=[
                (v.op.name, v.shape.as_list(), v.dtype.base_dtype.name, v.trainable)
                for v in tf1.global_variables()
            ],
            logits_shape=logits.shape.as_list(),
            logits_op=logits.op.name,
            end_point_shapes={key: value.shape.as_list() for key, value in end_points.items()},
        )


def as_tuples(variables):
    return [(v["name"], v["shape"], v["dtype"], v["trainable"]) for v in variables]


def test_the_plugin_registers_every_mobile_network_of_the_reference():
    assert len(MOBILE_NETWORKS) == 12
    assert set(NETWORKS) == MOBILE_NETWORKS


@pytest.mark.parametrize("name", PARAMS)
def test_variables_match_tf_slim_in_name_shape_trainability_and_order(name):
    assert build(name, ModeKeys.EVAL).variables == as_tuples(REFERENCE[name]["variables"])


@pytest.mark.parametrize("name", PARAMS)
def test_logits_and_end_points_match_tf_slim(name):
    reference = REFERENCE[name]
    built = build(name, ModeKeys.EVAL)
    assert built.logits_shape == reference["logits_shape"]
    assert built.logits_op == reference["logits_op"]
    assert built.end_point_shapes == reference["end_point_shapes"]


@pytest.mark.parametrize("name", PARAMS)
def test_training_mode_adds_exactly_what_tf_slim_adds(name):
    reference = REFERENCE[name]
    train_mode = reference["train_mode"]
    built = build(name, ModeKeys.TRAIN)
    expected = as_tuples(reference["variables"]) + as_tuples(train_mode["only_in_train_variables"])
    assert sorted(built.variables) == sorted(expected)
    eval_order = [v for v in built.variables if v[0] not in set(train_mode["only_in_train"])]
    assert eval_order == as_tuples(reference["variables"])  # the shared ones in the same order
    end_points = set(reference["end_points"]) | set(train_mode["end_points_only_in_train"])
    assert set(built.end_point_shapes) == end_points
    assert built.logits_shape == train_mode["logits_shape"]
    if "AuxLogits" in end_points:
        assert built.end_point_shapes["AuxLogits"] == train_mode["logits_shape"]


@pytest.mark.parametrize("name", NETWORKS)
def test_model_meta_matches_the_reference(name):
    meta = get_model_meta(name)
    assert meta.default_image_size == REFERENCE[name]["default_image_size"]
    assert meta.default_labels_offset == 0  # 1001 ImageNet classes (background first), CIFAR's 10


@pytest.mark.parametrize("name", NETWORKS)
def test_logits_pattern_names_exactly_the_layers_sized_by_the_classes(name):
    """What ``checkpoint_exclude_patterns`` must drop to fine-tune on other classes."""
    reference = REFERENCE[name]
    variables = reference["variables"] + reference["train_mode"]["only_in_train_variables"]
    pattern = get_model_meta(name).default_logits_pattern
    matching = {v["name"] for v in variables if pattern in v["name"]}
    sized_by_classes = {
        v["name"] for v in variables if v["shape"] and v["shape"][-1] == reference["num_classes"]
    }
    assert matching == sized_by_classes
    assert len(matching) == (4 if name.startswith(("nasnet", "pnasnet")) else 2)
