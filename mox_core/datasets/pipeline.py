"""What the three image datasets share: argument checks, the tf.data pipeline after the files
are read, and ``get``.

A dataset object holds only Python values; the input graph is built by the first ``get`` in a
``tf.Graph`` (the executor's graph inside an ``input_fn``, or the user's own graph around a
``tf.compat.v1.Session``), so one dataset can serve several graphs. ``get`` creates the
iterator itself: a one-shot iterator, which needs no initialisation, or -- when the user's
functions capture stateful resources such as lookup tables -- an initializable iterator whose
initializer is put in the ``TABLE_INITIALIZERS`` collection, run by
``tf.compat.v1.tables_initializer()`` and by every ``MonitoredSession``. All keys asked for in
one graph come from one ``get_next``, so ``get(['image'])`` and a later ``get(['label'])`` stay
paired.

The stream, for subclasses: ``_elements()`` returns unbatched dicts holding ``image_buf``
(encoded bytes) and ``image_name`` for one epoch, shuffled; ``_label_stage(element)``,
run in the parallel decode stage, completes ``label``, ``label_desc`` and ``source`` (what to
name in errors). This module decodes, resizes and augments, repeats the epoch ``num_epochs``
times, batches, applies ``preprocess_fn`` and ``label_one_hot``, and prefetches. Repeating
after the parallel (and, when shuffling, unordered) stages keeps epochs exact: every sample
once per epoch, none of the next epoch before the last of this one. An epoch in which every
file was skipped ends the data instead of looping forever.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from mox_core.datasets.cache import LocalCache
from mox_core.datasets.images import (
    CorruptImagePolicy,
    decodes,
    failure_reason,
    undecodable_image,
)

#: Keys every image dataset answers in ``get``.
BASE_KEYS = ("image", "label", "label_desc", "image_name", "image_buf")

#: TensorFlow's error from an image decoder run inside an input pipeline (followed by the name
#: scope of the pipeline that ran it)
_DECODE_FAILURE = r"\{\{node [^}]*Decode(Image|Jpeg|Png|Gif|Bmp|WebP)\}\}.*(?<![\w./-])"


class DecodeScan(NamedTuple):
    """What :meth:`ImageDatasetBase.find_undecodable` found."""

    #: ``(file, reason)`` of each image that does not decode, in reading order
    bad: list[tuple[str, str]]
    #: how many images were tried
    scanned: int
    #: whether every image of the dataset was tried (not stopped by a limit)
    complete: bool


def image_size_pair(image_size: Any) -> tuple[int, int] | None:
    """``image_size`` as ``(height, width)``: an int means a square."""
    if image_size is None:
        return None
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        pair = (image_size, image_size)
    elif isinstance(image_size, Sequence) and len(image_size) == 2:
        pair = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(f"image_size must be an int or (height, width), got {image_size!r}")
    if min(pair) < 1:
        raise ValueError(f"image_size must be positive, got {image_size!r}")
    return pair


class ImageDatasetBase:
    """Common arguments and the shared part of the pipeline (see the module docstring)."""

    #: how many channels the decoder produces (3 for real-world images; 1 for MNIST records)
    channels = 3

    def __init__(
        self,
        *,
        batch_size: int | None,
        num_epochs: int | None,
        shuffle: bool,
        shuffle_buffer_size: int,
        preprocess_fn: Callable | None,
        preprocess_threads: int,
        image_size: Any,
        private_num_threads: int,
        drop_remainder: bool,
        augmentation_fn: Callable | None,
        label_one_hot: bool,
        num_classes: int,
        skip_corrupt: bool,
        fixed_image_shape: Sequence[int] | None = None,
    ) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        if batch_size is not None and image_size is None and preprocess_fn is None and (
            augmentation_fn is None and fixed_image_shape is None
        ):
            raise ValueError(
                f"batch_size={batch_size} stacks images into one tensor, so they need one size: "
                f"pass image_size (decode and resize), preprocess_fn (your own decoding of the "
                f"batched raw buffers), or an augmentation_fn whose output has a fixed size"
            )
        if num_epochs is not None and num_epochs < 1:
            raise ValueError(f"num_epochs must be a positive int or None (forever), got {num_epochs}")
        if shuffle_buffer_size < 0:
            raise ValueError(f"shuffle_buffer_size must not be negative, got {shuffle_buffer_size}")
        if preprocess_threads < 1:
            raise ValueError(f"preprocess_threads must be at least 1, got {preprocess_threads}")
        if private_num_threads < 0:
            raise ValueError(f"private_num_threads must not be negative, got {private_num_threads}")
        for name, fn in (("preprocess_fn", preprocess_fn), ("augmentation_fn", augmentation_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable, got {fn!r}")
        if label_one_hot and num_classes < 1:
            raise ValueError(
                "label_one_hot=True needs the number of classes; the metadata does not know it "
                "(give the metadata num_classes or a labels file)"
            )
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.shuffle = bool(shuffle)
        self.shuffle_buffer_size = shuffle_buffer_size
        self.preprocess_fn = preprocess_fn
        self.preprocess_threads = preprocess_threads
        self.image_size = image_size_pair(image_size)
        self.private_num_threads = private_num_threads
        self.drop_remainder = bool(drop_remainder)
        self.augmentation_fn = augmentation_fn
        self.label_one_hot = bool(label_one_hot)
        self.num_classes = num_classes
        self.fixed_image_shape = tuple(fixed_image_shape) if fixed_image_shape else None
        self._policy = CorruptImagePolicy(skip_corrupt)
        #: the local copy made for ``cache_dir`` (set by subclasses), removed when data ends
        self._cache: LocalCache | None = None
        self._outputs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # -- what subclasses provide -------------------------------------------------------------

    def _elements(self, shuffle: bool) -> Any:
        """Unbatched element dicts of one epoch (see the module docstring), shuffled when
        ``shuffle``."""
        raise NotImplementedError

    def _label_stage(self, element: dict) -> dict:
        """``element`` with ``label`` / ``label_desc`` / ``source`` completed (runs in the
        parallel decode stage, so per-sample label work costs no extra pipeline stage)."""
        return element

    def _complete(self, element: dict) -> dict:
        """What the decode stage does to an element before decoding: ``_label_stage`` (and,
        where a subclass reads files there, reading ``image_buf``)."""
        return self._label_stage(element)

    def _extra_keys(self) -> tuple[str, ...]:
        """Keys beyond ``BASE_KEYS`` this dataset's elements carry (custom features)."""
        return ()

    def _watch(self, graph: Any, scope: str) -> None:
        """Register the ``mox_core.errors`` explainers of this dataset's own checks for
        ``graph``, whose pipeline was built in name scope ``scope``."""

    # -- public ------------------------------------------------------------------------------

    @property
    def skip_corrupt(self) -> bool:
        return self._policy.skip

    @property
    def num_skipped(self) -> int:
        """Files skipped so far because they could not be read or decoded (``skip_corrupt``)."""
        return self._policy.skipped

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys ``get`` answers."""
        return BASE_KEYS + self._extra_keys()

    def get(self, keys: str | Sequence[str]) -> Any:
        """Graph tensors for ``keys``, in that order (one tensor when ``keys`` is one string).

        Keys: ``image``, ``label``, ``label_desc``, ``image_name``, ``image_buf`` (the encoded
        file), plus custom features. With ``batch_size`` every tensor has a leading batch
        dimension. Must be called where a ``tf.Graph`` is being built (an ``input_fn``, or
        inside ``with tf.Graph().as_default():``); the tensors raise ``OutOfRangeError`` after
        ``num_epochs`` epochs.
        """
        import tensorflow as tf

        single = isinstance(keys, str)
        wanted = [keys] if single else list(keys)
        unknown = [key for key in wanted if key not in self.keys]
        if unknown:
            raise ValueError(
                f"unknown key(s) {', '.join(map(repr, unknown))}; this dataset has "
                f"{', '.join(self.keys)}"
            )
        if tf.executing_eagerly():
            raise RuntimeError(
                "dataset.get() builds graph tensors: call it inside a tf.Graph (an input_fn "
                "run by mox.run, or `with tf.Graph().as_default():` around a "
                "tf.compat.v1.Session)"
            )
        graph = tf.compat.v1.get_default_graph()
        if graph not in self._outputs:
            # input pipelines live on the CPU whatever tower device scope input_fn runs in
            with tf.name_scope("mox_dataset") as scope, tf.device("/cpu:0"):
                self._outputs[graph] = self._build()
            from mox_core import errors

            errors.add_explainer(graph, _UndecodedImageFinder(self, scope))
            self._watch(graph, scope)
        outputs = self._outputs[graph]
        tensors = [outputs[key] for key in wanted]
        return tensors[0] if single else tensors

    def as_tf_dataset(self, keys: Sequence[str]) -> Any:
        """The pipeline of :meth:`get` as a ``tf.data.Dataset`` of tuples of ``keys``, for a
        caller that makes its own iterator: ``mox.run`` restarts such a dataset for each
        evaluation of its ``inter_mode`` (``input_fn`` returns it for ``ModeKeys.EVAL``).
        Build it where the graph that reads it is being built, as :meth:`get`."""
        import tensorflow as tf

        wanted = list(keys)
        unknown = [key for key in wanted if key not in self.keys]
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))}; this dataset "
                             f"has {', '.join(self.keys)}")
        graph = tf.compat.v1.get_default_graph()
        with tf.name_scope("mox_dataset") as scope, tf.device("/cpu:0"):
            dataset = self._pipeline().map(lambda element: tuple(element[k] for k in wanted))
        from mox_core import errors

        errors.add_explainer(graph, _UndecodedImageFinder(self, scope))
        self._watch(graph, scope)
        return dataset

    def find_undecodable(self, limit: int = 10, max_seconds: float | None = 300.0) -> DecodeScan:
        """Try to decode every image of one epoch, in reading order, and name those that fail.

        Without ``skip_corrupt`` the pipeline checks only files that look wrong (empty, cut
        short, not an image); a file damaged inside with an intact end stops it with
        TensorFlow's decoder error, which names no file. This scan names it: ``mox.run`` calls
        it on that error, and in a session of your own you can call it yourself. It stops after
        ``limit`` bad images or ``max_seconds`` (``None``: no time limit).
        """
        import tensorflow as tf

        channels, label_stage = self.channels, self._complete

        def verdict(element: dict) -> dict:
            element = label_stage(element)
            return {"source": element["source"], "ok": decodes(element["image_buf"], channels),
                    "reason": failure_reason(element["image_buf"])}

        bad: list[tuple[str, str]] = []
        scanned = 0
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        with tf.Graph().as_default():
            verdicts = self._elements(shuffle=False).map(
                verdict, num_parallel_calls=max(1, self.preprocess_threads), deterministic=True
            ).batch(64)
            next_batch = tf.compat.v1.data.make_one_shot_iterator(verdicts).get_next()
            with tf.compat.v1.Session() as session:
                while len(bad) < limit and (deadline is None or time.monotonic() < deadline):
                    try:
                        batch = session.run(next_batch)
                    except tf.errors.OutOfRangeError:
                        return DecodeScan(bad, scanned, complete=True)
                    for source, ok, reason in zip(batch["source"], batch["ok"], batch["reason"]):
                        scanned += 1
                        if not ok and len(bad) < limit:
                            bad.append((source.decode("utf-8", "replace"),
                                        reason.decode("utf-8", "replace")))
        return DecodeScan(bad, scanned, complete=False)

    # -- the pipeline --------------------------------------------------------------------------

    def _build(self) -> dict:
        return self._iterate(self._pipeline())

    def _pipeline(self) -> Any:
        import tensorflow as tf

        dataset = self._decode_stage(self._elements(self.shuffle)).repeat(self.num_epochs)
        if self._cache is not None:
            dataset = self._cache.follow(dataset, ends=self.num_epochs is not None)
        if self.batch_size is not None:
            dataset = dataset.batch(self.batch_size, drop_remainder=self.drop_remainder)
        if self.preprocess_fn is not None:
            # in order: a partial batch stays last
            dataset = dataset.map(self._apply_preprocess_fn, num_parallel_calls=tf.data.AUTOTUNE,
                                  deterministic=True)
        dataset = dataset.map(self._public).prefetch(tf.data.AUTOTUNE)
        if self.private_num_threads > 0:
            options = tf.data.Options()
            options.threading.private_threadpool_size = self.private_num_threads
            dataset = dataset.with_options(options)
        return dataset

    def _public(self, element: dict) -> dict:
        """The keys ``get`` answers, with the label one-hot when asked for."""
        import tensorflow as tf

        public = {key: element[key] for key in self.keys}
        if self.label_one_hot:
            public["label"] = tf.one_hot(public["label"], self.num_classes)
        return public

    def _decode_stage(self, dataset: Any) -> Any:

        parallel = dict(num_parallel_calls=self.preprocess_threads, deterministic=not self.shuffle)
        policy, channels = self._policy, self.channels
        label_stage = self._complete

        def class_of(element: dict) -> Any:
            """The class index of a single-label element, which the policy counts skips by."""
            label = element["label"]
            return label if label.shape.rank == 0 and label.dtype.is_integer else None

        if self.preprocess_fn is not None:
            # the user decodes; still, a file that will not decode is named (or skipped) here
            def check(element: dict) -> dict:
                element = label_stage(element)
                ok = policy.check(element["image_buf"], element["source"], channels,
                                  class_of(element))
                return {**element, "ok": ok}

            dataset = dataset.map(check, **parallel).filter(lambda element: element["ok"])
            return dataset.map(self._strip)

        def decode_one(element: dict) -> dict:
            element = label_stage(element)
            image, ok = policy.decode(element["image_buf"], element["source"], channels,
                                      class_of(element))
            element = {**element, "image": image, "ok": ok}
            return element if policy.skip else self._transform(element)

        dataset = dataset.map(decode_one, **parallel)
        if policy.skip:
            dataset = dataset.filter(lambda element: element["ok"])
            dataset = dataset.map(self._transform, **parallel)
        shape = dataset.element_spec["image"].shape
        if self.batch_size is not None and not shape.is_fully_defined():
            raise ValueError(
                f"batch_size={self.batch_size} needs images of one size, but the images are "
                f"shaped {shape}: pass image_size, or an augmentation_fn with a fixed output "
                f"size (e.g. get_data_augmentation_fn(..., output_height=224, "
                f"output_width=224))"
            )
        return dataset

    def _strip(self, element: dict) -> dict:
        """Only what ``get`` answers goes on (paths and flags would be batched for nothing)."""
        return {key: value for key, value in element.items() if key in self.keys}

    def _transform(self, element: dict) -> dict:
        """Resize to ``image_size`` (nearest neighbour), then ``augmentation_fn``."""
        import tensorflow as tf

        image = element["image"]
        if self.fixed_image_shape is not None:
            image = tf.ensure_shape(image, self.fixed_image_shape)
        if self.image_size is not None:
            image = tf.image.resize(image, self.image_size, method="nearest")
            image.set_shape([*self.image_size, self.channels])
        if self.augmentation_fn is not None:
            image = self.augmentation_fn(image)
        return {**self._strip(element), "image": image}

    def _apply_preprocess_fn(self, element: dict) -> dict:
        import tensorflow as tf

        result = self.preprocess_fn(element["image_name"], element["image_buf"],
                                    element["label"], element["label_desc"])
        if not isinstance(result, (tuple, list)) or len(result) != 4:
            raise TypeError(
                "preprocess_fn(image_name, image_buf, label, label_desc) must return the four "
                f"tensors (image_name, image, label, label_desc); it returned {result!r}"
            )
        image_name, image, label, label_desc = result
        if self.augmentation_fn is not None:
            image = tf.convert_to_tensor(image)
            if self.batch_size is None:
                image = self.augmentation_fn(image)
            else:
                signature = tf.function(self.augmentation_fn).get_concrete_function(
                    tf.TensorSpec(image.shape[1:], image.dtype)
                ).structured_outputs
                image = tf.map_fn(
                    self.augmentation_fn, image,
                    fn_output_signature=tf.TensorSpec(signature.shape, signature.dtype),
                )
        return {**element, "image_name": image_name, "image": image, "label": label,
                "label_desc": label_desc}

    @staticmethod
    def _iterate(dataset: Any) -> dict:
        return next_element(dataset)

    # -- shared helpers for subclasses ---------------------------------------------------------

    def _shuffle_buffer(self, dataset: Any, shuffle: bool) -> Any:
        """Read elements pass a ``shuffle_buffer_size`` shuffle buffer (when shuffling)."""
        if shuffle and self.shuffle_buffer_size > 1:
            dataset = dataset.shuffle(self.shuffle_buffer_size, reshuffle_each_iteration=True)
        return dataset


def next_element(dataset: Any) -> Any:
    """``get_next()`` of an iterator over ``dataset`` in the default graph: one-shot (nothing to
    initialise), or initializable with its initializer in ``TABLE_INITIALIZERS`` (which every
    MonitoredSession, hence ``mox.run``, runs) when the pipeline captures a stateful resource
    such as a lookup table, where one-shot iterators are not allowed."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    try:
        iterator = tf1.data.make_one_shot_iterator(dataset)
    except ValueError:
        iterator = tf1.data.make_initializable_iterator(dataset)
        tf1.add_to_collection(tf1.GraphKeys.TABLE_INITIALIZERS, iterator.initializer)
    return iterator.get_next()


