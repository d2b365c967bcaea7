"""Training speed: ``mox.run`` against a hand-written loop, Keras and (if installed) PyTorch.

One network -- ``resnet_v1_50`` or ``mobilenet_v1`` at 224 px (1000 classes, batch 16), or
``lenet`` at 28 px (one channel, 10 classes, batch 64: there the step is short and the
framework's overhead shows) -- is trained on the same synthetic in-memory data (``--pool`` batches of normal random
float32 images and uniform labels, drawn with one seed, ``tf.data.Dataset.from_tensor_slices``
``.repeat().batch(B).prefetch(1)``), with sparse softmax cross-entropy and momentum SGD
(0.9, fixed learning rate 0.01), these ways:

* ``hand``      a hand-written ``tf.compat.v1`` graph (``mox.get_model_fn`` for the network,
                the optimizer's ``minimize`` under the ``UPDATE_OPS`` control dependencies) and
                a ``tf.compat.v1.Session`` loop fetching the train op and the loss each step;
* ``mox_fp32``  ``mox.run(TRAIN)`` with the same ``input_fn``, network and loss, no
                ``log_dir``, ``log_every_n_steps=10``;
* ``mox_bf16``  the same with flag ``mixed_precision=bf16`` (TensorFlow's oneDNN bfloat16
                rewrite; ``mox_fp16``, flag ``mixed_precision=fp16``, with ``--device-check``);
* ``mox_xla``   the same with flag ``xla``;
* ``keras``     Keras ``model.fit`` (``verbose=0``) on the equivalent Keras model
                (``keras.applications.ResNet50`` / ``MobileNet``, a LeNet ``Sequential``), the
                same data, Keras' SGD with momentum 0.9;
* ``torch``     PyTorch (torchvision's ResNet-50, a MobileNet v1 and a LeNet written here), only
                when ``import torch`` works; otherwise a note says it was skipped.

Each variant runs in a worker process of its own (``--worker``), so that its peak resident
memory (``ru_maxrss``) is its own: the worker builds its model, runs ``--warmup`` untimed steps
and waits. The parent then runs ``--rounds`` rounds; in each it asks every worker in turn (the
first one rotating from round to round) for ``--steps`` steps, so only one worker computes at a
time and a busy neighbour slows every variant alike. A step is timed from the end of the one
before to its own end (a ``SessionRunHook`` in ``ModelSpec(hooks=...)`` for ``mox.run``, a Keras
callback, the loop itself), the time a worker waits for the parent uncounted; each chunk also
reports the worker's process CPU time. The tables show steps/sec (the median over rounds of each
round's median step), images/sec, CPU milliseconds per step (less sensitive to other
processes), the peak RSS, and the median over rounds of the per-round steps/sec ratio to
``hand`` and to ``keras``; then the loss of each variant at a few steps (warm-up included), side
by side, and the targets next to the figures (on resnet_v1_50 at 224 px: ``mox_fp32`` at least
0.97x ``hand`` and 1.3x ``keras``, ``mox_bf16`` at least 1.5x ``mox_fp32``, the peak RSS of
``mox.run`` at most Keras'; other networks show the same figures for reference). Every TensorFlow variant fixes the graph seed
(``mox.run``'s variants in ``model_fn``: not flag ``seed``, whose deterministic ops would cost
time), so the ``mox.run`` variants start from the same weights and read the same batches.

The workers start (import, build, warm up) side by side; a variant that fails shows its error
in its row, its worker's log is kept (the path is printed) and the script exits 1.

``--device-check`` runs the same on a GPU when TensorFlow sees one: NCHW for ``hand`` and the
``mox.run`` variants, ``mixed_precision=fp16`` instead of ``bf16``; without a GPU it says so and
exits 0.

    python bench/training_speed.py                              # all three networks
    python bench/training_speed.py --nets resnet_v1_50 --steps 20 --rounds 5
    python bench/training_speed.py --variants hand,mox_fp32,keras --nets lenet
    python bench/training_speed.py --quick                      # lenet, a few steps (seconds)
    python bench/training_speed.py --device-check               # on a machine with a GPU
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SEED = 0
LEARNING_RATE = 0.01
MOMENTUM = 0.9
LOG_EVERY = 10
#: network -> (image size, classes, channels, batch, steps per round, warm-up steps)
NETS = {
    "resnet_v1_50": (224, 1000, 3, 16, 10, 5),
    "mobilenet_v1": (224, 1000, 3, 16, 10, 5),
    "lenet": (28, 10, 1, 64, 50, 20),
}
#: variant -> the name in the tables
VARIANTS = {"hand": "hand", "mox_fp32": "mox fp32", "mox_bf16": "mox bf16",
            "mox_fp16": "mox fp16", "mox_xla": "mox xla", "keras": "keras", "torch": "torch"}
CPU_VARIANTS = ("hand", "mox_fp32", "mox_bf16", "mox_xla", "keras", "torch")
GPU_VARIANTS = ("hand", "mox_fp32", "mox_fp16", "mox_xla", "keras", "torch")
#: what a worker's protocol lines start with (anything else on its stdout is ignored)
PREFIX = "@@ "
#: the log lines of mox.run that say what it computes in, shown under the table
DECISION = re.compile(r"computing in|mixed.precision|bfloat16|float16|xla", re.IGNORECASE)
#: the targets: (numerator, denominator, at least), on resnet_v1_50 (steps/sec ratios)
TARGETS = (("mox_fp32", "hand", 0.97), ("mox_fp32", "keras", 1.3), ("mox_bf16", "mox_fp32", 1.5))
TARGET_NET = "resnet_v1_50"


# =========================================================================== the worker


class Protocol:
    """The worker's side of the conversation: JSON lines to the parent, commands from stdin.

    The lines go to a copy of the original stdout; stdout itself is pointed at stderr, so that
    whatever a library prints cannot garble them.
    """

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        sys.stdout.flush()
        os.dup2(2, 1)

    def send(self, message: dict) -> None:
        self.out.write(PREFIX + json.dumps(message) + "\n")
        self.out.flush()

    @staticmethod
    def command() -> str:
        return sys.stdin.readline().strip() or "stop"


class Steps:
    """Times each step, from the end of the one before (or from the parent's go) to its end.

    ``done(loss)`` is called after every step. After ``warmup`` steps it reports ``ready``,
    then after every ``chunk`` steps the chunk's step times and process CPU time, and each time
    waits for the parent's next command (the wait is not timed). Returns True when the parent
    said ``stop``: the variant then ends its training.
    """

    def __init__(self, protocol: Protocol, warmup: int, chunk: int) -> None:
        self.protocol, self.warmup, self.chunk = protocol, warmup, chunk
        self.losses: list[float] = []
        self.walls: list[float] = []
        self.count = 0
        self.last = self.cpu = 0.0

    def begin(self) -> None:
        self.last, self.cpu = time.perf_counter(), time.process_time()

    def done(self, loss) -> bool:
        now = time.perf_counter()
        self.losses.append(float(loss))
        self.walls.append(now - self.last)
        self.count += 1
        if self.count == self.warmup:
            message = {"ready": True, "warmup_s": sum(self.walls)}
        elif self.count > self.warmup and (self.count - self.warmup) % self.chunk == 0:
            message = {"walls": self.walls, "cpu": time.process_time() - self.cpu}
        else:
            self.last = now
            return False
        self.protocol.send(message)
        if self.protocol.command() != "run":
            return True
        self.walls = []
        self.begin()
        return False


def synthetic_data(args):
    """The in-memory data every variant trains on: ``pool`` batches, NHWC float32 images."""
    rng = np.random.default_rng(SEED)
    count = args.pool * args.batch
    images = rng.standard_normal((count, args.image_size, args.image_size, args.channels),
                                 dtype=np.float32)
    labels = rng.integers(0, args.classes, count).astype(np.int64)
    return images, labels


def dataset(args):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(synthetic_data(args)).repeat()


def cross_entropy(labels, logits):
    import tensorflow.compat.v1 as tf

    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=tf.cast(logits, tf.float32)))


def network_fn(args):
    import mox_core as mox

    return mox.get_model_fn(args.net, mox.ModeKeys.TRAIN, args.classes,
                            data_format="NCHW" if args.device_check else "NHWC")


def train_hand(args, steps: Steps, notes: dict) -> None:
    import tensorflow.compat.v1 as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(SEED)
        global_step = tf.train.get_or_create_global_step()
        with tf.device("/cpu:0"):
            batches = dataset(args).batch(args.batch).prefetch(1)
            images, labels = tf.data.make_one_shot_iterator(batches).get_next()
        logits, _ = network_fn(args)(images)
        loss = cross_entropy(labels, logits)
        optimizer = tf.train.MomentumOptimizer(LEARNING_RATE, MOMENTUM)
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train_op = optimizer.minimize(loss, global_step=global_step)
        config = tf.ConfigProto(allow_soft_placement=True)
        if args.threads:
            config.inter_op_parallelism_threads = config.intra_op_parallelism_threads = (
                args.threads)
        session = tf.Session(config=config)
        session.run(tf.global_variables_initializer())
    fetches = [train_op, loss]
    steps.begin()
    while True:
        _, value = session.run(fetches)
        if steps.done(value):
            break
    session.close()


def train_mox(args, steps: Steps, notes: dict) -> None:
    import tensorflow.compat.v1 as tf

    import mox_core as mox

    class ChunkHook(mox.AggregativeSessionRunHook):
        """Fetches the loss with each step (the loss guard fetches it anyway) and tells Steps."""

        def __init__(self, loss) -> None:
            self.loss = loss

        def begin(self) -> None:
            self.started = False

        def before_run(self, run_context):
            if not self.started:
                self.started = True
                steps.begin()
            return tf.train.SessionRunArgs(self.loss)

        def after_run(self, run_context, run_values):
            if steps.done(run_values.results):
                run_context.request_stop()

    def input_fn(mode):
        return dataset(args)

    def model_fn(inputs, mode):
        tf.set_random_seed(SEED)  # the run's graph: each variant draws the same weights
        images, labels = inputs
        logits, _ = network_fn(args)(images)
        loss = cross_entropy(labels, logits)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss}, hooks=[ChunkHook(loss)])

    class Decisions(logging.Handler):
        """Keeps what mox.run says it computes in (precision, XLA) for the notes."""

        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if DECISION.search(message) and "computes" not in notes:
                notes["computes"] = message.strip()

    tf.get_logger().addHandler(Decisions())
    if args.threads:
        mox.set_flag("num_inter_threads", args.threads)
        mox.set_flag("num_intra_threads", args.threads)
    if args.worker in ("mox_bf16", "mox_fp16"):
        mox.set_flag("mixed_precision", args.worker[-4:])
    if args.worker == "mox_xla":
        mox.set_flag("xla", True)
    mox.run(input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("momentum", LEARNING_RATE, momentum=MOMENTUM),
            run_mode=mox.ModeKeys.TRAIN, batch_size=args.batch,
            max_number_of_steps=args.max_steps, log_every_n_steps=LOG_EVERY)


def keras_model(args):
    import keras

    shape = (args.image_size, args.image_size, args.channels)
    if args.net == "resnet_v1_50":
        return keras.applications.ResNet50(weights=None, input_shape=shape,
                                           classes=args.classes, classifier_activation=None)
    if args.net == "mobilenet_v1":
        return keras.applications.MobileNet(weights=None, alpha=1.0, input_shape=shape,
                                            classes=args.classes, classifier_activation=None)
    if args.net == "lenet":  # TF-Slim's lenet
        layers = keras.layers
        return keras.Sequential([
            keras.Input(shape),
            layers.Conv2D(32, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(1024, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(args.classes),
        ])
    raise ValueError(f"no Keras model for {args.net!r}")


def train_keras(args, steps: Steps, notes: dict) -> None:
    import keras
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(SEED)

    class ChunkCallback(keras.callbacks.Callback):
        """Keras logs the epoch's running mean of the loss: the step's loss is recovered."""

        def __init__(self) -> None:
            super().__init__()
            self.mean = 0.0

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                steps.begin()

        def on_train_batch_end(self, batch, logs=None):
            mean = float(logs["loss"])
            loss = (batch + 1) * mean - batch * self.mean
            self.mean = mean
            if steps.done(loss):
                self.model.stop_training = True

    model = keras_model(args)
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batches = dataset(args).batch(args.batch).prefetch(1)
    model.fit(batches, epochs=1, steps_per_epoch=args.max_steps, verbose=0,
              callbacks=[ChunkCallback()])
    notes["keras"] = f"keras {keras.__version__}, jit_compile={model.jit_compile}"


def torch_model(args, torch):
    nn = torch.nn
    if args.net == "resnet_v1_50":
        import torchvision

        return torchvision.models.resnet50(weights=None, num_classes=args.classes)
    if args.net == "mobilenet_v1":
        def separable(inputs, outputs, stride):
            return [nn.Conv2d(inputs, inputs, 3, stride, 1, groups=inputs, bias=False),
                    nn.BatchNorm2d(inputs), nn.ReLU6(inplace=True),
                    nn.Conv2d(inputs, outputs, 1, bias=False), nn.BatchNorm2d(outputs),
                    nn.ReLU6(inplace=True)]

        plan = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1),
                (256, 512, 2)] + [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        body = [nn.Conv2d(args.channels, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32),
                nn.ReLU6(inplace=True)]
        for inputs, outputs, stride in plan:
            body += separable(inputs, outputs, stride)
        return nn.Sequential(*body, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(1024, args.classes))
    if args.net == "lenet":
        side = args.image_size // 4
        return nn.Sequential(
            nn.Conv2d(args.channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(64 * side * side, 1024), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(1024, args.classes))
    raise ValueError(f"no PyTorch model for {args.net!r}")


def train_torch(args, steps: Steps, notes: dict) -> None:
    import torch

    torch.manual_seed(SEED)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device_check else "cpu")
    images, labels = synthetic_data(args)
    images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
    labels = torch.from_numpy(labels).to(device)
    model = torch_model(args, torch).to(device)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    notes["torch"] = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    steps.begin()
    for step in range(args.max_steps):
        start = (step % args.pool) * args.batch
        batch = slice(start, start + args.batch)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images[batch]), labels[batch])
        loss.backward()
        optimizer.step()
        if steps.done(loss.item()):
            break


TRAINERS = {"hand": train_hand, "mox_fp32": train_mox, "mox_bf16": train_mox,
            "mox_fp16": train_mox, "mox_xla": train_mox, "keras": train_keras,
            "torch": train_torch}


def worker(args) -> int:
    """Build, warm up, run the chunks the parent asks for, then report the peak RSS."""
    protocol = Protocol()
    steps = Steps(protocol, args.warmup, args.steps)
    notes: dict[str, str] = {}
    try:
        if args.worker != "torch":
            import tensorflow as tf

            notes["tf"] = tf.__version__
        TRAINERS[args.worker](args, steps, notes)
    except BaseException as error:  # anything a variant raises is its result
        traceback.print_exc()
        lines = [line for line in str(error).splitlines() if line.strip()]
        protocol.send({"error": f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]})
        return 1
    protocol.send({"final": True, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                   / 1024, "losses": steps.losses, "notes": notes})
    return 0


# =========================================================================== the parent


class Worker:
    """A variant's worker process, seen from the parent."""

    def __init__(self, variant: str, args, log_dir: str) -> None:
        self.variant, self.name = variant, VARIANTS[variant]
        self.log_path = os.path.join(log_dir, f"{variant}.log")
        self.rounds: list[tuple[list[float], float]] = []  # (step walls, CPU seconds)
        self.final: dict = {}
        self.error: str | None = None
        command = [sys.executable, os.path.abspath(__file__), "--worker", variant,
                   "--net", args.net, "--image-size", str(args.image_size),
                   "--batch", str(args.batch), "--steps", str(args.steps),
                   "--warmup", str(args.warmup), "--pool", str(args.pool),
                   "--threads", str(args.threads), "--max-steps", str(args.max_steps),
                   "--classes", str(args.classes), "--channels", str(args.channels)]
        if args.device_check:
            command.append("--device-check")
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, text=True,
                                            bufsize=1)

    @property
    def alive(self) -> bool:
        return self.error is None

    def receive(self) -> dict:
        while True:
            line = self.process.stdout.readline()
            if not line:
                self.process.wait()
                return {"error": f"the worker exited ({self.process.returncode}): "
                                 f"{self.log_tail()}"}
            if line.startswith(PREFIX):
                return json.loads(line[len(PREFIX):])

    def ask(self, command: str) -> dict:
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # receive() reports the exit
        return self.check(self.receive())

    def check(self, message: dict) -> dict:
        if "error" in message:
            self.error = message["error"]
        return message

    def log_tail(self) -> str:
        with open(self.log_path, errors="replace") as log:
            lines = [line.strip() for line in log if line.strip()]
        errors = [line for line in lines if "Error" in line or "error" in line]
        return (errors or lines or ["(no output)"])[-1][:300]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo
                          if line.startswith("flags")), [])
    except OSError:
        return "/proc/cpuinfo unreadable"
    return ", ".join(f"{flag} {'yes' if flag in flags else 'no'}"
                     for flag in ("avx512_bf16", "amx_bf16"))


