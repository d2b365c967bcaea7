"""Image classification from a folder of class folders (MoXing's "raw" datasets).

::

    base_dir/
        daisy/      100080576_f52e8ee070_n.jpg ...
        roses/      ...
        labels.txt  (optional: "0: daisy" lines, or one name per line)

Labels come from the labels file when there is one -- its names must be exactly the class
folders -- and otherwise from the folder names, sorted. Every image file directly inside a class
folder is a sample (``.jpg .jpeg .png .bmp .gif .webp``, any case); other files, sub-folders and
hidden entries are left out.

Symbolic links that lead out of ``base_dir`` (a class folder or an image linked to somewhere
else) are not followed unless ``follow_symlinks=True``: a dataset unpacked from someone else's
archive could otherwise read any file its user can read (a key, a credentials file) into the
pipeline, a cache or converted TFRecords. One warning names the links left out; links that stay
inside ``base_dir`` work as before.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mox_core.datasets import fs, logs
from mox_core.datasets.cache import cache_files, resolve_cache_dir
from mox_core.datasets.images import (
    CONVERT_THEM,
    IMAGE_EXTENSIONS,
    has_image_extension,
    unsupported_format,
    unsupported_summary,
)
from mox_core.datasets.labels import parse_labels
from mox_core.datasets.pipeline import ImageDatasetBase
from mox_core.datasets.readers import ParallelReader, make_reader
from mox_core.datasets.split import split_image_classification_dataset  # noqa: F401 (MoXing path)

_EXTENSIONS = " ".join(sorted(IMAGE_EXTENSIONS))


def labels_file_path(base_dir: str, labels_filename: str | None) -> str | None:
    """Where the labels file is (relative names are inside ``base_dir``); ``None`` if absent."""
    if not labels_filename:
        return None
    path = labels_filename
    if not (fs.is_url(path) or path.startswith("/")):
        path = fs.join(base_dir, labels_filename)
    return path if fs.exists(path) else None


def check_base_dir(base_dir: str) -> None:
    if not isinstance(base_dir, str) or not base_dir:
        raise ValueError(f"base_dir must be a folder path, got {base_dir!r}")
    if not fs.isdir(base_dir):
        raise ValueError(f"dataset folder {base_dir!r} does not exist or is not a folder")


class ImageClassificationRawMetadata:
    """What is in a class-folder dataset: classes, their names, and every sample.

    Listing happens here, once (build it in ``main``, outside ``input_fn``). ``redirect_dir``:
    files are listed under ``base_dir`` and read from the same relative paths under
    ``redirect_dir`` (e.g. a local copy of a remote dataset). ``follow_symlinks``: also take
    class folders and images reached through symbolic links that leave ``base_dir``; without
    it they are left out, named in one warning, and listed in ``links_outside``.
    """

    def __init__(self, base_dir: str, redirect_dir: str | None = None,
                 labels_filename: str = "labels.txt", follow_symlinks: bool = False) -> None:
        check_base_dir(base_dir)
        self.base_dir = base_dir
        self.redirect_dir = redirect_dir or None
        self.labels_filename = labels_filename
        self.follow_symlinks = bool(follow_symlinks)
        root = fs.confinement_root(base_dir, self.follow_symlinks)
        listing = fs.list_folder(base_dir, check_dirs=True, inside=root)
        folders = listing.dirs
        #: (path relative to base_dir, where it leads) of the links left out
        self.links_outside: list[tuple[str, str]] = list(listing.outside)
        labels_path = labels_file_path(base_dir, labels_filename)
        if labels_path is not None:
            names = parse_labels(fs.read_text(labels_path, "labels file"), labels_path)
            self._check_against_folders(names, folders, labels_path, self.links_outside)
        else:
            names = list(folders)
        if not names:
            linked = (f" ({logs.first_few([n for n, _ in self.links_outside])} are symbolic "
                      f"links leading out of it, not followed: pass follow_symlinks=True to "
                      f"read them)" if self.links_outside else "")
            raise ValueError(
                f"dataset folder {base_dir!r} has no class folders{linked}: put each class's "
                f"images in a sub-folder named after the class"
            )
        self.labels_list: list[str] = names
        #: (path relative to base_dir, label index) of every sample, class by class
        self.samples: list[tuple[str, int]] = []
        #: (relative path, why) of image entries that cannot be read (broken links, pipes)
        self.unreadable: list[tuple[str, str]] = []
        #: class names whose folder holds no image file
        self.empty_classes: list[str] = []
        #: relative paths of images in a format TensorFlow does not decode (TIFF, HEIC, ...)
        self.unsupported: list[str] = []
        ignored = 0
        with ThreadPoolExecutor(max_workers=16) as pool:
            listings = list(pool.map(
                lambda n: fs.list_folder(fs.join(base_dir, n), inside=root), names))
        for index, (name, folder) in enumerate(zip(names, listings)):
            self.links_outside.extend((f"{name}/{f}", target) for f, target in folder.outside)
            images = [f for f in folder.files if has_image_extension(f)]
            self.unsupported.extend(f"{name}/{f}" for f in folder.files if unsupported_format(f))
            ignored += len(folder.files) - len(images)
            self.samples.extend((f"{name}/{f}", index) for f in images)
            self.unreadable.extend(
                (f"{name}/{f}", why) for f, why in folder.unreadable if has_image_extension(f)
            )
            if not images and not any(has_image_extension(f) for f, _ in folder.unreadable):
                self.empty_classes.append(name)
        found = len(self.samples) + len(self.unreadable)
        logs.info(
            "Total %d files found in %s ; Total number of samples is %d ; "
            "Labels index to name:\n%s", found, base_dir, len(self.samples),
            logs.labels_block(names),
        )
        if self.unsupported:
            logs.warning("Left out %s in class folders of %s: an unsupported format. %s",
                         unsupported_summary(self.unsupported), base_dir, CONVERT_THEM)
        if ignored > len(self.unsupported):
            logs.info("Left out %d files in class folders of %s that are not images (%s)",
                      ignored - len(self.unsupported), base_dir, _EXTENSIONS)
        warn_links_outside(base_dir, self.links_outside)
        for name in self.empty_classes:
            logs.warning("Class folder %r (label %d) has no image files%s",
                         fs.join(base_dir, name), names.index(name), self.unsupported_in(name))

    def unsupported_in(self, name: str) -> str:
        """What class ``name``'s folder holds in unsupported formats, as a clause for messages
        about it ('' when nothing)."""
        files = [rel for rel in self.unsupported if rel.split("/", 1)[0] == name]
        return (f" in a format TensorFlow decodes (it holds {unsupported_summary(files)}: "
                f"{CONVERT_THEM})" if files else "")

    @staticmethod
    def _check_against_folders(names: list[str], folders: list[str], labels_path: str,
                               links_outside: list[tuple[str, str]]) -> None:
        if set(names) == set(folders):
            return
        only_file = [n for n in names if n not in set(folders)]
        only_folders = [f for f in folders if f not in set(names)]
        parts = [f"labels file {labels_path!r} lists {len(names)} classes but the dataset has "
                 f"{len(folders)} class folders"]
        if only_file:
            parts.append(f"classes without a folder: {logs.first_few(only_file)}")
        if only_folders:
            parts.append(f"folders not in the labels file: {logs.first_few(only_folders)}")
        linked = [name for name, _ in links_outside if name in only_file]
        if linked:
            parts.append(f"{logs.first_few(linked)} are symbolic links leading out of the "
                         f"dataset folder, not followed (pass follow_symlinks=True to read them)")
        raise ValueError("; ".join(parts))

    def subset(self, files: list[str], what: str) -> ImageClassificationRawMetadata:
        """This dataset restricted to ``files`` (paths relative to ``base_dir``, as in
        ``samples``), with the same classes and labels; ``what`` names the part in the log
        (e.g. "validation part"). Its ``total_num_samples`` counts only those files."""
        kept = set(files)
        part = copy.copy(self)
        part.samples = [sample for sample in self.samples if sample[0] in kept]
        part.unreadable = [entry for entry in self.unreadable if entry[0] in kept]
        logs.info("%s of %s: %d of its %d samples", what, self.base_dir, len(part.samples),
                  len(self.samples))
        return part

    @property
    def total_num_samples(self) -> int:
        return len(self.samples)

    @property
    def num_classes(self) -> int:
        return len(self.labels_list)

    @property
    def labels_to_names(self) -> dict[int, str]:
        return dict(enumerate(self.labels_list))

    @property
    def names_to_labels(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.labels_list)}

    def __repr__(self) -> str:
        return (f"ImageClassificationRawMetadata(base_dir={self.base_dir!r}, "
                f"num_classes={self.num_classes}, total_num_samples={self.total_num_samples})")


def warn_links_outside(base_dir: str, links: list[tuple[str, str]]) -> None:
    """One warning naming the symbolic links out of ``base_dir`` that were left out."""
    if links:
        logs.warning(
            "Left out %d symbolic links in %s that lead out of the dataset folder: %s. Pass "
            "follow_symlinks=True (on the mox command line: --follow-symlinks) to read them", len(links),
            base_dir, logs.first_few([f"{rel} -> {target}" for rel, target in links]))


class RawDatasetBase(ImageDatasetBase):
    """Reading listed files through a reader, for the class-folder and multi-label datasets.

    Subclasses set ``self._relative`` (paths relative to the metadata's ``base_dir``) and
    implement ``_label_columns`` / ``_label_stage``.
    """

    def _setup_files(self, metadata: Any, relative: list[str], unreadable: list[tuple[str, str]],
                     reader_class: Any, reader_kwargs: dict | None, num_readers: int,
                     capacity: int, cache_dir: str | None, remove_cache_on_finish: bool,
                     label_of: dict[str, int] | None = None) -> list[int]:
        """Apply the unreadable-file policy, set up reading and caching; returns kept indices.
        ``label_of``: the class index of each file (listed or unreadable), when files have one."""
        self.metadata = metadata
        self._reader = make_reader(reader_class, num_readers, capacity, reader_kwargs)
        base = metadata.base_dir
        problems = {rel: why for rel, why in unreadable}
        keep = list(range(len(relative)))
        if self.skip_corrupt:
            root = metadata.redirect_dir or base
            for i in keep:
                why = fs.unreadable_reason(fs.join(root, relative[i]))
                if why:
                    problems.setdefault(relative[i], why)
            keep = [i for i in keep if relative[i] not in problems]
            for rel, why in problems.items():
                self._policy.note_skipped(fs.join(base, rel), f"it cannot be read: {why}",
                                          (label_of or {}).get(rel))
        elif problems:
            from mox_core.errors import DataError

            (rel, why), *more = problems.items()
            raise DataError(fs.join(base, rel), why, subject="cannot read image file",
                            also=[fs.join(base, other) for other, _ in more[:5]],
                            also_incomplete=len(more) > 5, skip_option="skip_corrupt")
        if not keep:
            raise ValueError(f"no readable samples are left in {base!r}")
        kept = [relative[i] for i in keep]
        root = metadata.redirect_dir or base
        cache_root = resolve_cache_dir(cache_dir)
        if cache_root is not None:
            self._cache = cache_files(root, kept, cache_root, remove_cache_on_finish)
            root = self._cache.root
        self._image_names = [fs.join(base, rel) for rel in kept]
        self._read_paths = [fs.join(root, rel) for rel in kept]
        # Local files and the default reader: read inside the decode stage, one tf.data stage
        # less per image (read-ahead pays for remote storage, not for a local disk).
        self._read_inline = type(self._reader) is ParallelReader and not fs.is_url(root)
        if hasattr(self._reader, "mox_file_urls"):
            self._reader.mox_file_urls = fs.served_by_mox_file(root)
        return keep

    @property
    def num_samples(self) -> int:
        """Samples read per epoch (the metadata's, less what was skipped before reading)."""
        return len(self._read_paths)

    def _label_columns(self) -> dict:
        raise NotImplementedError

    def _elements(self, shuffle: bool) -> Any:
        import tensorflow as tf

        columns = {"path": tf.constant(self._read_paths)}
        columns["image_name"] = (
            columns["path"] if self._image_names == self._read_paths
            else tf.constant(self._image_names)
        )
        columns.update(self._label_columns())
        dataset = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle:
            dataset = dataset.shuffle(len(self._read_paths), reshuffle_each_iteration=True)
        if not self._read_inline:
            dataset = self._reader.read(dataset, deterministic=not shuffle)
        return self._shuffle_buffer(dataset, shuffle)

    def _complete(self, element: dict) -> dict:
        if self._read_inline:
            import tensorflow as tf

            element = {**element, "image_buf": tf.io.read_file(element["path"])}
        return self._label_stage(element)


class ImageClassificationRawDataset(RawDatasetBase):
    """Images and labels of an :class:`ImageClassificationRawMetadata` as graph tensors.

    ``get(['image', 'label', 'label_desc', 'image_name', 'image_buf'])``: ``image`` is
    ``[h, w, 3]`` uint8 (resized to ``image_size`` with nearest neighbour when given, then
    ``augmentation_fn``), ``label`` int64 (float32 one-hot with ``label_one_hot``),
    ``label_desc`` the class name, ``image_name`` the file's path under ``base_dir``,
    ``image_buf`` the file's bytes. With ``batch_size``, one of ``image_size``,
    ``preprocess_fn(image_name, image_buf, label, label_desc)`` (called on batched raw buffers,
    returns the four with the decoded image in place of the buffer) or an ``augmentation_fn``
    with a fixed output size is required.

    ``num_readers`` files are read in parallel by the reader (``reader_class``: a registered
    name or class, ``ParallelReader`` by default; ``reader_kwargs`` go to it) with ``capacity``
    contents read ahead; ``preprocess_threads`` images are decoded in parallel. (Local files
    with the default reader are read in the decode stage instead, one stage less per image:
    read-ahead pays off on remote storage, not on a local disk.) Each epoch visits
    every sample once, in a new order when ``shuffle`` (the whole file list is shuffled, then
    read contents pass a ``shuffle_buffer_size`` buffer); ``num_epochs=None`` repeats forever.
    ``cache_dir`` (``'ENV'``: ``$DLS_LOCAL_CACHE_PATH``) copies the files there first.
    ``private_num_threads > 0`` gives the pipeline its own thread pool.

    ``skip_corrupt`` (mox's addition): files that cannot be read or decoded are skipped with a
    warning naming each and counting them (``num_skipped``) instead of stopping with an error
    naming the file.
    """

    def __init__(
        self,
        metadata: ImageClassificationRawMetadata,
        batch_size: int | None = None,
        num_readers: int = 8,
        num_epochs: int | None = None,
        shuffle: bool = True,
        shuffle_buffer_size: int = 16,
        capacity: int = 256,
        cache_dir: str | None = None,
        preprocess_fn: Callable | None = None,
        preprocess_threads: int = 12,
        image_size: Any = None,
        remove_cache_on_finish: bool = True,
        private_num_threads: int = 0,
        reader_class: Any = None,
        reader_kwargs: dict | None = None,
        drop_remainder: bool = False,
        augmentation_fn: Callable | None = None,
        label_one_hot: bool = False,
        skip_corrupt: bool = False,
    ) -> None:
        if not isinstance(metadata, ImageClassificationRawMetadata):
            raise TypeError(
                f"metadata must be an ImageClassificationRawMetadata, got {type(metadata).__name__}"
            )
        super().__init__(
            batch_size=batch_size, num_epochs=num_epochs, shuffle=shuffle,
            shuffle_buffer_size=shuffle_buffer_size, preprocess_fn=preprocess_fn,
            preprocess_threads=preprocess_threads, image_size=image_size,
            private_num_threads=private_num_threads, drop_remainder=drop_remainder,
            augmentation_fn=augmentation_fn, label_one_hot=label_one_hot,
            num_classes=metadata.num_classes, skip_corrupt=skip_corrupt,
        )
        for name in metadata.empty_classes:
            folder = fs.join(metadata.base_dir, name)
            index = metadata.labels_list.index(name)
            if not skip_corrupt:
                from mox_core.errors import DataError

                raise DataError(
                    folder, f"it has no image files ({_EXTENSIONS})"
                    f"{metadata.unsupported_in(name)}", subject=f"class {index} folder",
                    action="Add its images, or remove the folder (and its line in the labels "
                           "file)", skip_option="skip_corrupt",
                    skips="to train without that class's samples")
            logs.warning("Training without samples of class %d (%r): its folder %r is empty",
                         index, name, folder)
        relative = [rel for rel, _ in metadata.samples]
        labels = [label for _, label in metadata.samples]
        label_of = dict(metadata.samples)
        label_of.update((rel, metadata.names_to_labels[rel.split("/", 1)[0]])
                        for rel, _ in metadata.unreadable)
        files_of = Counter(label_of.values())
        self._policy.expect(metadata.base_dir, len(label_of), {
            label: (fs.join(metadata.base_dir, name), name, files_of[label])
            for label, name in enumerate(metadata.labels_list) if files_of[label]})
        keep = self._setup_files(metadata, relative, metadata.unreadable, reader_class,
                                 reader_kwargs, num_readers, capacity, cache_dir,
                                 remove_cache_on_finish, label_of)
        self._labels = [labels[i] for i in keep]

    def _label_columns(self) -> dict:
        import tensorflow as tf

        return {"label": tf.constant(self._labels, tf.int64)}

    def _label_stage(self, element: dict) -> dict:
        import tensorflow as tf

        names = tf.constant(self.metadata.labels_list)
        return {**element, "label_desc": tf.gather(names, element["label"]),
                "source": element["image_name"]}
