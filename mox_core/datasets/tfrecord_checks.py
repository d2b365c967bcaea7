"""Bad TFRecords named: a damaged or truncated shard, a record of another schema or no record at
all, a label out of range -- each one ``DataError`` naming the shard and the record's byte
offset, or with ``skip_corrupt`` a warning naming them and the record left out.

TensorFlow's own errors name neither (``DataLossError: corrupted record at 7062``, ``Feature:
image/class/label ... is required but could not be found``), and its reader cannot go past a
damaged record, so the checks are made where the file is still known:

* reading: each shard's records pass ``ignore_errors`` (the reader stops at the first damaged
  record, without an error), carry their byte offset (a ``scan`` adding ``16 + length`` per
  record) and end with one marker holding the bytes read; a marker short of the file's size is
  a shard that ended early, named with the offset of the record it stopped at (why it stopped
  -- cut short, or a checksum that does not match -- is read from the file in Python);
* parsing: without ``skip_corrupt`` records are parsed directly, and TensorFlow's parse error
  is explained by trying the records again, shard by shard (:meth:`RecordChecks.explain`); with
  ``skip_corrupt`` each record is first tried in a nested pipeline (the cost of skipping);
* labels: an int64 compare per record, when the number of classes is known.
"""

from __future__ import annotations

import re
import struct
import threading
import weakref
from collections.abc import Callable
from typing import Any

from mox_core.datasets import fs, logs

#: TensorFlow's error from parsing a record inside an input pipeline (its scope follows)
_PARSE_FAILURE = r"\{\{node [^}]*ParseExampleV2\}\}.*(?<![\w./-])"

_SHARD = {"subject": "corrupt TFRecord file", "skip_option": "skip_corrupt",
          "action": "Restore the file or convert the dataset again"}
_RECORD = {"subject": "unexpected record in TFRecord file", "skip_option": "skip_corrupt",
           "action": "Fix the file, or read records of another layout with "
                     "custom_feature_keys / custom_feature_values"}
_LABEL = {"subject": "label out of range in TFRecord file", "skip_option": "skip_corrupt",
          "action": "Fix the records' labels, or the labels file or num_classes the dataset "
                    "is read with"}


def stop_reason(path: str, offset: int) -> str:
    """Why reading TFRecord file ``path`` stopped at byte ``offset``, read from the file."""
    try:
        size = fs.size(path)
        handle = fs.open_binary(path)
        try:
            handle.seek(offset)
            header = handle.read(12)
        finally:
            handle.close()
    except OSError as exc:
        return f"it cannot be read: {exc}"
    where = f"the record at byte {offset}"
    if len(header) < 12 or offset + 16 + struct.unpack("<Q", header[:8])[0] > size:
        if offset == 0:
            return f"it is not a TFRecord file ({size} bytes, no complete record)"
        return f"the file is truncated: it ends inside {where} ({size} bytes)"
    return f"{where} is corrupt: its checksum does not match"


def _text(value: Any) -> str:
    return value.numpy().decode("utf-8", "replace") if hasattr(value, "numpy") else str(value)