def net_settings(args, net: str) -> argparse.Namespace:
    size, classes, channels, batch, steps, warmup = NETS[net]
    if args.quick:
        steps, warmup, batch = 3, 2, min(batch, 16)
    settings = argparse.Namespace(**vars(args))
    settings.net, settings.classes, settings.channels = net, classes, channels
    settings.image_size = args.image_size or size
    settings.batch = args.batch or batch
    settings.steps = args.steps or steps
    settings.warmup = max(1, args.warmup if args.warmup is not None else warmup)
    settings.rounds = args.rounds or (2 if args.quick else 5)
    settings.max_steps = settings.warmup + settings.rounds * settings.steps + 10
    return settings


def measure(settings, variants: list[str]) -> tuple[list[Worker], list[str]]:
    """Start the workers, alternate the rounds between them, collect their reports."""
    notes = []
    if "torch" in variants and importlib.util.find_spec("torch") is None:
        notes.append("torch: skipped (import torch fails: PyTorch is not installed)")
        variants = [v for v in variants if v != "torch"]
    log_dir = tempfile.mkdtemp(prefix="mox-training-speed-")
    workers = [Worker(variant, settings, log_dir) for variant in variants]
    try:
        for worker in workers:  # they start (import, build, warm up) side by side
            worker.check(worker.receive())
        for index in range(settings.rounds):
            live = [w for w in workers if w.alive]
            shift = index % len(live) if live else 0
            for worker in live[shift:] + live[:shift]:
                reply = worker.ask("run")
                if worker.alive:
                    worker.rounds.append((reply["walls"], reply["cpu"]))
            print(f"  round {index + 1}/{settings.rounds}: " + ", ".join(
                f"{w.name} {1 / statistics.median(w.rounds[-1][0]):.2f}"
                for w in workers if w.alive and w.rounds) + " steps/s", flush=True)
        for worker in workers:
            if worker.alive:
                worker.final = worker.ask("stop")
    finally:
        for worker in workers:
            worker.close()
        if all(w.alive for w in workers):
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            notes.append(f"worker logs: {log_dir}")
    return workers, notes


