"""``mox port``: a TF 1.x MoXing script (or notebook, or folder of them) made to run on mox.

One pass per idea, each keeping the number of lines so that every report line is true:

1. ``py2``: Python 2 leftovers (``print x``, ``except E, e``, ``sys.maxint``, ``xrange``,
   ``.iteritems()``...), on tokens, so the rest can parse the file;
2. ``rewrites``: what TensorFlow's upgrader leaves broken in MoXing scripts: TF-Slim to
   ``mox_core.slim``, the MNIST tutorial reader to ``mox_core.tutorials.mnist``;
3. ``upgrader``: TensorFlow's ``tf_upgrade_v2`` in SAFETY mode (``import tensorflow.compat.v1
   as tf``; its module docstring says why that mode);
4. ``checks``: what is reported, not rewritten (``/`` between counts, TensorFlow names the
   installed ``tf.compat.v1`` lacks).

``import moxing.tensorflow as mox`` stays: it is mox. A ported file ported again is unchanged.
``port_source`` works on text, ``port_file`` on one file, ``port_path`` on a file or a folder.
"""

from __future__ import annotations

import ast
import os
import shutil
import tokenize

from mox_core.file.atomic import atomic_write
from mox_core.port import checks, py2, rewrites, upgrader
from mox_core.port.notebook import port_notebook
from mox_core.port.report import Change, FileReport, PortError, Problem, format_report

__all__ = ["Change", "FileReport", "PortError", "Problem", "format_report", "port_file",
           "port_path", "port_source"]

PORTED_SUFFIXES = (".py", ".ipynb")
REPORT_NAME = "port_report.txt"
_SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".ipynb_checkpoints"}


def port_source(text: str, name: str = "<script>") -> tuple[str, list[Change], list[Problem]]:
    """The ported text of a script, the changes made and what is left to do, by line.

    ``PortError`` (naming ``name`` and the line) when the text does not parse even after the
    Python 2 fixes."""
    future = py2.future_imports(text)
    text, changes, problems = py2.fix_python2(text)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise PortError(name, exc.lineno, f"does not parse as Python 3 even after the Python 2 "
                        f"fixes: {exc.msg}") from None
    text, more_changes, more_problems = rewrites.rewrite_moxing(text, tree)
    changes += more_changes
    problems += more_problems
    if "tensorflow" in text:
        text, more_changes, more_problems = upgrader.upgrade(text, name)
        changes += more_changes
        problems += more_problems
    tree = ast.parse(text)
    text, more_changes = rewrites.graph_mode(text, tree)
    changes += more_changes
    tree = ast.parse(text)
    if "division" not in future:
        problems += checks.integer_divisions(tree, text)
    problems += checks.missing_tensorflow_names(tree)
    problems += checks.missing_tensorflow_modules(tree)
    problems += checks.string_py_funcs(tree)
    return text, changes, problems


def _read_source(path: str) -> tuple[str, str]:
    """The text of a Python file and its encoding (a ``coding:`` line is honoured: Python 2
    scripts were often GBK)."""
    with open(path, "rb") as handle:
        encoding = ("utf-8" if path.endswith(".ipynb")  # JSON: no coding line applies
                    else tokenize.detect_encoding(handle.readline)[0])
        handle.seek(0)
        data = handle.read()
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise PortError(path, None, f"not readable as {encoding}: {exc}") from None


def port_file(src: str, dst: str, backup: bool = False) -> FileReport:
    """Port the script or notebook ``src`` into ``dst`` (written only when porting worked).

    With ``backup`` (``dst`` is ``src``: in place), a changed file's original is kept as
    ``<src>.bak`` first; an unchanged file is not written at all."""
    text, encoding = _read_source(src)
    if src.endswith(".ipynb"):
        new_text, changes, problems = port_notebook(text, src, port_source)
    else:
        new_text, changes, problems = port_source(text, src)
    same_file = os.path.abspath(dst) == os.path.abspath(src)
    if not same_file or new_text != text:
        if backup:
            _backup(src)
        os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
        with atomic_write(dst, encoding=encoding, newline="") as handle:  # a user's script:
            handle.write(new_text)  # whole, or left as it was
    return FileReport(src, dst, changes, problems)


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def default_destination(src: str) -> str:
    """``train.py`` -> ``train_ported.py``, ``code/`` -> ``code_ported/``, beside ``src``."""
    src = src.rstrip("/\\") or src
    if os.path.isdir(src):
        return src + "_ported"
    stem, suffix = os.path.splitext(src)
    return f"{stem}_ported{suffix}"


