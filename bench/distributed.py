"""Steps/sec of distributed ``mox.run`` on loopback: 1 worker vs 2 workers, async and sync.

    python bench/distributed.py                 # 300 local steps per worker after 30 warm-up
    python bench/distributed.py --steps 100 --warmup 20

Each configuration is a real cluster (1 ps task + 1 or 2 workers, started by ``mox launch``)
training the same small MLP (784-256-10, batch 64, SGD, synthetic in-memory data). Every
worker times its own steps after the warm-up; the table shows each configuration's worker
steps/sec summed over its workers (the samples it processes per second / 64) and the ratio to
the single worker. All processes share this machine's cores, so on a small machine the ratios
show the cost of the ps round trips and of the synchronisation, not the speed-up of separate
machines.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time

BATCH = 64
CONFIGS = [("1 worker", 1, "false"), ("2 workers async", 2, "false"),
           ("2 workers sync", 2, "true")]


def _worker_main() -> None:
    import numpy as np
    import tensorflow.compat.v1 as tf

    import mox_core as mox

    tf.flags.DEFINE_integer("steps", 300, "local steps of each worker")
    tf.flags.DEFINE_integer("warmup", 30, "untimed first steps")
    flags = tf.flags.FLAGS

    class Timer(mox.AggregativeSessionRunHook):
        def begin(self):
            self.count, self.start = 0, None

        def after_run(self, run_context, run_values):
            self.count += 1
            if self.count == flags.warmup:
                self.start = time.perf_counter()

        def end(self, session):
            if self.start is not None:
                print(f"BENCH steps={self.count - flags.warmup} "
                      f"seconds={time.perf_counter() - self.start:.6f}", flush=True)

    rng = np.random.default_rng(0)
    images = rng.normal(size=(1024, 784)).astype("float32")
    labels = rng.integers(0, 10, size=1024).astype("int64")

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        x, y = inputs
        w1 = tf.get_variable("hidden/kernel", [784, 256])
        b1 = tf.get_variable("hidden/bias", [256], initializer=tf.zeros_initializer())
        w2 = tf.get_variable("logits/kernel", [256, 10])
        b2 = tf.get_variable("logits/bias", [10], initializer=tf.zeros_initializer())
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss}, hooks=[Timer()])

    def main(argv):
        mox.run(input_fn=input_fn, model_fn=model_fn,
                optimizer_fn=mox.get_optimizer_fn("sgd", 0.01), run_mode=mox.ModeKeys.TRAIN,
                batch_size=BATCH, max_number_of_steps=flags.steps + flags.warmup,
                log_every_n_steps=1000)

    tf.app.run(main)


def _run(workers: int, sync: str, steps: int, warmup: int) -> list[float]:
    from mox_core.launch import launch

    out = io.BytesIO()
    command = [sys.executable, os.path.abspath(__file__), f"--steps={steps}",
               f"--warmup={warmup}", f"--sync_replicas={sync}"]
    code = launch(command, num_ps=1, num_workers=workers, out=out)
    text = out.getvalue().decode(errors="replace")
    if code != 0:
        raise SystemExit(f"the cluster failed (exit code {code}):\n{text[-3000:]}")
    rates = [int(n) / float(s) for n, s in re.findall(r"BENCH steps=(\d+) seconds=([\d.]+)",
                                                      text)]
    if len(rates) != workers:
        raise SystemExit(f"expected {workers} timing line(s), found {len(rates)}:\n"
                         f"{text[-3000:]}")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="timed local steps per worker")
    parser.add_argument("--warmup", type=int, default=30, help="untimed first steps")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(f"distributed mox.run on loopback, 1 ps task, MLP 784-256-10, batch {BATCH}, "
          f"{args.steps} timed steps per worker; {os.cpu_count()} CPU core(s)")
    results = []
    for name, workers, sync in CONFIGS:
        rates = _run(workers, sync, args.steps, args.warmup)
        results.append((name, rates))
    base = sum(results[0][1])
    print(f"{'configuration':<18}{'per worker steps/s':>22}{'total steps/s':>15}"
          f"{'samples/s':>11}{'vs 1 worker':>13}")
    for name, rates in results:
        total = sum(rates)
        each = ", ".join(f"{r:.1f}" for r in rates)
        print(f"{name:<18}{each:>22}{total:>15.1f}{total * BATCH:>11.0f}{total / base:>12.2f}x")
    print(f"Note: every task shares this machine's {os.cpu_count()} core(s), so the ratios "
          f"show the overhead of parameter-server round trips and of synchronisation (and how "
          f"much of it a second worker hides), not the speed-up that separate machines would "
          f"give (see docs/distributed.md).")


if __name__ == "__main__":
    if any(arg.startswith("--job_name=") for arg in sys.argv[1:]):
        _worker_main()
    else:
        main()
