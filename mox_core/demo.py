"""``mox demo``: the whole job on a dataset generated here, in a few minutes on two CPU cores.

It writes a small image-classification dataset of class folders (``shapes``: circles, squares,
triangles and crosses of random size, place and colour on a noisy background, drawn with Pillow),
then runs what a newcomer would run by hand, printing each command first::

    mox train   --net lenet --data DIR/data/train --log-dir DIR/train
    mox eval    --data DIR/data/eval --checkpoint DIR/train          (prints accuracy)
    mox export  --checkpoint DIR/train --log-dir DIR/export
    mox predict --data DIR/data/eval --checkpoint DIR/export/1 --output DIR/predictions.csv

``write_shapes_dataset`` and ``shape_images`` are the generator, also used by ``examples/``;
``mox_core.commands.demo`` adds the command.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import numpy as np

from mox_core.commands.evaluate import evaluate
from mox_core.commands.export import export
from mox_core.commands.job_setup import print_metrics
from mox_core.commands.predict import predict
from mox_core.commands.train import train

SHAPES = ("circle", "cross", "square", "triangle")
_MARKER = ".mox-demo"


def _draw(shape: str, rng: np.random.Generator, size: int) -> Any:
    from PIL import Image, ImageDraw

    noise = rng.integers(0, 70, (size, size, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB")
    draw = ImageDraw.Draw(image)
    radius = rng.uniform(0.2, 0.38) * size
    cx, cy = rng.uniform(radius + 1, size - radius - 1, 2)
    color = tuple(int(c) for c in rng.integers(110, 256, 3))
    box = [cx - radius, cy - radius, cx + radius, cy + radius]
    if shape == "circle":
        draw.ellipse(box, fill=color)
    elif shape == "square":
        draw.rectangle(box, fill=color)
    elif shape == "triangle":
        draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)],
                     fill=color)
    else:
        width = max(2, int(radius / 2.5))
        draw.line([cx - radius, cy, cx + radius, cy], fill=color, width=width)
        draw.line([cx, cy - radius, cx, cy + radius], fill=color, width=width)
    return image


def shape_images(count: int, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` RGB uint8 images ``[count, size, size, 3]`` and their int64 labels
    (indices into ``SHAPES``), classes in turn."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(SHAPES)
    images = np.stack([np.asarray(_draw(SHAPES[label], rng, size)) for label in labels])
    return images, labels


def write_shapes_dataset(folder: str, images_per_class: int, size: int = 32,
                         seed: int = 0) -> str:
    """Write ``folder/<shape>/<n>.png``: ``images_per_class`` images of each shape."""
    if images_per_class < 1:
        raise ValueError(f"images_per_class must be at least 1, got {images_per_class}")
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        os.makedirs(os.path.join(folder, shape), exist_ok=True)
        for index in range(images_per_class):
            _draw(shape, rng, size).save(os.path.join(folder, shape, f"{shape}_{index:04d}.png"))
    return folder


def _prepare(workdir: str) -> None:
    """Create ``workdir``, or clear an earlier demo's results there (never anything else)."""
    if os.path.isdir(workdir) and os.listdir(workdir):
        if not os.path.exists(os.path.join(workdir, _MARKER)):
            raise ValueError(f"demo folder {workdir!r} exists and holds files that are not an "
                             f"earlier demo's; choose another one with --dir")
        for name in ("data", "train", "export", "predictions.csv"):
            path = os.path.join(workdir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
    os.makedirs(workdir, exist_ok=True)
    open(os.path.join(workdir, _MARKER), "w").close()


def run_demo(workdir: str = "mox-shapes-demo", steps: int = 600, images_per_class: int = 200,
             progress: bool = True) -> dict[str, Any]:
    """Generate the dataset, train lenet, evaluate, export, predict from the export.

    Returns the accuracy, the export folder and the predictions CSV's path.
    """
    def say(command: str) -> None:
        print(f"\n$ {command}", flush=True)

    _prepare(workdir)
    train_dir = os.path.join(workdir, "data", "train")
    eval_dir = os.path.join(workdir, "data", "eval")
    log_dir = os.path.join(workdir, "train")
    export_root = os.path.join(workdir, "export")
    output = os.path.join(workdir, "predictions.csv")
    print(f"Writing {len(SHAPES)} classes of generated images ({', '.join(SHAPES)}) to "
          f"{os.path.join(workdir, 'data')} ...", flush=True)
    write_shapes_dataset(train_dir, images_per_class, seed=1)
    write_shapes_dataset(eval_dir, max(images_per_class // 4, 1), seed=2)

    # lenet's recipe, as a user's first `mox train` gets it
    say(f"mox train --net lenet --data {train_dir} --log-dir {log_dir} --max-steps {steps}")
    train("lenet", train_dir, log_dir, max_steps=steps, log_every=50, progress=progress)
    say(f"mox eval --data {eval_dir} --checkpoint {log_dir}")
    metrics = evaluate(eval_dir, log_dir)
    print_metrics(metrics)
    say(f"mox export --checkpoint {log_dir} --log-dir {export_root}")
    export_dir = export(log_dir, export_root)
    print(f"exported SavedModel: {export_dir}")
    say(f"mox predict --data {eval_dir} --checkpoint {export_dir} --output {output}")
    rows = predict(eval_dir, export_dir, output, top_k=2)
    with open(output, encoding="utf-8") as handle:
        head = [next(handle).rstrip("\n") for _ in range(min(rows, 4) + 1)]
    print(f"wrote {rows} predictions to {output}:")
    print("\n".join(f"    {line}" for line in head))
    print(f"\nDone. TensorBoard: tensorboard --logdir {log_dir}")
    return {"accuracy": metrics["accuracy"], "export_dir": export_dir, "predictions": output}
