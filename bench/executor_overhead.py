"""Executor overhead: ``mox.run`` against a hand-written ``tf.compat.v1`` session loop.

One small model -- an MLP 784-512-512-10 (ReLU), softmax cross-entropy, plain SGD, batch 64,
on synthetic in-memory data -- trained these ways in one process:

* ``hand``     a hand-written loop: one graph, ``tf.data`` (from_tensor_slices, repeat, batch,
               prefetch(1): what ``mox.run`` builds from the same ``input_fn``), a
               ``tf.compat.v1.Session`` running the train op each step and, every 10 steps,
               the train op with loss, accuracy and the global step, logged in MoXing's line
               through TensorFlow's logger;
* ``mox``      ``mox.run(TRAIN)`` with the same ``input_fn`` / model / optimizer,
               ``log_every_n_steps=10`` and no ``log_dir`` (so no checkpoints or summaries,
               as in the hand loop): the comparison that counts;
* ``mox+dir``  the same with a ``log_dir``: TensorBoard summaries every 100 steps and the
               checkpoints at the start and the end (outside the timed steps), for reference;
* ``keras``    Keras ``model.fit`` on the same architecture, data pipeline, optimizer and
               batch, with its defaults (``verbose=0``), for reference.

On a shared machine, runs one after the other see different loads, so each variant is timed
against the hand loop *in alternating chunks*: after ``--warmup`` untimed steps of both, every
chunk of the variant's steps (counted by a hook in ``ModelSpec(hooks=...)`` or a Keras
callback, neither adding a fetch) is followed by as many steps of a hand loop kept open beside
it. ``--steps`` timed steps are cut into ``--repeats`` chunks; the figures are medians over the
chunks, the ratios medians of the per-chunk ratios. Besides steps/sec (wall clock) the table
shows process CPU milliseconds per step, less sensitive to other processes.

    python bench/executor_overhead.py                 # 2000 timed steps in 20 chunks
    python bench/executor_overhead.py --steps 500 --repeats 5 --threads 1
    python bench/executor_overhead.py --profile       # cProfile of one mox.run, top entries
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

BATCH = 64
HIDDEN = 512
CLASSES = 10
LEARNING_RATE = 0.01
LOG_EVERY = 10
RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(8192, 784)).astype(np.float32)
LABELS = RNG.integers(0, CLASSES, 8192).astype(np.int64)
NOTES: dict[str, str] = {}  # variant -> what it ran with, printed under the table


class Clock:
    """Wall and process CPU time between ``start()`` and ``stop()``."""

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


# --------------------------------------------------------------------------- the model


def input_fn(mode=None):
    import tensorflow.compat.v1 as tf

    return tf.data.Dataset.from_tensor_slices((FEATURES, LABELS)).repeat()


def dense(inputs, units, name):
    import tensorflow.compat.v1 as tf

    fan_in = int(inputs.shape[-1])
    weights = tf.get_variable(f"{name}/kernel", [fan_in, units],
                              initializer=tf.glorot_uniform_initializer())
    biases = tf.get_variable(f"{name}/bias", [units], initializer=tf.zeros_initializer())
    return tf.matmul(inputs, weights) + biases


def mlp(features, labels):
    """Loss and accuracy of the MLP (Keras' Dense layers' initializers, so all three match)."""
    import tensorflow.compat.v1 as tf

    hidden = tf.nn.relu(dense(features, HIDDEN, "dense"))
    hidden = tf.nn.relu(dense(hidden, HIDDEN, "dense_1"))
    logits = dense(hidden, CLASSES, "dense_2")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
    return loss, accuracy


def session_config(threads: int):
    import tensorflow.compat.v1 as tf

    return tf.ConfigProto(allow_soft_placement=True, inter_op_parallelism_threads=threads,
                          intra_op_parallelism_threads=threads)


# --------------------------------------------------------------------------- the three ways


class HandLoop:
    """The hand-written loop, run ``steps`` at a time between the compared variant's steps."""

    def __init__(self, threads: int) -> None:
        import tensorflow.compat.v1 as tf

        self.tf = tf
        self.graph = tf.Graph()
        with self.graph.as_default():
            global_step = tf.train.get_or_create_global_step()
            with tf.device("/cpu:0"):
                dataset = input_fn().batch(BATCH).prefetch(1)
                features, labels = tf.data.make_one_shot_iterator(dataset).get_next()
            loss, accuracy = mlp(features, labels)
            self.train_op = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(
                loss, global_step=global_step)
            self.logged = [self.train_op, global_step, loss, accuracy]
            self.session = tf.Session(config=session_config(threads))
            self.session.run(tf.global_variables_initializer())
        self.step, self.samples, self.since = 0, 0, time.perf_counter()

    def run(self, steps: int) -> tuple[float, float]:
        clock = Clock()
        clock.start()
        for _ in range(steps):
            self.samples += BATCH
            if self.step % LOG_EVERY == 0:
                _, at, loss_value, accuracy_value = self.session.run(self.logged)
                now = time.perf_counter()
                self.tf.logging.info("step: %d(global step: %d)\tsample/sec: %.3f\tloss: %.3f\t"
                                     "accuracy: %.3f", self.step, at, self.samples / (
                                         now - self.since), loss_value, accuracy_value)
                self.since, self.samples = now, 0
            else:
                self.session.run(self.train_op)
            self.step += 1
        return clock.stop()

    def close(self) -> None:
        self.session.close()


