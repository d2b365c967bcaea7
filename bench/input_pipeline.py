"""Input pipeline throughput: ImageClassificationRawDataset against hand-written tf.data.

Generates a class-folder dataset of realistic JPEGs with Pillow (smooth shapes plus sensor-like
noise, 300-500 px, quality 90), then measures, in one process and one graph harness
(``tf.compat.v1.Session`` running ``get_next``, batch 32):

* ``mox``      ImageClassificationRawDataset(batch_size=32, augmentation_fn=vgg TRAIN 224);
* ``tf.data``  the best hand-written pipeline doing the same work: shuffled paths, parallel
               ``read_file`` + ``decode_jpeg`` + the same vgg function, batch, prefetch; two
               variants (one AUTOTUNE map, one map of 12 parallel calls as mox uses, a separate
               read stage as mox has for remote storage), the best one counts;
* ``keras``    ``keras.utils.image_dataset_from_directory(image_size=(224, 224))`` (its own
               work: decode and bilinear resize, no vgg crop/flip/means);
* ``decode``   the floor: read, decode and nearest resize to 224, nothing else.

Rounds alternate between pipelines so a busy neighbour slows all of them alike; each round
first runs a short untimed warm-up (what a pipeline's buffers filled while another one was
timed is no head start); the best and the median round are reported. Images/sec is wall-clock; CPU ms/image (process CPU time per
image, best round) is another view, less sensitive to other processes on the machine.

    python bench/input_pipeline.py            # 4 classes x 300 images, 3 rounds of 6 s
    python bench/input_pipeline.py --quick    # 2 classes x 60 images, 2 rounds of 2 s
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

BATCH = 32
SIZE = 224


def make_images(root: str, classes: int, per_class: int, seed: int = 0) -> None:
    """Realistic JPEGs: blurred colour fields with shapes and noise, 300-500 px a side."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    for c in range(classes):
        folder = os.path.join(root, f"class_{c}")
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            path = os.path.join(folder, f"img_{i:04d}.jpg")
            if os.path.exists(path):
                continue
            h, w = (int(v) for v in rng.integers(300, 501, 2))
            base = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3)).astype(np.uint8)
            image = Image.fromarray(base).resize((w, h), Image.BICUBIC)
            draw = ImageDraw.Draw(image)
            for _ in range(6):
                x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
                x1, y1 = x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2))
                fill = tuple(int(v) for v in rng.integers(0, 256, 3))
                (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill)
            image = image.filter(ImageFilter.GaussianBlur(1.2))
            noisy = np.asarray(image, np.int16) + rng.normal(0, 6, (h, w, 3)).astype(np.int16)
            Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, quality=90)


def list_files(root: str) -> tuple[list[str], list[int]]:
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    paths, labels = [], []
    for index, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, name))):
            paths.append(os.path.join(root, name, f))
            labels.append(index)
    return paths, labels


def augmentation(real_vgg: bool):
    import tensorflow as tf

    if real_vgg:
        import mox_core

        return mox_core.get_data_augmentation_fn("vgg_16", "TRAIN", SIZE, SIZE)

    def stand_in(image):  # decode happened already: resize and cast, like a pipeline would
        image = tf.image.resize(image, [SIZE, SIZE], method="nearest")
        return tf.cast(image, tf.float32)

    return stand_in


#: tf.data threads per pipeline (``--threads``): the same for every pipeline, so that a busy
#: machine's scheduler, which shares CPU time per thread, favours none of them
THREADS = {"n": 0}


def iterate(ds):
    import tensorflow as tf

    if THREADS["n"]:
        options = tf.data.Options()
        options.threading.private_threadpool_size = THREADS["n"]
        ds = ds.with_options(options)
    return tf.compat.v1.data.make_one_shot_iterator(ds).get_next()


def build_mox(root: str, aug):
    import mox_core

    meta = mox_core.ImageClassificationRawMetadata(root)
    dataset = mox_core.ImageClassificationRawDataset(meta, batch_size=BATCH, augmentation_fn=aug,
                                                     private_num_threads=THREADS["n"])
    return dataset.get(["image", "label"])


def build_handwritten(root: str, aug, parallel=None):
    import tensorflow as tf

    paths, labels = list_files(root)

    def load(path, label):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        return aug(image), label

    ds = tf.data.Dataset.from_tensor_slices((paths, labels)).shuffle(len(paths)).repeat()
    ds = ds.map(load, num_parallel_calls=parallel or tf.data.AUTOTUNE, deterministic=False)
    ds = ds.batch(BATCH).prefetch(tf.data.AUTOTUNE)
    return iterate(ds)


def build_handwritten_fixed(root: str, aug):
    return build_handwritten(root, aug, parallel=12)


def build_handwritten_split(root: str, aug):
    """Reading in its own parallel stage with a read-ahead buffer, as mox does for remote storage (local files: in the decode map)."""
    import tensorflow as tf

    paths, labels = list_files(root)
    ds = tf.data.Dataset.from_tensor_slices((paths, labels)).shuffle(len(paths)).repeat()
    ds = ds.map(lambda p, label: (tf.io.read_file(p), label), num_parallel_calls=8,
                deterministic=False).prefetch(256)
    ds = ds.map(lambda buf, label: (aug(tf.io.decode_jpeg(buf, channels=3)), label),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    ds = ds.batch(BATCH).prefetch(tf.data.AUTOTUNE)
    return iterate(ds)


def build_keras(root: str, aug):
    import keras

    ds = keras.utils.image_dataset_from_directory(
        root, image_size=(SIZE, SIZE), batch_size=BATCH, shuffle=True, verbose=False
    ).repeat()
    return iterate(ds)


def build_decode(root: str, aug):
    import tensorflow as tf

    paths, _ = list_files(root)

    def load(path):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        return tf.image.resize(image, [SIZE, SIZE], method="nearest"), 0

    ds = tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths)).repeat()
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    ds = ds.batch(BATCH).prefetch(tf.data.AUTOTUNE)
    return iterate(ds)


