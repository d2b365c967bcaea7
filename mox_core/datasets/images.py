"""Decoding real-world image files to 3 channels, and telling good files from bad ones.

``tf.io.decode_image(..., channels=3, expand_animations=False)`` already turns every kind of
file met in class folders into ``[h, w, 3]`` uint8: grayscale and palette images are spread to
RGB, the alpha plane of RGBA/LA images is dropped, 16-bit PNGs are scaled to 8 bits, an animated
GIF gives its first frame, a PNG, GIF, BMP or WebP behind a ``.jpg`` name is recognised by its
content, and CMYK/YCCK JPEGs are converted to RGB by libjpeg-turbo (the same pixels Pillow's
``convert('RGB')`` gives, within rounding).

What it does not do is say *which* file it failed on: a zero-byte, truncated or non-image file
stops the input pipeline with "jpeg::Uncompress failed" and no name. Catching that error needs a
small nested ``tf.data`` pipeline per image (``ignore_errors`` is the only in-graph "try"),
which costs more than decoding a small image, so it is paid only for files that look wrong: a
file that ends like a whole JPEG (the ``FFD9`` end-of-image marker) or a whole PNG (the ``IEND``
chunk) -- nearly every healthy file -- is decoded directly; anything else (empty, cut short,
not an image, GIF, BMP, WebP, a JPEG with data after its end marker) is first tried in the
guarded decode. Every op of a ``tf.data`` function costs microseconds per image, so the check is
six ops and one ``cond`` that only picks which bytes to decode.

A file whose trailer is intact but whose inside is damaged passes that check. When the user
asked to skip bad files (``skip_corrupt=True``) every file is therefore decoded inside the
guard (once: the guarded decode returns the image), so such a file is skipped, named and
counted too; that costs the nested pipeline per image (about a fifth more CPU per 400 px JPEG
here). Without ``skip_corrupt`` the fast path stays, and such a rare file stops the input
pipeline with TensorFlow's own error, which does not name it; ``mox.run`` then names it by
trying the dataset's images again one by one (``dataset.find_undecodable()``, which a script
running its own session can call too), and ``skip_corrupt=True`` skips and names it.

A file the pipeline names stops it with TensorFlow's error carrying the words of
:func:`undecodable_image` (the in-graph check can only raise what TensorFlow raises); the
policy remembers the file, so around a session (``mox_core.errors.explain_data_errors``) that
error becomes the typed ``DataError`` itself.

Decompression bombs: a PNG of a few dozen bytes can declare 60000 x 60000 pixels, and a
20000 x 20000 one decodes to 1.2 GB, which TensorFlow allocates without complaint (only sizes
past 2**31 bytes make it fail, naming no file). Every image decoded from user data therefore
passes one guard first, :data:`MAX_IMAGE_PIXELS`: in the pipelines the width and height in the
header of a PNG, GIF or BMP (the formats whose compression lets a small file declare a huge
image) are read in the graph (:func:`within_size_limit` on the first 26 bytes; six ops for the
files of the fast path, about 5 us an image); a file over the limit is never handed to the
decoder and is named, or skipped, like any other bad file. ``mox convert`` decodes with Pillow
and applies the same limit through :func:`check_pixels` to every format (Pillow knows the size
of any file before decoding it). JPEG needs no graph check: TensorFlow's JPEG decoder refuses
images over 512 MB before allocating them, and the file is then named like any other that does
not decode.
"""

from __future__ import annotations

import os
import struct
import threading
from typing import Any

#: Extensions listed as samples in class folders (case-insensitive), as Keras lists them.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)


#: The most pixels an image from user data may declare: Pillow's own refusal threshold
#: (``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 13400 x 13400, 537 MB as RGB), so that ``mox
#: convert`` and the input pipelines refuse the same files, whatever a script sets Pillow's
#: limit to.
MAX_IMAGE_PIXELS = 178_956_970