class _UndecodedImageFinder:
    """Explains TensorFlow's decoder error from one dataset's pipeline in one graph (a file
    damaged inside, which the pipeline's cheap check lets through) by finding the file with
    :meth:`ImageDatasetBase.find_undecodable`: a ``mox_core.errors`` explainer.

    It holds the dataset weakly: the dataset holds the graph's tensors, and an explainer lives
    as long as its graph.
    """

    def __init__(self, dataset: ImageDatasetBase, scope: str, max_seconds: float = 300.0) -> None:
        self._dataset = weakref.ref(dataset)
        self._failure = re.compile(_DECODE_FAILURE + re.escape(scope), re.DOTALL)
        self._max_seconds = max_seconds

    def __call__(self, error: Any) -> Any:
        dataset = self._dataset()
        message = error.message or ""
        if dataset is None or not self._failure.search(message):
            return None
        from mox_core.datasets import logs

        said = next((line.strip() for line in message.splitlines()
                     if line.strip() and "Graph execution error" not in line), "")
        if said.startswith("Error in user-defined function"):  # tf.data's prefix: keep the cause
            said = said.rsplit(": ", 1)[-1]
        logs.warning("An image of the input did not decode (%s); looking for the file", said)
        scan = dataset.find_undecodable(max_seconds=self._max_seconds)
        if scan.bad:
            (name, reason), more = scan.bad[0], scan.bad[1:]
            return undecodable_image(name, reason, also=[n for n, _ in more],
                                     also_incomplete=not scan.complete)
        error.add_note(
            f"mox: an image did not decode, but trying {scan.scanned} images of the input again "
            f"named none (the scan stops after {self._max_seconds:.0f} s). Skip such images "
            f"(the dataset's skip_corrupt=True, on the command line --skip-corrupt): each image "
            f"that does not decode is then skipped and named."
        )
        return None

