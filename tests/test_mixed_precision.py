"""Mixed precision and XLA: the run flags ``mixed_precision``, ``use_fp16``, ``loss_scale`` and
``xla``, what they change in the running graph, and what they leave alone (float32 variables,
checkpoints and exports; the loss curve within noise)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from test_seed import loss_curve, shapes  # noqa: F401  (a fixture)

import mox_core as mox
from mox_core import flags
from mox_core.executor import config as run_config
from mox_core.executor import precision

RNG = np.random.default_rng(0)
IMAGES = RNG.normal(size=(256, 12, 12, 3)).astype(np.float32)
LABELS = (IMAGES[:, :, :, 0].mean(axis=(1, 2)) > 0).astype(np.int64)
PRECISION_FLAGS = ("mixed_precision", "use_fp16", "xla", "loss_scale", "seed")
native_bf16 = pytest.mark.skipif(
    not precision.native_bf16_cpu() or not precision.onednn_enabled(),
    reason="the bfloat16 rewrite is measured on CPUs with AVX512_BF16 or AMX (as CI's)")


@pytest.fixture(autouse=True)
def default_flags():
    """The precision flags at their defaults before and after each test."""
    for name in PRECISION_FLAGS:
        flags.FLAGS[name].unparse()
    yield
    for name in PRECISION_FLAGS:
        flags.FLAGS[name].unparse()


def input_fn(mode):
    return tf.data.Dataset.from_tensor_slices((IMAGES, LABELS)).repeat()


class Recorder(mox.AggregativeSessionRunHook):
    """Every step's loss, the loss scale if there is one, and the first step's partition graphs
    (the graph as TensorFlow runs it, after its rewrites)."""

    def __init__(self, loss):
        self.loss, self.losses, self.graphs, self.scale = loss, [], None, None

    def before_run(self, run_context):
        options = None
        if self.graphs is None:
            options = tf.RunOptions(output_partition_graphs=True)
        return tf.train.SessionRunArgs(self.loss, options=options)

    def after_run(self, run_context, run_values):
        self.losses.append(float(run_values.results))
        if self.graphs is None:
            self.graphs = list(run_values.run_metadata.partition_graphs)

    def end(self, session):
        scales = [v for v in tf.local_variables() if v.op.name == "mox_loss_scale/scale"]
        self.scale = session.run(scales[0]) if scales else None

    def dtypes(self, op_type: str) -> set[str]:
        """The ``T`` (or a cast's ``DstT``) of every node the session ran whose type ends with
        ``op_type`` (oneDNN's kernels are ``_MklNativeConv2D``, ``_MklMatMul``, ...)."""
        return {tf.as_dtype(node.attr[attr].type).name for graph in self.graphs
                for node in graph.node if node.op.endswith(op_type)
                for attr in ("T", "DstT") if node.attr[attr].type}


def conv_model(recorders: list, reduction=tf.losses.Reduction.SUM,
               compute_dtype=tf.float32):
    """A convolution and a dense layer; ``compute_dtype`` float16 is MoXing's idiom, float32
    variables read as float16 through ``mox.var_scope``."""

    def model_fn(inputs, mode):
        images, labels = inputs
        with mox.var_scope(force_dtype=tf.float32):
            kernel = tf.get_variable("conv", [3, 3, 3, 16], compute_dtype)
            dense = tf.get_variable("dense", [16, 2], compute_dtype)
        features = tf.nn.relu(tf.nn.conv2d(tf.cast(images, compute_dtype), kernel, 1, "SAME"))
        logits = tf.cast(tf.matmul(tf.reduce_mean(features, [1, 2]), dense), tf.float32)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits, reduction=reduction)
        recorder = Recorder(loss)
        recorders.append(recorder)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss, "accuracy": accuracy},
                             hooks=[recorder],
                             export_spec=mox.ExportSpec({"images": images}, {"logits": logits}))

    return model_fn


def train(steps=120, log_dir=None, learning_rate=0.05, **model) -> Recorder:
    recorders: list[Recorder] = []
    mox.set_flag("seed", 0)
    mox.run(input_fn=input_fn, model_fn=conv_model(recorders, **model),
            optimizer_fn=mox.get_optimizer_fn("momentum", learning_rate=learning_rate,
                                              momentum=0.9),
            run_mode=mox.ModeKeys.TRAIN, batch_size=32, max_number_of_steps=steps,
            log_every_n_steps=50, log_dir=log_dir)
    return recorders[0]


@native_bf16
def test_bf16_computes_convolutions_in_bfloat16_and_learns_like_float32(caplog):
    reduction = tf.losses.Reduction.MEAN
    fp32 = train(reduction=reduction)
    mox.set_flag("mixed_precision", "bf16")
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        bf16 = train(reduction=reduction)
    assert fp32.dtypes("Conv2D") == fp32.dtypes("MatMul") == {"float32"}
    assert "bfloat16" not in fp32.dtypes("Cast")
    # The rewrite ran: the convolution, its gradient and the dense layer compute in bfloat16.
    assert bf16.dtypes("Conv2D") == bf16.dtypes("Conv2DBackpropFilter") == {"bfloat16"}
    assert bf16.dtypes("MatMul") == {"bfloat16"}
    assert "Computing in bfloat16 on the CPU (mixed_precision=bf16)" in caplog.text
    # Same seed, same data: the curves start alike and end within bfloat16's noise.
    assert abs(fp32.losses[0] - bf16.losses[0]) < 0.01
    assert fp32.losses[-1] < 0.35 and bf16.losses[-1] < 0.35
    assert abs(np.mean(fp32.losses[-20:]) - np.mean(bf16.losses[-20:])) < 0.05