class RecordChecks:
    """The checks of one TFRecord image dataset (see the module docstring): ``skip`` drops bad
    records with a warning naming the shard; otherwise the first one stops the pipeline with a
    ``DataError`` (through the graph's explainer, :mod:`mox_core.errors`)."""

    def __init__(self, skip: bool, files: list[str], features: Callable[[], dict],
                 num_classes: int) -> None:
        self.skip = skip
        self.files = list(files)
        self.sizes = [fs.size(path) for path in self.files]
        self._features = features
        self.num_classes = num_classes
        self._lock = threading.Lock()
        self._failures: list[Any] = []
        self._warned: set[tuple[str, int]] = set()

    # -- in the graph ----------------------------------------------------------------------

    def records(self, path: Any, name: Any, size: Any, remote: bool) -> Any:
        """The records of the shard read from ``path`` (``name``: the shard named in messages,
        ``size``: its bytes) as ``{'record', 'file', 'offset', 'end'}``, the shard's end checked
        (a shard that ends early fails or is skipped from there, named). About two more
        ``tf.data`` stages per record than reading alone: microseconds, against the
        milliseconds of decoding the record's image."""
        import tensorflow as tf

        from mox_core.file import tfdata

        marked = tfdata.tfrecord_records(path, remote).ignore_errors().map(
            lambda record: (record, False)).concatenate(
            tf.data.Dataset.from_tensors((tf.constant(b""), True)))

        def offsets(offset: Any, item: Any) -> Any:
            record, end = item
            step = 16 + tf.strings.length(record)
            return offset + tf.cast(step, tf.int64), {"record": record, "file": name,
                                                      "offset": offset, "end": end}

        def whole(element: dict) -> Any:
            ended_early = tf.logical_and(element["end"], element["offset"] < size)
            return tf.logical_and(self._act(ended_early, "shard", element, element["offset"]),
                                  tf.logical_not(element["end"]))

        return marked.scan(tf.constant(0, tf.int64), offsets).filter(whole)

    def parses(self, element: dict) -> Any:
        """Whether the record parses, a bad one named and left out: the filter a skipping
        dataset puts before parsing (without skipping, TensorFlow's parse error is explained
        afterwards instead, at no cost per record)."""
        import tensorflow as tf

        fails = tf.logical_not(self._parses(element["record"]))
        return self._act(fails, "record", element, element["offset"])

    def label_ok(self, label: Any, element: dict) -> Any:
        """Whether ``label`` is a class of the dataset (``0 <= label < num_classes``); a label
        out of range fails or is skipped, named."""
        import tensorflow as tf

        if self.num_classes < 1:
            return tf.constant(True)
        outside = tf.logical_or(label < 0, label >= self.num_classes)
        return self._act(outside, "label", element, label)

    def _parses(self, record: Any) -> Any:
        import tensorflow as tf

        features = self._features()
        # the parsed label flows into the verdict: a verdict not using the parse (its static
        # size) would let TensorFlow prune the parse away
        parsed = tf.data.Dataset.from_tensors(record).map(
            lambda r: tf.io.parse_single_example(r, features)["image/class/label"]
        ).ignore_errors().map(lambda label: True)
        return parsed.concatenate(tf.data.Dataset.from_tensors(False)).take(1) \
            .get_single_element()

    def _act(self, bad: Any, kind: str, element: dict, value: Any) -> Any:
        """``not bad``, once a bad record is skipped (warned) or has stopped the pipeline."""
        import tensorflow as tf

        def noted() -> Any:
            return tf.py_function(lambda *a: self._note(kind, *a),
                                  [element["file"], element["offset"], value], tf.string)

        if self.skip:
            return tf.cond(bad, lambda: tf.strings.length(noted()) < 0, lambda: tf.constant(True))

        def fail() -> Any:
            message = noted()
            with tf.control_dependencies([tf.debugging.Assert(False, [message])]):
                return tf.constant(False)

        return tf.cond(bad, fail, lambda: tf.constant(True))

    # -- in Python -------------------------------------------------------------------------

    def _note(self, kind: str, path: Any, offset: Any, value: Any) -> bytes:
        path, offset, value = _text(path), int(offset.numpy()), int(value.numpy())
        error = self.error(kind, path, offset, value)
        with self._lock:
            self._failures.append(error)
            first = (path, offset) not in self._warned
            self._warned.add((path, offset))
        if self.skip and first:
            logs.warning("Skipping %s of TFRecord file %s: %s",
                         "the rest" if kind == "shard" else "a record", path, error.reason)
        return error.message.encode()

    def error(self, kind: str, path: str, offset: int, value: int = -1) -> Any:
        """The ``DataError`` for a bad ``kind`` (shard, record, label) at ``offset`` in
        ``path``."""
        from mox_core.errors import DataError

        if kind == "shard":
            return DataError(path, stop_reason(path, offset), **_SHARD)
        if kind == "label":
            return DataError(path, f"the record at byte {offset} has label {value}, outside "
                             f"the {self.num_classes} classes of the dataset (0 to "
                             f"{self.num_classes - 1})", **_LABEL)
        return self._explained(path, offset, "")

    def watch(self, graph: Any, scope: str) -> None:
        """Explain this dataset's errors in ``graph`` (its pipeline built in ``scope``)."""
        from mox_core import errors

        errors.add_explainer(graph, _Explainer(self, scope))

    def failure_in(self, message: str) -> Any:
        """The ``DataError`` of the check that stopped the pipeline with ``message`` (which
        quotes its words), or ``None`` (checks of parallel records may fail at once: the one
        TensorFlow reports is the one its words name)."""
        with self._lock:
            failures = list(self._failures)
        return next((error for error in failures if f"{error.path}: {error.reason}" in message),
                    None)

    def find_unparsable(self, said: str) -> Any:
        """The first record of the shards that does not parse, as a ``DataError`` (``said``:
        TensorFlow's words), or ``None``."""
        import tensorflow as tf

        from mox_core.file import tfdata

        with tf.Graph().as_default():
            fed = tf.compat.v1.placeholder(tf.string, [])
            parsed = tf.io.parse_single_example(fed, self._features())
            with tf.compat.v1.Session() as session:
                for path in self.files:
                    offset = 0
                    for record in tfdata.iter_tfrecords(path):
                        try:
                            session.run(parsed, {fed: record})
                        except (tf.errors.InvalidArgumentError, UnicodeDecodeError):
                            return self._explained(path, offset, said)
                        offset += 16 + len(record)
        return None

    def _explained(self, path: str, offset: int, said: str) -> Any:
        from mox_core.errors import DataError

        return DataError(path, f"the record at byte {offset} is not a tf.train.Example with "
                         f"the features the dataset reads{': ' if said else ''}{said}",
                         **_RECORD)