class Pairing:
    """Times the compared variant and the hand loop in alternating chunks of steps.

    ``step_done()`` is called after each of the variant's steps (from a session hook or a Keras
    callback). After ``warmup`` steps of each, every ``chunk`` steps of the variant are followed
    by ``chunk`` steps of the hand loop, so both run under the same load; each pair is one
    sample: (variant wall, variant CPU, hand wall, hand CPU) seconds.
    """

    def __init__(self, hand: HandLoop, warmup: int, chunk: int, chunks: int) -> None:
        self.hand, self.warmup, self.chunk, self.chunks = hand, warmup, chunk, chunks
        self.samples: list[tuple[float, float, float, float]] = []
        self.clock = Clock()
        self.done = 0

    @property
    def steps(self) -> int:
        return self.warmup + self.chunk * self.chunks

    def step_done(self) -> None:
        self.done += 1
        if self.done == self.warmup:
            self.hand.run(self.warmup)
            self.clock.start()
        elif self.done > self.warmup and (self.done - self.warmup) % self.chunk == 0:
            variant = self.clock.stop()
            self.samples.append((*variant, *self.hand.run(self.chunk)))
            self.clock.start()


def mox_run(pairing: Pairing, threads: int, log_dir: str | None) -> None:
    import mox_core as mox

    class StepHook(mox.AggregativeSessionRunHook):
        """Tells the pairing after each step (it adds no fetch to the step)."""

        def after_run(self, run_context, run_values):
            pairing.step_done()

    def model_fn(inputs, mode):
        loss, accuracy = mlp(*inputs)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss, "accuracy": accuracy},
                             hooks=[StepHook()])

    mox.set_flag("num_inter_threads", threads)
    mox.set_flag("num_intra_threads", threads)
    mox.run(input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("sgd", learning_rate=LEARNING_RATE),
            run_mode=mox.ModeKeys.TRAIN, batch_size=BATCH, log_dir=log_dir,
            max_number_of_steps=pairing.steps, log_every_n_steps=LOG_EVERY)


def keras_fit(pairing: Pairing, threads: int) -> None:
    import keras
    import tensorflow as tf

    class StepCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pairing.step_done()

    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(HIDDEN, activation="relu"),
        keras.layers.Dense(HIDDEN, activation="relu"),
        keras.layers.Dense(CLASSES),
    ])
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    NOTES["keras"] = f"keras {keras.__version__}, jit_compile={model.jit_compile}"
    dataset = tf.data.Dataset.from_tensor_slices((FEATURES, LABELS)).repeat().batch(
        BATCH).prefetch(1)
    model.fit(dataset, epochs=1, steps_per_epoch=pairing.steps, verbose=0,
              callbacks=[StepCallback()])


# --------------------------------------------------------------------------- main


def configure_threads(threads: int) -> None:
    import tensorflow as tf

    if threads:  # Keras runs eagerly-created functions: set the eager context's pools too
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        tf.config.threading.set_intra_op_parallelism_threads(threads)