#: "tf.data" is reported as the best of its variants: one AUTOTUNE map, one map of 12 parallel
#: calls, a separate read stage
HANDWRITTEN = ("tf.data/auto", "tf.data/12", "tf.data/split")
PIPELINES = {"mox": build_mox, "tf.data/auto": build_handwritten,
             "tf.data/12": build_handwritten_fixed, "tf.data/split": build_handwritten_split,
             "keras": build_keras, "decode": build_decode}


class Runner:
    """One pipeline in its own graph and session, run in timed rounds."""

    def __init__(self, name: str, root: str, aug_factory) -> None:
        import tensorflow as tf

        self.graph = tf.Graph()
        with self.graph.as_default():
            self.fetch = PIPELINES[name](root, aug_factory())
        self.session = tf.compat.v1.Session(graph=self.graph)
        for _ in range(3):  # warm up: fill buffers, trace functions
            self.session.run(self.fetch)

    def round(self, seconds: float) -> tuple[float, float]:
        # first use up what the buffers filled while other pipelines were timed
        warm_up = time.perf_counter()
        while time.perf_counter() - warm_up < min(2.0, seconds / 4):
            self.session.run(self.fetch)
        images, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - wall0 < seconds:
            batch = self.session.run(self.fetch)
            images += len(batch[0])
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        return images / wall, 1000.0 * cpu / images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (seconds)")
    parser.add_argument("--data-dir", help="where to generate (and reuse) the images")
    parser.add_argument("--classes", type=int)
    parser.add_argument("--per-class", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float, help="length of one timed round")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="private tf.data thread pool of every pipeline (default: the CPU "
                             "count; 0: TensorFlow's shared pools)")
    args = parser.parse_args(argv)
    THREADS["n"] = args.threads
    classes = args.classes or (2 if args.quick else 4)
    per_class = args.per_class or (60 if args.quick else 300)
    rounds = args.rounds or (2 if args.quick else 3)
    seconds = args.seconds or (2.0 if args.quick else 6.0)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    root = args.data_dir or os.path.join(tempfile.gettempdir(), f"mox-bench-{classes}x{per_class}")
    started = time.perf_counter()
    make_images(root, classes, per_class)
    print(f"data: {classes} classes x {per_class} JPEGs (300-500 px) in {root} "
          f"({time.perf_counter() - started:.1f} s to make or check)")

    import tensorflow as tf

    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.WARN)
    try:
        augmentation(True)
        real_vgg = True
    except Exception as exc:  # the vgg pipeline is not installed: say so, measure a stand-in
        print(f"vgg_16 preprocessing unavailable ({exc}); using decode+resize as a stand-in")
        real_vgg = False
    print(f"work: {'vgg_16 TRAIN preprocessing' if real_vgg else 'stand-in'} at {SIZE}x{SIZE}, "
          f"batch {BATCH}; CPU cores: {os.cpu_count()}; tf.data threads per pipeline: "
          f"{args.threads or 'shared pools'}; TensorFlow {tf.__version__}")

    runners = {name: Runner(name, root, lambda: augmentation(real_vgg)) for name in PIPELINES}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in PIPELINES}
    for _ in range(rounds):
        for name, runner in runners.items():
            results[name].append(runner.round(seconds))
    best = {name: max(r[0] for r in rs) for name, rs in results.items()}
    median = {name: statistics.median(r[0] for r in rs) for name, rs in results.items()}
    cpu = {name: min(r[1] for r in rs) for name, rs in results.items()}
    for stat in (best, median, cpu):
        pick = min if stat is cpu else max
        stat["tf.data"] = pick(stat[name] for name in HANDWRITTEN)
    print(f"\n{'pipeline':13} {'best img/s':>10} {'median':>7} {'CPU ms/img':>10}  "
          f"rounds (images/s)")
    for name in PIPELINES:
        rounds_text = " ".join(f"{r[0]:.0f}" for r in results[name])
        print(f"{name:13} {best[name]:10.0f} {median[name]:7.0f} {cpu[name]:10.2f}  "
              f"{rounds_text}")
    print("\nratios of images/s, best round (median round); tf.data = its best variant")
    for label, a, b in (("mox / tf.data (same work)", "mox", "tf.data"),
                        ("mox / keras", "mox", "keras"),
                        ("mox / decode+resize only", "mox", "decode"),
                        ("tf.data / decode+resize", "tf.data", "decode")):
        target = "   target >= 0.95" if b == "tf.data" else ""
        print(f"  {label:28} {best[a] / best[b]:.3f} ({median[a] / median[b]:.3f}){target}")
    print(f"  {'CPU per image, mox / tf.data':28} {cpu['mox'] / cpu['tf.data']:.3f}")
    for runner in runners.values():
        runner.session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
