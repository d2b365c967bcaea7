"""Converting a class-folder dataset to sharded TFRecords in TF-Slim's format.

What TF-Slim's ``download_and_convert_flowers.py`` does, for any class-folder dataset: list the
images (the rules of :class:`ImageClassificationRawMetadata`, labels file included), shuffle
them with a fixed seed, put the first ``validation_fraction`` in the ``validation`` split and
the rest in ``train``, and write ``{name}_{split}_{shard:05d}-of-{num_shards:05d}.tfrecord``
plus ``labels.txt`` (``0:daisy`` lines). Records carry TF-Slim's keys (``image/encoded``,
``image/format``, ``image/class/label``, ``image/height``, ``image/width``) and
``image/filename`` / ``image/class/text``, which TF-Slim's readers ignore and mox's use.

JPEG and PNG files are stored as they are (``jpg`` / ``png`` format strings, as TF-Slim writes
them); GIF, BMP and WebP are re-encoded as RGB PNG so that TF-Slim's decoder reads them too.
Every image is opened with Pillow first, so a bad file stops the conversion with its name -- or
is left out with a warning when ``skip_corrupt`` -- instead of ending up in a record. So is an
image declaring more than :data:`~mox_core.datasets.images.MAX_IMAGE_PIXELS` pixels (a
decompression bomb), the limit the input pipelines apply, checked before anything is decoded.

Nothing is written into ``dst_dir`` while converting: the shards and ``labels.txt`` are written
in a hidden folder beside it, then the two folders are swapped in one step, the other files of
``dst_dir`` carried over (``mox_core.file.atomic.publish_folder``). So a conversion that fails
or is killed leaves the previous output whole, and no partial shard set ever looks like a
dataset. ``dst_dir`` must therefore be a local folder whose parent is writable and which is
not itself a mount point.

Symbolic links that lead out of ``src_dir`` are not followed unless ``follow_symlinks``: a
dataset unpacked from someone else's archive could otherwise put any file its user can read (a
key, a credentials file) into shards that are then uploaded. See
:class:`~mox_core.datasets.raw.ImageClassificationRawMetadata`.

The output reads back with ``ImageClassificationTFRecordMetadata(dst_dir,
'{name}_train_*.tfrecord')``, and with ``get_dataset('flowers', ...)`` when ``name='flowers'``.
"""

from __future__ import annotations

import fnmatch
import glob as globlib
import io
import math
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mox_core.datasets import fs, logs
from mox_core.datasets.images import (
    ImageTooLargeError,
    check_pixels,
    header_size,
    sniff_format,
)
from mox_core.datasets.labels import format_labels
from mox_core.datasets.progress import progress_bar
from mox_core.datasets.raw import ImageClassificationRawMetadata
from mox_core.file.atomic import publish_folder

#: Shards are sized to about this many bytes of images when ``num_shards`` is not given.
TARGET_SHARD_BYTES = 100 * 1024 * 1024


