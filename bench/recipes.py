"""Training recipes: does ``mox train`` learn with nothing but its defaults?

Generates one dataset (the demo's four shapes, drawn at random positions, sizes and colours:
``--train`` images of each class to train on, ``--held`` more of each, drawn with another seed,
held out), then for every network with a recipe (``--nets`` patterns to choose) runs, each in a
process of its own as a user would::

    mox train --net NAME --data DATA/train --log-dir LOG --image-size SIZE --quiet
    mox eval --data DATA/held --checkpoint LOG

with every other setting the network's recipe (``--max-steps`` caps the recipe's epochs for a
quick look). It prints, per network, the steps trained, the training time, the held-out
accuracy and where the recipe comes from; a network that fails prints its error's last line.
``--image-size`` (default 64) is the size every network trains at, where its default is larger:
the recipes are about optimization, not resolution, and 2 cores train 44 networks at 224 px
for a day. Networks whose stem cannot take the size (Inception v3 needs 75 px) are trained at
the smallest size they take, as the table shows.

    python bench/recipes.py --nets lenet cifarnet 'mobilenet_v1_0*'
    python bench/recipes.py --nets 'resnet_v1_*' --max-steps 300
    python bench/recipes.py                         # every installed network with a recipe
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

#: the smallest input some stems take (their stride-2 layers and valid paddings)
MIN_SIZE = {"inception_v3": 75, "inception_v4": 75, "inception_resnet_v2": 75,
            "overfeat": 231, "alexnet_v2": 224, "nasnet_large": 331, "pnasnet_large": 331}


def mox(*args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "mox_core.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def last_error(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["(no output)"])[-1][:100]


def run_one(name: str, data: str, size: int, max_steps: int | None, timeout: float) -> dict:
    log_dir = tempfile.mkdtemp(prefix=f"mox-recipe-{name}-")
    from mox_core.nets import get_model_meta

    size = max(min(size, get_model_meta(name).default_image_size), MIN_SIZE.get(name, 0))
    args = ["train", "--net", name, "--data", os.path.join(data, "train"), "--log-dir", log_dir,
            "--image-size", str(size), "--quiet"]
    if max_steps:
        args += ["--max-steps", str(max_steps)]
    try:
        return _train_and_evaluate(name, args, data, log_dir, size, timeout)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def _train_and_evaluate(name: str, args: list[str], data: str, log_dir: str, size: int,
                        timeout: float) -> dict:
    start = time.monotonic()
    trained = mox(*args, timeout=timeout)
    seconds = time.monotonic() - start
    row = {"net": name, "size": size, "seconds": seconds}
    if trained.returncode != 0:
        return {**row, "error": f"train: {last_error(trained)}"}
    plan = re.search(r"Recipe for \S+: (.*?) over (\d+) steps", trained.stderr)
    row["steps"] = int(plan.group(2)) if plan else 0
    evaluated = mox("eval", "--data", os.path.join(data, "held"), "--checkpoint", log_dir,
                    timeout=timeout)
    if evaluated.returncode != 0:
        return {**row, "error": f"eval: {last_error(evaluated)}"}
    accuracy = re.search(r"^accuracy: ([0-9.]+)$", evaluated.stdout, re.MULTILINE)
    row["accuracy"] = float(accuracy.group(1)) if accuracy else float("nan")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="*", default=["*"], metavar="PATTERN",
                        help="networks to train (shell patterns; default: all with a recipe)")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--train", type=int, default=200, help="training images per class")
    parser.add_argument("--held", type=int, default=50, help="held-out images per class")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="cap on training steps (default: the recipe's epochs)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per command")
    args = parser.parse_args(argv)

    from mox_core.demo import write_shapes_dataset
    from mox_core.plugins import registry

    networks = registry("networks")
    names = [name for name in networks.names()
             if networks.get(name).recipe is not None
             and any(fnmatch.fnmatchcase(name, pattern) for pattern in args.nets)]
    if not names:
        print(f"no installed network with a recipe matches {args.nets}")
        return 1
    data = tempfile.mkdtemp(prefix="mox-recipes-data-")
    write_shapes_dataset(os.path.join(data, "train"), args.train, size=args.image_size, seed=0)
    write_shapes_dataset(os.path.join(data, "held"), args.held, size=args.image_size, seed=1)
    print(f"{len(names)} networks; {4 * args.train} training and {4 * args.held} held-out "
          f"images of 4 classes, trained at {args.image_size} px\n")
    print(f"{'network':24} {'size':>4} {'steps':>6} {'minutes':>8} {'held-out':>9}  recipe")
    try:
        for name in names:
            row = run_one(name, data, args.image_size, args.max_steps, args.timeout)
            source = networks.get(name).recipe.source
            result = (f"{row['accuracy']:9.3f}" if "error" not in row else f"{'failed':>9}")
            print(f"{name:24} {row['size']:4d} {row.get('steps', 0):6d} "
                  f"{row['seconds'] / 60:8.1f} {result}  {row.get('error') or source}",
                  flush=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
