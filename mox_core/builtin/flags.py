"""The framework's run flags, registered through the public ``mox_flags`` hook."""

from mox_core.hookspecs import hookimpl
from mox_core.registry import FlagSpec


@hookimpl
def mox_flags():
    return [
        FlagSpec("num_gpus", "integer", 1, "Number of GPUs (one model tower each) per worker."),
        FlagSpec(
            "job_name", "string", "",
            "Role of this process in a distributed run: 'ps' or 'worker'; empty for one process.",
        ),
        FlagSpec("task_index", "integer", 0, "Index of this process within its job."),
        FlagSpec(
            "ps_hosts", "string", "",
            "Comma-separated host:port list of the parameter servers; empty for none.",
        ),
        FlagSpec(
            "worker_hosts", "string", "",
            "Comma-separated host:port list of the workers; empty for a single machine.",
        ),
        FlagSpec(
            "sync_replicas", "boolean", True,
            "Distributed training: average gradients of all workers each step (True) or let "
            "each worker update the parameters on its own (False).",
        ),
        FlagSpec(
            "variable_update", "string", "parameter_server",
            "How variables are shared between devices and workers (e.g. parameter_server).",
        ),
        FlagSpec(
            "local_parameter_device", "string", "cpu",
            "Device that holds the variables of a single machine with several GPUs: cpu or gpu.",
        ),
        FlagSpec("clone_on_cpu", "boolean", False, "Build the model towers on the CPU."),
        FlagSpec(
            "log_first_clone", "boolean", True,
            "Log the metrics of the first tower only (True) or their mean over towers (False).",
        ),
        FlagSpec(
            "checkpoint_include_patterns", "string", "",
            "Comma-separated patterns: restore only variables whose name matches one of them "
            "when warm-starting from checkpoint_path; empty restores all.",
        ),
        FlagSpec(
            "checkpoint_exclude_patterns", "string", "",
            "Comma-separated patterns: skip variables whose name matches one of them when "
            "warm-starting from checkpoint_path (e.g. 'global_step,logits').",
        ),
        FlagSpec(
            "trainable_include_patterns", "string", "",
            "Comma-separated patterns: train only variables whose name matches one of them; "
            "empty trains all.",
        ),
        FlagSpec(
            "trainable_exclude_patterns", "string", "",
            "Comma-separated patterns: freeze variables whose name matches one of them.",
        ),
        FlagSpec(
            "loss_scale", "float", 1.0,
            "Scale the loss by this factor before computing gradients (fp16 training); 1 is off.",
        ),
        FlagSpec(
            "use_fp16", "boolean", False,
            "MoXing's float16 switch: the same as mixed_precision=fp16 when mixed_precision is "
            "off.",
        ),
        FlagSpec(
            "mixed_precision", "string", "off",
            "Compute in half precision with TensorFlow's graph rewrite, variables, loss and "
            "checkpoints staying float32: off, bf16 (CPUs; native on AVX512_BF16 or AMX), fp16 "
            "(GPUs, with dynamic loss scaling unless loss_scale is set) or auto (bf16 or fp16 "
            "where the hardware computes it natively, else off; the choice is logged).",
        ),
        FlagSpec(
            "xla", "boolean", False,
            "Compile each tower's model (forward and gradients) with XLA; on GPUs XLA also "
            "clusters the rest of the graph. Faster on some networks, slower on others: "
            "measure with bench/training_speed.py.",
        ),
        FlagSpec(
            "num_inter_threads", "integer", 0,
            "TensorFlow inter-op thread pool size; 0 lets TensorFlow choose.",
        ),
        FlagSpec(
            "num_intra_threads", "integer", 0,
            "TensorFlow intra-op thread pool size; 0 lets TensorFlow choose.",
        ),
        FlagSpec(
            "server_protocol", "string", "grpc",
            "Protocol of the distributed TensorFlow servers (grpc).",
        ),
        FlagSpec(
            "seed", "integer", None,
            "Make runs reproducible: fix TensorFlow's graph seed (initializers, dropout, the "
            "datasets' shuffles), Python's and NumPy's with this number and make TensorFlow's "
            "ops and input pipelines deterministic, so the same command on the same data gives "
            "the same loss curve on CPU (slower input); a worker of a cluster adds its task "
            "index. Unset: a different run each time.",
        ),
    ]
