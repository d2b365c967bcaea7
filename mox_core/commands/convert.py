"""``mox convert``: a folder of class folders as sharded TFRecords in TF-Slim's format
(``mox_core.datasets.convert`` does the work)."""

from __future__ import annotations

import argparse
from typing import Any

from mox_core.datasets.convert import convert_to_tfrecord


def cmd_convert(args: argparse.Namespace) -> int:
    counts = convert_to_tfrecord(
        args.src, args.dst, num_shards=args.shards,
        validation_fraction=args.validation_fraction, name=args.name, seed=args.seed,
        skip_corrupt=args.skip_corrupt, overwrite=args.overwrite, progress=not args.quiet,
        follow_symlinks=args.follow_symlinks,
    )
    print(", ".join(f"{split}: {n} records" for split, n in counts.items()))
    return 0


def register(sub: Any) -> None:
    """Add ``convert`` to the ``mox`` subparsers."""
    p = sub.add_parser(
        "convert", help="convert a folder of class folders to sharded TFRecords (TF-Slim format)"
    )
    p.add_argument("src", help="dataset folder: one sub-folder of images per class")
    p.add_argument("dst", help="output folder for the .tfrecord shards and labels.txt")
    p.add_argument("--shards", type=int, default=None,
                   help="shards per split (default: about 100 MB of images per shard)")
    p.add_argument("--validation-fraction", type=float, default=0.0,
                   help="fraction of the images put in the 'validation' split (default 0)")
    p.add_argument("--name", default=None,
                   help="file name prefix, e.g. 'flowers' (default: SRC's folder name)")
    p.add_argument("--seed", type=int, default=0, help="shuffling seed (default 0)")
    p.add_argument("--skip-corrupt", action="store_true",
                   help="leave out unreadable or corrupt images with a warning")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing shards of this name, once the new ones are complete "
                        "(a conversion that fails leaves them as they were)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="also convert files and class folders that symbolic links in SRC lead "
                        "to outside SRC (left out with a warning by default: an archive from "
                        "someone else could link your private files into the shards)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_convert)