class _Explainer:
    """A ``mox_core.errors`` explainer for one dataset's pipeline in one graph; it holds the
    checks weakly (they live as long as the dataset, the explainer as long as the graph)."""

    def __init__(self, checks: RecordChecks, scope: str) -> None:
        self._checks = weakref.ref(checks)
        self._parse_failure = re.compile(_PARSE_FAILURE + re.escape(scope), re.DOTALL)

    def __call__(self, error: Any) -> Any:
        checks = self._checks()
        message = error.message or ""
        if checks is None:
            return None
        found = checks.failure_in(message)
        if found is not None or not self._parse_failure.search(message):
            return found
        said = next((line.strip() for line in message.splitlines() if line.strip()
                     and "Graph execution error" not in line), "")
        said = re.sub(r"^Error in user-defined function.*Iterator::\S*: ", "", said)
        said = said.split(", value: ", 1)[0].rstrip(".")  # a garbage record's bytes say nothing
        return checks.find_unparsable(said)


#: TensorFlow's own TFRecord reader on a damaged file: ``corrupted record at 7062``
_READER_FAILURE = re.compile(r"(?:corrupted|truncated) record at (\d+)")


class DamagedShardFinder:
    """A ``mox_core.errors`` explainer for pipelines that read ``files`` with TensorFlow's own
    TFRecord reader (``get_tfrecord``, ``BaseTFRecordDataset``, TF-Slim's readers): its
    ``DataLossError`` gives the damaged record's byte offset but not the file, so the files are
    read again, in Python, to find the one that fails at that offset. Nothing is skipped: such
    pipelines have no skip option."""

    def __init__(self, files: list[str]) -> None:
        self.files = tuple(files)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DamagedShardFinder) and other.files == self.files

    def __hash__(self) -> int:
        return hash(self.files)

    def __call__(self, error: Any) -> Any:
        import tensorflow as tf

        from mox_core.errors import DataError

        match = _READER_FAILURE.search(error.message or "")
        if not isinstance(error, tf.errors.DataLossError) or match is None:
            return None
        said = int(match[1])  # the record's offset, or its data's (12 bytes of header later)
        for path in self.files:
            offset = _fails_at(path)
            if offset is not None and said in (offset, offset + 12):
                return DataError(path, stop_reason(path, offset), subject=_SHARD["subject"],
                                 action=_SHARD["action"])
        return None


def _fails_at(path: str) -> int | None:
    """The byte offset of the record where TensorFlow's reader fails on ``path``, or ``None``."""
    import tensorflow as tf

    offset = 0
    try:
        for record in tf.compat.v1.io.tf_record_iterator(path):
            offset += 16 + len(record)
    except tf.errors.DataLossError:
        return offset
    except (tf.errors.OpError, OSError):  # unreadable here (a scheme only mox.file serves)
        return None
    return None
