"""``mox port SRC [DST]``: a TF 1.x MoXing script, notebook or folder, ported to run on mox.

The engine is ``mox_core.port`` (imported when the command runs, so ``mox --help`` stays
quick: porting loads TensorFlow for its upgrader). The report is printed and written beside the
result; the exit status is 0 when everything was ported, with or without things left to do by
hand, 1 when some files of a folder could not be ported (they are copied unchanged and named in
the report), 2 when nothing could be ported (the error names the file and line).
"""

from __future__ import annotations

import argparse
from typing import Any

_DESCRIPTION = """\
Port a TF 1.x MoXing script (.py), notebook (.ipynb) or folder of them to mox.

Changes: Python 2 leftovers (print statements, except E, e, sys.maxint, xrange,
.iteritems(), unicode, raw_input, long and octal literals); `import tensorflow as tf` ->
`import tensorflow.compat.v1 as tf` (TensorFlow's tf_upgrade_v2, SAFETY mode: the TF 1.x
API as mox runs it, in graph mode); tf.contrib.slim -> mox_core.slim; the MNIST tutorial
reader (tensorflow.examples.tutorials.mnist) -> mox_core.tutorials.mnist.
`import moxing.tensorflow as mox` stays as it is. Comments and formatting are kept, and
porting a ported file changes nothing.

A script that runs its own sessions (tf.Session, tf.train.Supervisor, ...) also gets
`; tf.disable_eager_execution()` on its TensorFlow import line (TF 1.x graph mode).

Reported, not changed: `/` between counts (Python 2 floored it), TensorFlow names that
tf.compat.v1 lacks (tf.contrib.*, tf.estimator) or cannot run (tf.layers), tf.py_func
string arguments (bytes in Python 3), the upgrader's warnings. Each entry has its line (in
a notebook, cell and line).
"""

_EPILOG = """\
DST defaults to SRC's name with _ported (train.py -> train_ported.py, code/ -> code_ported/).
The report is printed and written to DST/port_report.txt (a folder) or
<DST without .py>.port_report.txt (a file). In a folder, other files are copied unchanged,
symbolic links are skipped (never followed), __pycache__ and VCS folders are left out, and
nothing is written outside DST; DST may not be SRC or lie inside it.
--in-place rewrites SRC itself, keeping each changed file's original as <file>.bak.
"""


def cmd_port(args: argparse.Namespace) -> int:
    from mox_core.port import format_report, port_path

    reports, written = port_path(args.src, args.dst, in_place=args.in_place,
                                 overwrite=args.overwrite)
    if not args.quiet:
        print(format_report(reports), end="")
    print(f"report written to {written}")
    return 1 if any(report.error for report in reports) else 0


def register(sub: Any) -> None:
    """Add ``port`` to the ``mox`` subparsers."""
    p = sub.add_parser("port", help="port a TF 1.x MoXing script, notebook or folder to mox",
                       description=_DESCRIPTION, epilog=_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", metavar="SRC", help="a .py script, a .ipynb notebook or a folder")
    p.add_argument("dst", metavar="DST", nargs="?", default=None,
                   help="where the ported copy goes (default: SRC with _ported)")
    p.add_argument("--in-place", action="store_true",
                   help="rewrite SRC itself; originals of changed files kept as <file>.bak")
    p.add_argument("--overwrite", action="store_true",
                   help="write into an existing DST")
    p.add_argument("--quiet", action="store_true",
                   help="print only where the report was written")
    p.set_defaults(func=cmd_port)
