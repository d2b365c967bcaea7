"""``mox demo``: the whole job on a generated dataset (``mox_core.demo`` does the work)."""

from __future__ import annotations

import argparse
from typing import Any

from mox_core.demo import run_demo


def cmd_demo(args: argparse.Namespace) -> int:
    run_demo(args.dir, steps=args.steps, images_per_class=args.images_per_class,
             progress=not args.quiet)
    return 0


def register(sub: Any) -> None:
    """Add ``demo`` to the ``mox`` subparsers."""
    p = sub.add_parser(
        "demo", allow_abbrev=False,
        help="generate a small image dataset, then train lenet, evaluate, export and predict",
    )
    p.add_argument("--dir", default="mox-shapes-demo",
                   help="working folder (default ./mox-shapes-demo; an earlier demo's results there "
                        "are replaced)")
    p.add_argument("--steps", type=int, default=600, help="training steps (default 600)")
    p.add_argument("--images-per-class", type=int, default=200,
                   help="training images per class (default 200; eval gets a quarter)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo, framework_flags=True)