class ImageTooLargeError(ValueError):
    """An image whose header declares more than :data:`MAX_IMAGE_PIXELS` pixels; ``reason``
    is the message without the file's name."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def too_large_reason(width: int, height: int) -> str:
    """Why an image of ``width x height`` is refused, without naming it."""
    return (f"declares {width} x {height} pixels, more than the {MAX_IMAGE_PIXELS} mox "
            f"decodes (a decompression bomb?)")


def too_large_message(name: str, width: int, height: int) -> str:
    """Why ``name`` is refused, in the words the graph guard uses too."""
    return f"image file {name!r} {too_large_reason(width, height)}"


def check_pixels(width: int, height: int, name: str) -> None:
    """:class:`ImageTooLargeError` naming ``name`` when ``width x height`` is over the limit."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLargeError(too_large_message(name, width, height),
                                 too_large_reason(width, height))


def header_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` a PNG, GIF or BMP header declares (what :func:`declared_size` reads
    in the graph), ``None`` for other files: read before any decoder sees the file."""
    if data[:4] == b"\x89PNG" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:4] == b"GIF8" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    return None


#: Image formats met in real datasets that TensorFlow does not decode, by extension: such files
#: are not samples, and are named as what they are (with the fix), not as "not images".
UNSUPPORTED_FORMATS = {".tif": "TIFF", ".tiff": "TIFF", ".heic": "HEIC", ".heif": "HEIF",
                       ".avif": "AVIF", ".jp2": "JPEG 2000", ".psd": "PSD"}

#: what to do with images of an unsupported format
CONVERT_THEM = ("TensorFlow decodes JPEG, PNG, GIF, BMP and WebP: convert them to JPEG or PNG "
                "(e.g. with Pillow: Image.open(path).convert('RGB').save(new_path))")


def has_image_extension(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def unsupported_format(name: str) -> str | None:
    """The name of ``name``'s image format when it is one TensorFlow does not decode."""
    return UNSUPPORTED_FORMATS.get(os.path.splitext(name)[1].lower())


def unsupported_summary(names: list[str]) -> str:
    """``'3 TIFF files (a.tif, ...)'`` for image files of unsupported formats."""
    from mox_core.datasets import logs

    formats = sorted({unsupported_format(n) or "" for n in names})
    return f"{len(names)} {'/'.join(formats)} files ({logs.first_few(names)})"


def sniff_format(data: bytes) -> str | None:
    """``'jpeg'``, ``'png'``, ``'gif'``, ``'bmp'`` or ``'webp'`` from a file's first bytes."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _tf() -> Any:
    import tensorflow as tf

    return tf


def decode(buf: Any, channels: int = 3) -> Any:
    """``[h, w, channels]`` uint8 from an encoded image (fails on a bad file)."""
    tf = _tf()
    image = tf.io.decode_image(buf, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def looks_complete(buf: Any) -> Any:
    """True for a file ending like a whole JPEG (``FFD9``) or PNG (``IEND`` chunk).

    Six ops in all: every op in a ``tf.data`` function costs microseconds per image, and this
    runs for every image.
    """
    tf = _tf()
    size = tf.strings.length(buf)
    tails = tf.strings.substr(buf, tf.maximum(size - [2, 8], 0), [2, 8])
    return tf.reduce_any(tf.equal(tails, [b"\xff\xd9", b"IEND\xaeB`\x82"]))


def guarded_decode(buf: Any, channels: int) -> tuple[Any, Any]:
    """``(image, ok)``: the decoded image, or a 1x1 black image and ``False`` when ``buf`` does
    not decode -- one decode, inside a nested pipeline whose ``ignore_errors`` catches the
    failure."""
    tf = _tf()
    decoded = tf.data.Dataset.from_tensors(buf).filter(within_size_limit).map(
        lambda b: (decode(b, channels), tf.constant(True))
    ).ignore_errors()
    failed = tf.data.Dataset.from_tensors((tf.zeros([1, 1, channels], tf.uint8),
                                           tf.constant(False)))
    image, ok = decoded.concatenate(failed).take(1).get_single_element()
    image.set_shape([None, None, channels])
    return image, ok


def decodes(buf: Any, channels: int) -> Any:
    """Whether ``buf`` decodes: a nested pipeline whose ``ignore_errors`` catches the failure.

    A file over :data:`MAX_IMAGE_PIXELS` does not, and is never handed to the decoder.
    """
    tf = _tf()
    decoded = tf.data.Dataset.from_tensors(buf).filter(within_size_limit).map(
        lambda b: tf.shape(decode(b, channels))[0] >= 0
    ).ignore_errors()
    return decoded.concatenate(tf.data.Dataset.from_tensors(False)).take(1).get_single_element()