class CorruptImageError(ValueError):
    """An image file Pillow cannot read completely: ``path``, and ``reason`` without its name
    ("it is not an image", "it is truncated or corrupt (...)"). :func:`convert_to_tfrecord`
    reports it as a :class:`~mox_core.errors.DataError` (:func:`refused`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"image file {path!r}: {reason}")
        self.path = path
        self.reason = reason


def refused(path: str, reason: str) -> Exception:
    """The error that stops a conversion at image file ``path``."""
    from mox_core.errors import DataError  # loads TensorFlow: listing commands must not

    return DataError(path, reason, subject="cannot convert image file",
                     skip_option="skip_corrupt", skips="to convert without such files")


def encode_for_record(path: str, data: bytes) -> tuple[bytes, str, int, int]:
    """``(encoded, format, height, width)`` of one image file, checked by decoding it fully.

    The size the header declares is checked first against mox's own limit, whatever a script
    has set Pillow's ``MAX_IMAGE_PIXELS`` to; Pillow's own refusal is reported the same way.
    """
    from PIL import Image, UnidentifiedImageError

    kind = sniff_format(data)
    if not data:
        raise CorruptImageError(path, "it is empty (0 bytes)")
    try:
        declared = header_size(data)
        if declared is not None:
            check_pixels(*declared, path)
        with Image.open(io.BytesIO(data)) as image:
            check_pixels(*image.size, path)
            image.load()
            width, height = image.size
            if kind in ("jpeg", "png"):
                return data, "jpg" if kind == "jpeg" else "png", height, width
            out = io.BytesIO()
            image.convert("RGB").save(out, "PNG")
            return out.getvalue(), "png", height, width
    except ImageTooLargeError as exc:
        raise CorruptImageError(path, f"it {exc.reason}") from None
    except Image.DecompressionBombError as exc:
        raise CorruptImageError(path, f"it is too large to decode ({exc})") from None
    except UnidentifiedImageError:
        raise CorruptImageError(path, "it is not an image") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged data
        raise CorruptImageError(path, f"it is truncated or corrupt ({exc})") from None


def _example(encoded: bytes, image_format: str, height: int, width: int, label: int,
             filename: str, text: str) -> bytes:
    import tensorflow as tf

    def b(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def i(value: int) -> tf.train.Feature:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": b(encoded),
        "image/format": b(image_format.encode()),
        "image/class/label": i(label),
        "image/height": i(height),
        "image/width": i(width),
        "image/filename": b(filename.encode("utf-8")),
        "image/class/text": b(text.encode("utf-8")),
    })).SerializeToString()


def split_samples(samples: list[Any], validation_fraction: float, seed: int) -> dict[str, list]:
    """TF-Slim's split: shuffle with ``seed``, the first ``round(fraction * n)`` are validation."""
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    shuffled = list(samples)
    random.Random(seed).shuffle(shuffled)
    num_validation = int(round(validation_fraction * len(shuffled)))
    splits = {"train": shuffled[num_validation:]}
    if num_validation:
        splits["validation"] = shuffled[:num_validation]
    return splits


def shard_name(name: str, split: str, shard: int, num_shards: int) -> str:
    return f"{name}_{split}_{shard:05d}-of-{num_shards:05d}.tfrecord"


def _sizes(paths: list[str]) -> int:
    return sum(os.path.getsize(p) for p in paths if not fs.is_url(p) and os.path.isfile(p))


def convert_to_tfrecord(
    src_dir: str,
    dst_dir: str,
    num_shards: int | None = None,
    validation_fraction: float = 0.0,
    name: str | None = None,
    labels_filename: str = "labels.txt",
    seed: int = 0,
    skip_corrupt: bool = False,
    overwrite: bool = False,
    num_threads: int = 8,
    progress: bool = True,
    follow_symlinks: bool = False,
) -> dict[str, int]:
    """Convert the class folders in ``src_dir`` to TFRecords in ``dst_dir``; returns the number
    of records written per split (``{'train': n, 'validation': m}``).

    ``num_shards`` per split (default: about 100 MB of images per shard); ``name`` prefixes the
    files (default: ``src_dir``'s folder name). Existing output files of that name are an error
    unless ``overwrite``; then they are replaced only once the new ones are complete, and a
    conversion that fails leaves ``dst_dir`` as it was. ``follow_symlinks``: also convert
    files and class folders reached through symbolic links that leave ``src_dir`` (left out
    with a warning naming them otherwise).
    """
    if num_shards is not None and num_shards < 1:
        raise ValueError(f"num_shards must be at least 1, got {num_shards}")
    meta = ImageClassificationRawMetadata(src_dir, labels_filename=labels_filename,
                                          follow_symlinks=follow_symlinks)
    name = name or os.path.basename(os.path.normpath(src_dir)) or "data"
    if meta.unreadable and not skip_corrupt:
        rel, why = meta.unreadable[0]
        raise refused(fs.join(src_dir, rel), f"it cannot be read ({why})")
    if meta.empty_classes and not skip_corrupt:
        from mox_core.errors import DataError  # loads TensorFlow

        folder = fs.join(src_dir, meta.empty_classes[0])
        raise DataError(folder, "it has no image files", subject="class folder",
                        action="Add its images or remove the folder", skip_option="skip_corrupt",
                        skips="to convert without that class")
    if fs.is_url(dst_dir):
        raise ValueError(f"the output folder must be local, got {dst_dir!r}: convert to a local "
                         f"folder, then copy it with mox.file.copy_parallel")
    existing = fs.glob(fs.join(dst_dir, f"{globlib.escape(name)}_*.tfrecord"))
    if existing and not overwrite:
        raise ValueError(f"{dst_dir!r} already holds {len(existing)} TFRecord files named "
                         f"{name}_*.tfrecord; pass overwrite=True to replace them")
    with publish_folder(dst_dir, replace=True,
                        keep=lambda entry: not _written_by(entry, name)) as staging:
        counts, skipped = _write_shards(meta, src_dir, staging, name, num_shards,
                                        validation_fraction, seed, skip_corrupt, num_threads,
                                        progress)
    logs.info("Wrote %s records of %d classes to %s%s",
              ", ".join(f"{n} {split}" for split, n in counts.items()), meta.num_classes,
              dst_dir, f"; skipped {skipped} corrupt images" if skipped else "")
    return counts


