"""How a run computes: mixed precision and XLA, decided once from the flags and the hardware.

Mixed precision is TensorFlow's graph rewrite, chosen per device in the session's
``RewriterConfig``: ``auto_mixed_precision_onednn_bfloat16`` on a CPU (oneDNN computes
convolutions and matrix products in bfloat16; native on AVX512_BF16 and AMX), and
``auto_mixed_precision`` (float16) on a GPU, with dynamic loss scaling in the train op
(:class:`DynamicLossScale`). The rewrite casts inside the running graph only: variables, the
loss, checkpoints and exported models stay float32, so a checkpoint written in one precision
resumes or fine-tunes in another. It composes with MoXing's own idiom -- ``var_scope(float16)``
variables read as float16 and the ``loss_scale`` flag, a fixed scale that replaces the dynamic
one.

XLA (flag ``xla``) compiles each tower's model -- forward and gradients -- with
``tf.xla.experimental.jit_scope``: on a CPU TensorFlow's automatic clustering stays off, so the
scope is what compiles there; on a GPU the session's ``global_jit_level`` also clusters the
rest of the graph.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import platform
import warnings

import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from mox_core.constants import MIXED_PRECISION_MODES

#: the session rewrite of each precision on each device kind
_REWRITES = {
    ("bf16", "cpu"): "auto_mixed_precision_onednn_bfloat16",
    ("fp16", "gpu"): "auto_mixed_precision",
}

#: /proc/cpuinfo flags of CPUs that compute bfloat16 natively
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")

#: dynamic loss scaling, as TensorFlow's DynamicLossScale: start high, halve on an overflow,
#: double after this many finite steps in a row
INITIAL_LOSS_SCALE = 2.0**15
LOSS_SCALE_GROWTH_STEPS = 2000


@dataclasses.dataclass(frozen=True)
class Precision:
    """The run's precision (``off``, ``bf16`` or ``fp16``), the device kind it computes on,
    whether XLA compiles the towers, and a sentence of what was decided and why (logged)."""

    mode: str = "off"
    device: str = "cpu"
    xla: bool = False
    reason: str = "float32"

    @property
    def rewrite(self) -> str | None:
        """The ``RewriterConfig`` field this precision turns on, or None."""
        return _REWRITES.get((self.mode, self.device))

    @property
    def dynamic_loss_scale(self) -> bool:
        """float16 gradients underflow without a loss scale: on unless a fixed one is set."""
        return self.mode == "fp16"

    def log(self) -> None:
        """Say what the run computes in, unless it is plain float32 as asked."""
        if self.reason != "float32" or self.xla:
            tf.logging.info("Computing in %s%s", self.reason,
                            "; XLA compiles the model" if self.xla else "")

    def apply(self, session_config: tf.ConfigProto) -> tf.ConfigProto:
        """Turn the rewrite (and XLA's clustering on a GPU) on in ``session_config``."""
        if self.rewrite is not None:
            setattr(session_config.graph_options.rewrite_options, self.rewrite,
                    rewriter_config_pb2.RewriterConfig.ON)
        if self.xla and self.device == "gpu":
            session_config.graph_options.optimizer_options.global_jit_level = (
                tf.OptimizerOptions.ON_1)
        return session_config

    def compiled(self):
        """The context that XLA-compiles the ops built inside it (nothing without ``xla``)."""
        if not self.xla:
            return contextlib.nullcontext()
        import tensorflow as tf2

        return tf2.xla.experimental.jit_scope()


def resolve(requested, use_fp16: bool, xla, on_gpu: bool) -> Precision:
    """The precision a run uses: ``requested`` (flag ``mixed_precision``; MoXing's
    ``use_fp16`` asks for ``fp16`` when it is ``off``) on a GPU (``on_gpu``) or a CPU."""
    if requested not in MIXED_PRECISION_MODES:
        raise ValueError(f"flag mixed_precision must be one of "
                         f"{', '.join(MIXED_PRECISION_MODES)}, got "
                         f"{requested!r}")
    if not isinstance(xla, bool):
        raise ValueError(f"flag xla must be True or False, got {xla!r}")
    device = "gpu" if on_gpu else "cpu"
    by_use_fp16 = requested == "off" and use_fp16
    if by_use_fp16:
        requested = "fp16"
    why = "flag use_fp16" if by_use_fp16 else f"mixed_precision={requested}"
    if requested == "auto":
        if on_gpu:
            capability = gpu_compute_capability()
            if capability is not None and capability >= (7, 0):
                return Precision("fp16", device, xla, f"float16 on the GPU (compute capability "
                                 f"{capability[0]}.{capability[1]} has tensor cores; "
                                 f"mixed_precision=auto)")
            return Precision("off", device, xla, "float32: the GPU has no fast float16 "
                             "(compute capability below 7.0; mixed_precision=auto)")
        if native_bf16_cpu():
            return Precision("bf16", device, xla, "bfloat16 on the CPU (native bfloat16 "
                             "instructions; mixed_precision=auto)")
        return Precision("off", device, xla, "float32: this CPU has no native bfloat16 "
                         "(AVX512_BF16 or AMX), so mixed_precision=auto leaves it off")
    if requested == "off":
        return Precision("off", device, xla, "float32")
    if requested == "bf16" and on_gpu:
        raise ValueError("flag mixed_precision=bf16 is TensorFlow's oneDNN rewrite for CPUs; "
                         "on a GPU use mixed_precision=fp16 (or auto)")
    if requested == "bf16":
        if not onednn_enabled():
            raise ValueError("flag mixed_precision=bf16 needs TensorFlow's oneDNN CPU kernels, "
                             "which are off in this process (TF_ENABLE_ONEDNN_OPTS=0?)")
        note = "" if native_bf16_cpu() else (
            "; this CPU has no native bfloat16 instructions, so it is emulated and likely "
            "slower than float32")
        return Precision("bf16", device, xla, f"bfloat16 on the CPU ({why}{note})")
    if on_gpu:
        return Precision("fp16", device, xla, f"float16 on the GPU ({why})")
    # TensorFlow's float16 emulation on CPUs (auto_mixed_precision_cpu) is slower than float32
    # and crashes the process on training graphs (TF 2.21): never use it.
    if by_use_fp16:
        warnings.warn("flag use_fp16 has no effect on a CPU (float16 needs a GPU): computing in "
                      "float32; mixed_precision=bf16 is the CPU's half precision", stacklevel=3)
        return Precision("off", device, xla, "float32 (use_fp16 needs a GPU)")
    raise ValueError("flag mixed_precision=fp16 needs a GPU, and none is visible to this run; "
                     "on a CPU use mixed_precision=bf16 (or auto)")


@functools.cache
def native_bf16_cpu() -> bool:
    """Whether this machine's CPU has bfloat16 instructions (Linux: /proc/cpuinfo)."""
    if platform.system() != "Linux":
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return any(flag in flags for flag in BF16_CPU_FLAGS)
    except OSError:
        return False
    return False


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN CPU kernels (what the bfloat16 rewrite targets)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return False
    return bool(_pywrap_util_port.IsMklEnabled())


def gpu_compute_capability() -> tuple[int, int] | None:
    """The lowest compute capability among the visible GPUs, or None when unknown."""
    import tensorflow as tf2

    capabilities = []
    for gpu in tf2.config.list_physical_devices("GPU"):
        details = tf2.config.experimental.get_device_details(gpu)
        if "compute_capability" in details:
            capabilities.append(tuple(details["compute_capability"]))
    return min(capabilities) if capabilities else None


class DynamicLossScale:
    """The loss scale of float16 training: the loss is multiplied by it before the gradients
    and they are divided by it after; a step whose gradients overflow is skipped and halves it,
    ``LOSS_SCALE_GROWTH_STEPS`` finite steps double it. Its variables are local (not in
    checkpoints): checkpoints of float16 and float32 runs stay interchangeable, and a resumed
    run finds its scale again within a few steps."""

    def __init__(self) -> None:
        local = [tf.GraphKeys.LOCAL_VARIABLES]
        with tf.variable_scope("mox_loss_scale"):
            self.scale = tf.get_variable("scale", initializer=INITIAL_LOSS_SCALE,
                                         trainable=False, collections=local)
            self.good_steps = tf.get_variable("good_steps", initializer=tf.constant(0, tf.int64),
                                              trainable=False, collections=local)

    def gradients_finite(self, grads_and_vars: list[tuple]) -> tf.Tensor:
        """True when every gradient is finite."""
        checks = [tf.reduce_all(tf.is_finite(g.values if isinstance(g, tf.IndexedSlices) else g))
                  for g, _ in grads_and_vars]
        return tf.reduce_all(tf.stack(checks))

    def update(self, finite: tf.Tensor) -> tf.Operation:
        """Halve the scale after an overflow, double it after enough finite steps."""
        grow = tf.logical_and(finite, self.good_steps + 1 >= LOSS_SCALE_GROWTH_STEPS)
        new_scale = tf.where(finite, tf.where(grow, self.scale * 2.0, self.scale),
                             tf.maximum(self.scale / 2.0, 1.0))
        new_good = tf.where(tf.logical_and(finite, tf.logical_not(grow)),
                            self.good_steps + 1, tf.zeros_like(self.good_steps))
        return tf.group(self.scale.assign(new_scale), self.good_steps.assign(new_good),
                        name="update_loss_scale")