_HEADER = 26  # bytes holding the width and height of a PNG, GIF and BMP
_PNG_SIGNATURE = int.from_bytes(b"\x89PNG", "big", signed=True)


def declared_size(buf: Any) -> tuple[Any, Any]:
    """``(width, height)`` int64 declared by a PNG, GIF or BMP header; ``(0, 0)`` for other
    files (JPEG, WebP, not an image)."""
    tf = _tf()
    head = tf.io.decode_raw(tf.strings.substr(buf, 0, _HEADER), tf.uint8, fixed_length=_HEADER)
    byte = tf.cast(head, tf.int64)
    # rows: PNG (big-endian uint32 at 16 and 20), GIF (little-endian uint16 at 6 and 8),
    # BMP (little-endian int32 at 18 and 22; a negative height means top-down rows)
    index = tf.constant([[16, 17, 18, 19, 20, 21, 22, 23],
                         [7, 6, 0, 0, 9, 8, 0, 0],
                         [21, 20, 19, 18, 25, 24, 23, 22]])
    scale = tf.constant([[1 << 24, 1 << 16, 1 << 8, 1, 1 << 24, 1 << 16, 1 << 8, 1],
                         [1 << 8, 1, 0, 0, 1 << 8, 1, 0, 0],
                         [1 << 24, 1 << 16, 1 << 8, 1, 1 << 24, 1 << 16, 1 << 8, 1]], tf.int64)
    dims = tf.reduce_sum(tf.reshape(tf.gather(byte, index) * scale, [3, 2, 4]), axis=2)
    dims = tf.where(dims >= 1 << 31, (1 << 32) - dims, dims)  # BMP's signed height
    kind = tf.strings.substr(buf, 0, 4)
    row = tf.where(tf.equal(kind, b"\x89PNG"), 0,
                   tf.where(tf.equal(kind, b"GIF8"), 1,
                            tf.where(tf.equal(tf.strings.substr(kind, 0, 2), b"BM"), 2, 3)))
    size = tf.gather(tf.concat([dims, tf.zeros([1, 2], tf.int64)], 0), row)
    return size[0], size[1]


def within_size_limit(buf: Any) -> Any:
    """False for a PNG, GIF or BMP declaring more than :data:`MAX_IMAGE_PIXELS` pixels."""
    width, height = declared_size(buf)
    return width * height <= MAX_IMAGE_PIXELS


def png_within_size_limit(buf: Any) -> Any:
    """:func:`within_size_limit` for the files of the fast path (whole JPEGs and PNGs), in six
    ops: only a PNG can be a small file declaring a huge image there (TensorFlow's JPEG decoder
    refuses over 512 MB itself). A PNG over the limit takes the guarded path, which names it."""
    tf = _tf()
    words = tf.io.decode_raw(tf.strings.substr(buf, 0, 24), tf.int32, little_endian=False,
                             fixed_length=24)  # signature, IHDR length and name, width, height
    pixels = tf.cast(words[4], tf.int64) * tf.cast(words[5], tf.int64)
    return tf.logical_or(tf.not_equal(words[0], _PNG_SIGNATURE), pixels <= MAX_IMAGE_PIXELS)


def failure_reason(buf: Any) -> Any:
    """Why ``buf`` did not decode, in words (computed only for failed files)."""
    tf = _tf()
    width, height = declared_size(buf)
    too_large = tf.strings.join([
        "it declares ", tf.strings.as_string(width), " x ", tf.strings.as_string(height),
        f" pixels, more than the {MAX_IMAGE_PIXELS} mox decodes (a decompression bomb?)",
    ])
    signatures = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"RIFF")
    known = tf.reduce_any(
        [tf.equal(tf.strings.substr(buf, 0, len(sig)), sig) for sig in signatures]
    )
    tiff = tf.reduce_any([tf.equal(tf.strings.substr(buf, 0, 4), sig)
                          for sig in (b"II*\0", b"MM\0*")])
    return tf.where(
        width * height > MAX_IMAGE_PIXELS,
        too_large,
        tf.where(
            tf.equal(tf.strings.length(buf), 0),
            "the file is empty (0 bytes)",
            tf.where(
                known,
                "the file is truncated or corrupt",
                tf.where(
                    tiff,
                    "the file is a TIFF image, a format TensorFlow does not decode (convert "
                    "it to JPEG or PNG)",
                    "the file is not an image TensorFlow decodes (JPEG, PNG, GIF, BMP or WebP)",
                ),
            ),
        ),
    )