def _written_by(entry: str, name: str) -> bool:
    """Whether ``entry`` of the output folder is a file a conversion named ``name`` writes (the
    rest of the folder is carried over to the new version of it)."""
    return entry == "labels.txt" or fnmatch.fnmatchcase(entry,
                                                         f"{globlib.escape(name)}_*.tfrecord")


def _write_shards(meta: ImageClassificationRawMetadata, src_dir: str, dst_dir: str, name: str,
                  num_shards: int | None, validation_fraction: float, seed: int,
                  skip_corrupt: bool, num_threads: int, progress: bool
                  ) -> tuple[dict[str, int], int]:
    """Write the shards and ``labels.txt`` into the empty folder ``dst_dir``; returns the
    records written per split and the number of images left out."""
    import tensorflow as tf

    splits = split_samples(meta.samples, validation_fraction, seed)
    counts: dict[str, int] = {}
    skipped: list[str] = []

    def prepare(sample: tuple[str, int]) -> bytes | None:
        relative, label = sample
        path = fs.join(src_dir, relative)
        problem = None
        try:
            encoded, image_format, height, width = encode_for_record(path, fs.read_bytes(path))
        except CorruptImageError as exc:
            problem = exc
        except OSError as exc:
            problem = CorruptImageError(path, f"it cannot be read ({exc})")
        if problem is not None:
            if not skip_corrupt:
                raise refused(problem.path, problem.reason) from None
            skipped.append(path)
            logs.warning("Skipping image file %r: %s (%d skipped so far)", path, problem.reason,
                         len(skipped))
            return None
        return _example(encoded, image_format, height, width, label, relative,
                        meta.labels_list[label])

    total = sum(len(s) for s in splits.values())
    with progress_bar(total, f"Converting {src_dir}", enabled=progress) as bar, \
            ThreadPoolExecutor(max_workers=num_threads) as pool:
        for split, samples in splits.items():
            shards = num_shards or max(1, math.ceil(
                _sizes([fs.join(src_dir, rel) for rel, _ in samples]) / TARGET_SHARD_BYTES))
            per_shard = math.ceil(len(samples) / shards)
            counts[split] = 0
            for shard in range(shards):
                chunk = samples[shard * per_shard:(shard + 1) * per_shard]
                target = fs.join(dst_dir, shard_name(name, split, shard, shards))
                with tf.io.TFRecordWriter(target) as writer:
                    for record in pool.map(prepare, chunk):
                        bar.update()
                        if record is not None:
                            writer.write(record)
                            counts[split] += 1
    with open(os.path.join(dst_dir, "labels.txt"), "w", encoding="utf-8") as handle:
        handle.write(format_labels(meta.labels_list))
    return counts, len(skipped)