def report_path(dst: str) -> str:
    """Where the report of a port into ``dst`` is written: ``DST/port_report.txt`` for a
    folder, ``<dst without suffix>.port_report.txt`` beside a file."""
    if os.path.isdir(dst):
        return os.path.join(dst, REPORT_NAME)
    return os.path.splitext(dst)[0] + "." + REPORT_NAME


def _backup(path: str) -> None:
    backup = path + ".bak"
    if os.path.lexists(backup):
        raise PortError(path, None, f"{backup} already exists: move it away first (the port "
                        "keeps the original there)")
    shutil.copy2(path, backup)


def _port_one(src: str, dst: str, in_place: bool) -> FileReport:
    return port_file(src, src, backup=True) if in_place else port_file(src, dst)


def _port_tree(src: str, dst: str, in_place: bool) -> list[FileReport]:
    reports = []
    for folder, dirs, files in os.walk(src, followlinks=False):
        relative = os.path.relpath(folder, src)
        target = os.path.normpath(os.path.join(dst, relative))
        for name in sorted(dirs):
            if os.path.islink(os.path.join(folder, name)):
                reports.append(FileReport(os.path.join(folder, name), None,
                                          skipped="a symbolic link (never followed)"))
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS
                         and not os.path.islink(os.path.join(folder, d)))
        if not in_place:
            os.makedirs(target, exist_ok=True)
        for name in sorted(files):
            path, out = os.path.join(folder, name), os.path.join(target, name)
            if os.path.islink(path):
                reports.append(FileReport(path, None, skipped="a symbolic link (never followed)"))
            elif name.endswith(PORTED_SUFFIXES):
                try:
                    reports.append(_port_one(path, out, in_place))
                except PortError as exc:
                    if not in_place:
                        shutil.copy2(path, out)
                    reports.append(FileReport(path, None if in_place else out,
                                              error=f"{exc} (copied unchanged)"
                                              if not in_place else str(exc)))
            elif not in_place and not (relative == "." and name == REPORT_NAME):
                shutil.copy2(path, out)
                reports.append(FileReport(path, out, copied=True))
    return reports


def port_path(src: str, dst: str | None = None, in_place: bool = False,
              overwrite: bool = False) -> tuple[list[FileReport], str]:
    """Port the file or folder ``src`` into ``dst`` (default: ``default_destination``), or
    into itself with ``in_place`` (each changed file's original kept as ``<name>.bak``).

    A folder's ``.py`` and ``.ipynb`` files are ported, every other file is copied as it is,
    symbolic links are skipped (never followed), nothing is written outside ``dst``. Returns the
    reports, one per file, and the path of the report file written (``report_path``)."""
    if not os.path.lexists(src):
        raise PortError(src, None, "no such file or folder")
    if os.path.islink(src):
        raise PortError(src, None, "a symbolic link: give the file or folder it points to")
    is_folder = os.path.isdir(src)
    if not is_folder and not src.endswith(PORTED_SUFFIXES):
        raise PortError(src, None, "not a .py script or .ipynb notebook")
    if in_place:
        if dst is not None:
            raise PortError(src, None, "--in-place ports SRC into itself: give no DST")
        dst = src
    else:
        dst = dst or default_destination(src)
        if not is_folder and os.path.isdir(dst):
            dst = os.path.join(dst, os.path.basename(src))
        if _inside(dst, src):
            raise PortError(src, None, f"the destination {dst} is {src} or inside it: "
                            "give another DST (or --in-place)")
        if os.path.lexists(dst) and not overwrite and (not os.path.isdir(dst) or os.listdir(dst)):
            raise PortError(src, None, f"the destination {dst} exists: remove it, pick another "
                            "DST or pass --overwrite")
        if is_folder and os.path.isfile(dst):
            raise PortError(src, None, f"the destination {dst} is a file, SRC a folder")
    if is_folder:
        reports = _port_tree(src, dst, in_place)
    else:
        reports = [_port_one(src, dst, in_place)]
    path = report_path(dst)
    with atomic_write(path) as handle:
        handle.write(format_report(reports))
    return reports, path