#: what a DataError about an image that does not decode says, besides the file and the reason
_UNDECODABLE = {"subject": "cannot decode image file", "skip_option": "skip_corrupt"}


def undecodable_image(path: str, reason: str, also: tuple[str, ...] | list[str] = (),
                      also_incomplete: bool = False) -> Any:
    """The ``mox_core.errors.DataError`` for image file ``path`` that does not decode."""
    from mox_core.errors import DataError

    return DataError(path, reason, also=also, also_incomplete=also_incomplete, **_UNDECODABLE)


class CorruptImagePolicy:
    """What a dataset does with a file that does not decode: fail naming it, or skip and log.

    ``skip=False``: the element raises ``InvalidArgumentError`` whose message names the file
    and says what is wrong with it. ``skip=True``: the element is dropped, a warning names the
    file, and ``skipped`` counts the files dropped so far (the count is in every warning).
    ``check_every_file``: without skipping too, every file is decoded in the guard (the cost of
    ``skip``), so a file damaged inside is named as well -- for small jobs such as predicting a
    folder, where no dataset scan follows a failure.

    A file is warned about and counted once, however many epochs skip it again. Skipping must
    not leave a useless dataset behind, so a dataset tells the policy what it holds
    (:meth:`expect`) and the skip that leaves nothing -- every file, or every file of one class
    -- raises a ``DataError`` naming the dataset (or the class) instead of training on the rest
    (when every file of several classes is bad, the first class found empty is named, with the
    number of files skipped so far: which files are good is not known before they are read).
    The check is made at that skip, in the input pipeline: decoding every file before training
    would cost a whole epoch up front, while this costs nothing per good file and stops a run
    during its first epoch at the latest (with nothing left at all: at its first step).
    """

    def __init__(self, skip: bool, check_every_file: bool = False) -> None:
        self.skip = skip
        self.check_every_file = check_every_file
        self._lock = threading.Lock()
        #: ``(file, reason)`` of each file the pipeline stopped on, for :meth:`explain`
        self._failures: list[tuple[str, str]] = []
        self._skipped: set[str] = set()
        self._skipped_of: dict[int, int] = {}
        self._where = ""
        self._total: int | None = None
        self._classes: dict[int, tuple[str, str, int]] = {}
        #: the DataErrors raised when skipping left nothing usable, for :meth:`explain`
        self._left_nothing: list[Any] = []

    @property
    def skipped(self) -> int:
        """Files skipped so far, each counted once."""
        return len(self._skipped)

    def expect(self, where: str, total: int | None,
               classes: dict[int, tuple[str, str, int]] | None = None) -> None:
        """What the dataset holds: ``total`` files in ``where`` (``None``: not known), and for
        each label it knows, ``(folder, class name, number of files)``."""
        self._where, self._total, self._classes = where, total, dict(classes or {})

    def note_skipped(self, name: str, reason: str, label: int | None = None) -> None:
        """Warn about skipped file ``name`` (once); a ``DataError`` when nothing usable is left."""
        from mox_core.datasets import logs

        with self._lock:
            if name in self._skipped:
                return
            self._skipped.add(name)
            count = len(self._skipped)
            if label is not None:
                self._skipped_of[label] = self._skipped_of.get(label, 0) + 1
            left_nothing = self._nothing_left(count, label)
            if left_nothing is not None:
                self._left_nothing.append(left_nothing)
        logs.warning("Skipping image %r: %s (%d skipped so far)", name, reason, count)
        if left_nothing is not None:
            raise left_nothing

    def _nothing_left(self, count: int, label: int | None) -> Any:
        from mox_core.errors import DataError

        if self._total is not None and count >= self._total:
            return DataError(self._where, f"all {self._total} image files were skipped as "
                             f"unreadable or corrupt", subject="no readable samples are left in",
                             action="Fix or replace the files")
        if label in self._classes and self._skipped_of[label] >= self._classes[label][2]:
            folder, name, files = self._classes[label]
            so_far = (f" ({count} of the dataset's {self._total} image files were skipped so "
                      f"far)" if self._total and count > files else "")
            return DataError(
                folder, f"all {files} image files of class {name!r} (label {label}) were "
                f"skipped as unreadable or corrupt, and a model trained without them never "
                f"predicts that class{so_far}", subject="no readable image is left in class folder",
                action="Fix or replace those files, or remove the class (its folder and its "
                       "line in the labels file)")
        return None

    def _log_from_graph(self, name: Any, reason: Any, label: Any) -> bool:
        label = int(label.numpy())
        self.note_skipped(name.numpy().decode("utf-8", "replace"),
                          reason.numpy().decode("utf-8", "replace"),
                          label if label >= 0 else None)
        return False

    def _note_failure(self, name: Any, reason: Any) -> bool:
        with self._lock:
            self._failures.append((name.numpy().decode("utf-8", "replace"),
                                   reason.numpy().decode("utf-8", "replace")))
        return False

    def explain(self, error: Any) -> Any:
        """The ``DataError`` for the file whose check stopped the pipeline with ``error``
        (TensorFlow's error quoting it), or the error raised when skipping left nothing usable,
        or ``None``: a ``mox_core.errors`` explainer."""
        with self._lock:
            failures = list(self._failures)
            left_nothing = list(self._left_nothing)
        for found in left_nothing:
            if found.reason in (error.message or ""):
                return found
        for name, reason in failures:
            if name in (error.message or ""):
                return undecodable_image(name, reason)
        return None

    def decode(self, buf: Any, name: Any, channels: int = 3,
               label: Any = None) -> tuple[Any, Any]:
        """``(image, ok)`` for the encoded image ``buf`` of file ``name`` (of class ``label``,
        an int64 scalar, when the dataset has one: see :meth:`expect`).

        Skipping: every file is decoded in the guard, and one that fails is logged, counted and
        comes out as a 1x1 placeholder with ``ok=False`` (the element is then dropped).
        Otherwise a file that looks complete is decoded directly and any other is first tried
        in the guarded decode, raising an error naming it when that fails. Only the verdict
        comes out of the ``cond``; the decode stays outside it (no nested function call per
        image) and waits for the verdict, so a bad file is named before TensorFlow's own
        decoder can fail on it.
        """
        tf = _tf()
        if self.skip or self.check_every_file:
            image, decoded = guarded_decode(buf, channels)
            return image, self.enforce(decoded, name, buf, label)
        ok = self.check(buf, name, channels)
        with tf.control_dependencies([ok]):
            return decode(buf, channels), ok

    def check(self, buf: Any, name: Any, channels: int = 3, label: Any = None) -> Any:
        """``ok`` for ``buf`` (the policy acts on failures): when skipping, every file is tried;
        otherwise only files that look wrong."""
        tf = _tf()
        if self.skip or self.check_every_file:
            return self.enforce(decodes(buf, channels), name, buf, label)
        fine = tf.logical_and(looks_complete(buf), png_within_size_limit(buf))
        return tf.cond(fine, lambda: tf.constant(True),
                       lambda: self.enforce(decodes(buf, channels), name, buf))

    def enforce(self, ok: Any, name: Any, buf: Any, label: Any = None) -> Any:
        """``ok`` once the policy has acted on a failure (raise, or log the skip)."""
        tf = _tf()
        from mox_core import errors

        if not tf.compat.v1.executing_eagerly_outside_functions():
            errors.add_explainer(tf.compat.v1.get_default_graph(), self.explain)
        if self.skip:
            label = tf.constant(-1, tf.int64) if label is None else tf.cast(label, tf.int64)
            return tf.cond(
                ok,
                lambda: tf.constant(True),
                lambda: tf.py_function(self._log_from_graph,
                                       [name, failure_reason(buf), label], tf.bool),
            )
        before, between, after = errors.DataError.message_around(**_UNDECODABLE)

        def fail() -> Any:
            reason = failure_reason(buf)
            # the words of the DataError (no quotes around the name: Assert escapes quotes)
            message = tf.strings.join([before, name, between, reason, after])
            noted = tf.py_function(self._note_failure, [name, reason], tf.bool)
            with tf.control_dependencies([noted]):
                stop = tf.debugging.Assert(False, [message])
            with tf.control_dependencies([stop]):
                return tf.constant(False)

        return tf.cond(ok, lambda: tf.constant(True), fail)