def paired_ratio(a: Worker, b: Worker) -> float:
    """Median over rounds of a's steps/sec over b's (each round's median step)."""
    median = statistics.median
    return median(median(wb) / median(wa) for (wa, _), (wb, _) in zip(a.rounds, b.rounds))


def plural(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def loss_steps(count: int) -> list[int]:
    marks = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
    return sorted({m for m in marks if m < count} | ({count - 1} if count else set()))


def report(settings, workers: list[Worker], notes: list[str]) -> None:
    median = statistics.median
    done = {w.variant: w for w in workers if w.alive and w.rounds}
    print(f"\n{settings.net}, {settings.image_size} px, batch {settings.batch}, "
          f"{settings.classes} classes: {plural(settings.rounds, 'round')} of "
          f"{plural(settings.steps, 'timed step')} per variant after "
          f"{plural(settings.warmup, 'warm-up step')}")
    print(f"{'':10}{'steps/s':>9}{'images/s':>10}{'CPU ms/step':>13}{'peak RSS MiB':>14}"
          f"{'vs hand':>9}{'vs keras':>10}")
    for worker in workers:
        if worker.variant not in done:
            print(f"{worker.name:10}  failed: {worker.error}")
            continue
        rate = 1 / median(median(walls) for walls, _ in worker.rounds)
        cpu = 1000 * median(cpu for _, cpu in worker.rounds) / settings.steps
        ratios = [f"{paired_ratio(worker, done[other]):.3f}" if other in done else "-"
                  for other in ("hand", "keras")]
        print(f"{worker.name:10}{rate:9.3f}{rate * settings.batch:10.1f}{cpu:13.1f}"
              f"{worker.final.get('rss_mib', float('nan')):14.0f}{ratios[0]:>9}{ratios[1]:>10}")
    curves = {w.variant: w.final["losses"] for w in done.values() if w.final.get("losses")}
    if curves:
        print(f"\nloss at step (warm-up included; {'' if settings.device_check else 'CPU, '}"
              f"same seed and data)")
        print(f"{'step':>6}" + "".join(f"{VARIANTS[v]:>10}" for v in curves))
        for step in loss_steps(max(len(c) for c in curves.values())):
            print(f"{step:6d}" + "".join(f"{c[step]:10.4f}" if step < len(c) else f"{'':10}"
                                         for c in curves.values()))
        half = "mox_fp16" if settings.device_check else "mox_bf16"
        if half in curves and "mox_fp32" in curves:
            pairs = list(zip(curves["mox_fp32"], curves[half]))
            worst = max(abs(a - b) for a, b in pairs)
            print(f"{VARIANTS[half]} against mox fp32 over {len(pairs)} steps: largest "
                  f"|loss difference| {worst:.4f}, final losses {pairs[-1][0]:.4f} and "
                  f"{pairs[-1][1]:.4f}")
    print_targets(settings, done)
    for worker in done.values():
        extra = {k: v for k, v in worker.final.get("notes", {}).items() if k != "tf"}
        if extra:
            print(f"{worker.name}: " + "; ".join(extra.values()))
    for note in notes:
        print(note)


def print_targets(settings, done: dict[str, Worker]) -> None:
    targets = list(TARGETS)
    if settings.device_check:  # no target for float16 on a GPU: shown for reference
        targets = [t if t[0] != "mox_bf16" else ("mox_fp16", "mox_fp32", None) for t in targets]
    applies = settings.net == TARGET_NET and settings.image_size == NETS[TARGET_NET][0]
    print(f"\ntargets{'' if applies else f' (set on {TARGET_NET} at 224 px; for reference)'}:")
    shown = 0
    for variant, other, least in targets:
        if variant in done and other in done:
            ratio = paired_ratio(done[variant], done[other])
            verdict = ("" if least is None or not applies
                       else "  met" if ratio >= least else "  NOT met")
            wanted = f">= {least}x" if least is not None else "no target"
            print(f"  {VARIANTS[variant]} / {VARIANTS[other]} steps/s: {ratio:.3f}  "
                  f"({wanted}){verdict}")
            shown += 1
    if "keras" in done:
        keras_rss = done["keras"].final["rss_mib"]
        for variant in ("mox_fp32", "mox_bf16", "mox_fp16", "mox_xla"):
            if variant in done:
                rss = done[variant].final["rss_mib"]
                verdict = "" if not applies else "  met" if rss <= keras_rss else "  NOT met"
                print(f"  peak RSS {VARIANTS[variant]} {rss:.0f} MiB <= keras {keras_rss:.0f} "
                      f"MiB{verdict}")
                shown += 1
    if not shown:
        print("  (none: they compare variants that were not measured)")


def gpu_names() -> list[str]:
    import tensorflow as tf

    return [gpu.name for gpu in tf.config.list_physical_devices("GPU")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="+", choices=sorted(NETS), default=None,
                        help="networks (default: all three; lenet with --quick)")
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated subset of {','.join(VARIANTS)} (default: "
                             f"{','.join(CPU_VARIANTS)}; with --device-check mox_fp16 for "
                             f"mox_bf16)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="image height and width (default: 224, lenet 28)")
    parser.add_argument("--batch", type=int, default=None,
                        help="batch size (default: 16, lenet 64)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per variant per round (default: 10, lenet 50)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default: 5)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps first (default: 5, lenet 20; at least 1)")
    parser.add_argument("--pool", type=int, default=4,
                        help="distinct batches of synthetic data held in memory (default: 4)")
    parser.add_argument("--threads", type=int, default=0,
                        help="inter/intra-op threads of every variant (0: the framework's)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run: lenet, 2 rounds of 3 steps after 2, batch 16")
    parser.add_argument("--device-check", action="store_true",
                        help="run on the GPU (NCHW, mixed_precision=fp16); exits 0 without one")
    for hidden in ("--worker", "--net"):
        parser.add_argument(hidden, default=None, help=argparse.SUPPRESS)
    for hidden in ("--max-steps", "--classes", "--channels"):
        parser.add_argument(hidden, type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    choices = GPU_VARIANTS if args.device_check else CPU_VARIANTS
    variants = args.variants.split(",") if args.variants else list(choices)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    nets = args.nets or (["lenet"] if args.quick else list(NETS))
    if args.device_check:
        gpus = gpu_names()
        if not gpus:
            print("--device-check: TensorFlow sees no GPU (tf.config.list_physical_devices("
                  "'GPU') is empty): nothing to check")
            return 0
        where = f"GPU: {', '.join(gpus)} (NCHW for hand and mox.run, mixed_precision=fp16)"
    else:
        where = f"CPU: {os.cpu_count()} cores; {cpu_flags()}"
    print(f"training speed: {', '.join(nets)}; variants {', '.join(variants)}; {where}; "
          f"threads {args.threads or 'default'}; momentum SGD {MOMENTUM}, learning rate "
          f"{LEARNING_RATE}; {args.pool} batches of synthetic data", flush=True)
    failed = 0
    for net in nets:
        settings = net_settings(args, net)
        print(f"\n{net}: {settings.image_size} px, batch {settings.batch}; starting "
              f"{len(variants)} workers ...", flush=True)
        start = time.perf_counter()
        workers, notes = measure(settings, variants)
        versions = {w.final.get("notes", {}).get("tf") for w in workers} - {None}
        notes.append(f"TensorFlow {', '.join(sorted(versions)) or '?'}; {net} took "
                     f"{time.perf_counter() - start:.0f} s")
        report(settings, workers, notes)
        failed += sum(not w.alive for w in workers)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