def quiet_logging() -> None:
    """Log lines still go through TensorFlow's logger (they are part of the work), unseen."""
    import logging

    import tensorflow.compat.v1 as tf

    logger = tf.get_logger()
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [logging.NullHandler()]
    logger.propagate = False


class NoHandLoop:
    """Stands in for the hand loop when only ``mox.run`` is looked at."""

    def run(self, steps: int) -> tuple[float, float]:
        return 0.0, 0.0


def profile_mox(args) -> None:
    pairing = Pairing(NoHandLoop(), args.warmup, args.steps, 1)
    profiler = cProfile.Profile()
    profiler.enable()
    mox_run(pairing, args.threads, None)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime")
    print(f"cProfile of one mox.run ({pairing.steps} steps, graph building included), sorted by "
          f"own time; TF_SessionRun_wrapper is TensorFlow running the graph, the rest Python:")
    stats.print_stats(30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000,
                        help="timed steps of each variant (and as many of the hand loop)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=20,
                        help="timed chunks the steps are cut into (medians are over them)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow inter/intra-op threads (0: TensorFlow's default)")
    parser.add_argument("--profile", action="store_true", help="profile one mox.run instead")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras out")
    args = parser.parse_args(argv)
    chunk = max(LOG_EVERY, args.steps // args.repeats // LOG_EVERY * LOG_EVERY)

    configure_threads(args.threads)
    quiet_logging()
    if args.profile:
        profile_mox(args)
        return

    log_root = tempfile.mkdtemp(prefix="mox-bench-")
    variants = {
        "mox": lambda pairing: mox_run(pairing, args.threads, None),
        "mox+dir": lambda pairing: mox_run(pairing, args.threads, tempfile.mkdtemp(dir=log_root)),
    }
    if not args.no_keras:
        variants["keras"] = lambda pairing: keras_fit(pairing, args.threads)
    samples = {}
    for name, train in variants.items():
        hand = HandLoop(args.threads)
        pairing = Pairing(hand, args.warmup, chunk, args.repeats)
        train(pairing)
        hand.close()
        samples[name] = pairing.samples
        ratios = [hand_wall / wall for wall, _, hand_wall, _ in pairing.samples]
        print(f"{name:8} against the hand loop, chunk by chunk: "
              + " ".join(f"{r:.2f}" for r in ratios), flush=True)

    median = statistics.median
    hand_walls = [hw for runs in samples.values() for _, _, hw, _ in runs]
    hand_cpus = [hc for runs in samples.values() for _, _, _, hc in runs]
    print(f"\nMLP 784-{HIDDEN}-{HIDDEN}-{CLASSES}, batch {BATCH}, SGD, log every {LOG_EVERY} "
          f"steps; each variant {args.repeats} chunks of {chunk} steps after {args.warmup} "
          f"warm-up, each chunk followed by {chunk} hand-loop steps; medians over chunks; "
          f"{os.cpu_count()} CPUs, threads={args.threads or 'default'}")
    print(f"{'':10}{'steps/sec':>11}{'vs hand':>9}{'CPU ms/step':>13}{'vs hand':>9}")
    print(f"{'hand':10}{chunk / median(hand_walls):11.1f}{1:9.3f}"
          f"{1000 * median(hand_cpus) / chunk:13.3f}{1:9.3f}")
    speed = {}
    for name, runs in samples.items():
        speed[name] = median(hw / w for w, _, hw, _ in runs)
        cpu = median(c / hc for _, c, _, hc in runs)
        print(f"{name:10}{chunk / median(w for w, _, _, _ in runs):11.1f}{speed[name]:9.3f}"
              f"{1000 * median(c for _, c, _, _ in runs) / chunk:13.3f}{cpu:9.3f}")
    print(f"\nmox.run / hand loop (steps/sec): {speed['mox']:.3f}")
    if "keras" in speed:
        print(f"mox.run / keras fit (steps/sec): {speed['mox'] / speed['keras']:.3f}")
    for name, note in NOTES.items():
        print(f"{name}: {note}")


if __name__ == "__main__":
    main()