@native_bf16
def test_bf16_checkpoints_are_float32_and_resume_in_float32(tmp_path):
    mox.set_flag("mixed_precision", "bf16")
    train(steps=20, log_dir=str(tmp_path))
    checkpoint = tf.train.latest_checkpoint(str(tmp_path))
    stored = dict(tf.train.list_variables(checkpoint))
    assert {"conv", "dense", "global_step"} <= set(stored)
    reader = tf.train.load_checkpoint(checkpoint)
    assert reader.get_tensor("conv").dtype == np.float32
    assert not [name for name in stored if "loss_scale" in name]
    mox.set_flag("mixed_precision", "off")
    resumed = train(steps=30, log_dir=str(tmp_path))
    assert len(resumed.losses) == 10  # steps 20..29, from the bfloat16 run's checkpoint


def test_fp16_scales_the_loss_dynamically_and_skips_overflowing_steps(monkeypatch, caplog):
    # A GPU cannot run here: the run is told it computes on one (TensorFlow skips the GPU
    # rewrite without a GPU) and the model computes in float16 itself, MoXing's way.
    monkeypatch.setattr(run_config, "_on_gpu", lambda towers: True)
    mox.set_flag("mixed_precision", "fp16")
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        run = train(steps=40, learning_rate=0.002, compute_dtype=tf.float16)
    assert "Computing in float16 on the GPU (mixed_precision=fp16)" in caplog.text
    # Summed over 32 examples, gradients times 2**15 overflow float16: the scale came down
    # by halves (skipping those steps) to one that fits, and the run learned.
    assert run.scale is not None and 1.0 <= run.scale < precision.INITIAL_LOSS_SCALE
    assert np.log2(run.scale) == int(np.log2(run.scale))
    assert all(np.isfinite(run.losses))
    assert np.mean(run.losses[-5:]) < np.mean(run.losses[:5])


def test_a_fixed_loss_scale_replaces_the_dynamic_one(monkeypatch):
    monkeypatch.setattr(run_config, "_on_gpu", lambda towers: True)
    mox.set_flag("mixed_precision", "fp16")
    mox.set_flag("loss_scale", 64.0)
    run = train(steps=10, learning_rate=0.002, compute_dtype=tf.float16)
    assert run.scale is None and all(np.isfinite(run.losses))


def test_xla_compiles_the_model_and_its_gradients_and_learns_the_same(tmp_path):
    reduction = tf.losses.Reduction.MEAN
    fp32 = train(steps=60, reduction=reduction)
    mox.set_flag("xla", True)
    compiled = train(steps=60, reduction=reduction, log_dir=str(tmp_path))
    ran = {node.op for graph in compiled.graphs for node in graph.node}
    assert "_XlaRun" in ran or "XlaLaunch" in ran  # clusters compiled and launched
    np.testing.assert_allclose(compiled.losses, fp32.losses, rtol=1e-3, atol=1e-3)
    # The export carries the compile marks for a server that runs XLA and serves float32.
    mox.run(input_fn=input_fn, model_fn=conv_model([], reduction=reduction),
            optimizer_fn=None, run_mode=mox.ModeKeys.EXPORT, batch_size=8,
            log_dir=str(tmp_path))
    export = tmp_path / "1"
    with tf.Graph().as_default(), tf.Session() as session:
        meta = tf.saved_model.loader.load(session, ["serve"], str(export))
        marked = [node.name for node in meta.graph_def.node if "_XlaCompile" in node.attr]
        signature = meta.signature_def["serving_default"]
        logits = session.run(signature.outputs["logits"].name,
                             {signature.inputs["images"].name: IMAGES[:4]})
    assert marked and any("conv" in name.lower() for name in marked)
    assert logits.dtype == np.float32 and logits.shape == (4, 2)


def test_auto_follows_this_machine_and_logs_its_choice(caplog):
    mox.set_flag("mixed_precision", "auto")
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        train(steps=2)
    if precision.native_bf16_cpu():
        assert "Computing in bfloat16 on the CPU (native bfloat16 instructions; " \
               "mixed_precision=auto)" in caplog.text
    else:
        assert "float32: this CPU has no native bfloat16" in caplog.text


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("mixed_precision", "half", "flag mixed_precision must be one of off, bf16, fp16, auto, "
                                "got 'half'"),
    ("mixed_precision", "fp16", "flag mixed_precision=fp16 needs a GPU, and none is visible"),
    ("loss_scale", 0.0, "flag loss_scale (1 is off) must be a finite number > 0, got 0.0"),
])
def test_bad_precision_flags_are_named(flag, value, message):
    mox.set_flag(flag, value)
    with pytest.raises(ValueError, match="flag") as error:
        train(steps=1)
    assert message in str(error.value)


def test_bf16_on_a_gpu_is_refused_with_the_alternative():
    with pytest.raises(ValueError, match="on a GPU use mixed_precision=fp16"):
        precision.resolve("bf16", False, False, on_gpu=True)


def test_use_fp16_on_a_cpu_warns_and_trains_in_float32():
    mox.set_flag("use_fp16", True)
    with pytest.warns(UserWarning, match="flag use_fp16 has no effect on a CPU"):
        run = train(steps=3)
    assert "bfloat16" not in run.dtypes("Cast") and run.scale is None


def test_mox_train_takes_mixed_precision_and_xla(shapes, tmp_path, caplog):  # noqa: F811
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        curve = loss_curve(caplog, shapes, tmp_path / "run", "--mixed-precision", "off",
                           "--xla")
    assert len(curve) == 4 and all(np.isfinite(curve))
    assert "Computing in float32; XLA compiles the model" in caplog.text
