"""Multi-label image classification from an images folder and a labels folder.

::

    base_dir/
        images/   0.jpg  1.jpg ...
        labels/   0.jpg.txt  1.jpg.txt ...   (the class names of each image)
        labels.txt                            (optional: the classes, see below)

``labels.txt`` holds ``index: name`` entries, one per line or all on one line as MoXing's
documentation shows them (``0: bird 1: cat 2: dog``), or one bare name per line
(``mox_core.datasets.labels``).

An image's label file lists its class names one per line, or on one line separated by spaces
(``bird dog``), MoXing's other documented form. With the default ``label_sep`` (a newline) the
rule is:

* a file of several lines has one class per line, and a name may contain spaces;
* a file of one line is one class when that line is a class name (``sports car``), and else a
  space-separated list of classes (``bird dog``); a line that is both a class name and a list of
  class names (classes ``a``, ``b`` and ``a b``) is an error naming the file, as is any name
  that is not a class.

Without ``labels.txt`` the classes are the names found in the label files, sorted: every line of
a file of several lines, and one-line files read by the rule above, a line counting as a class
name when some file of several lines lists it. So a class whose name holds spaces needs a labels
file, or a label file listing it on a line of its own, to be told apart from a list.
Another ``label_sep`` (``','``) splits every file on it and nothing else.

The label of an image is a multi-hot float32 vector of ``num_classes``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mox_core.datasets import fs, logs
from mox_core.datasets.images import has_image_extension
from mox_core.datasets.labels import parse_labels
from mox_core.datasets.raw import (
    RawDatasetBase,
    check_base_dir,
    labels_file_path,
    warn_links_outside,
)


def split_labels(text: str, sep: str) -> list[str]:
    """The class names in one label file's text (pieces between ``sep``, stripped, non-empty)."""
    return [piece.strip() for piece in text.split(sep) if piece.strip()]


def image_labels(text: str, sep: str, classes: Collection[str], source: str) -> list[str]:
    """The class names one label file lists, by the rule of this module's docstring.

    ``classes`` are the known class names; ``source`` (the file's path) names the file in the
    error raised for a line that is both a class name and a list of class names. Names are not
    checked against ``classes`` here.
    """
    pieces = split_labels(text, sep)
    if sep != "\n" or len(pieces) != 1:
        return pieces
    line = pieces[0]
    words = line.split()
    if len(words) == 1:
        return pieces
    if line not in classes:
        return words
    if all(word in classes for word in words):
        raise ValueError(
            f"label file {source!r} is ambiguous: its line {line!r} is a class name and also "
            f"the space-separated class names {', '.join(map(repr, words))}; write one class "
            f"per line (a file of several lines is read one class per line)"
        )
    return pieces


class MultilabelClassificationRawMetadata:
    """The images, their label files and the classes of a multi-label dataset.

    ``label_texts[i]`` is the text of image ``images[i]``'s label file, or ``None`` when it has
    none (the dataset decides: an error naming the image, or a skip with
    ``skip_label_not_found``).

    ``follow_symlinks``: also take images and label files reached through symbolic links that
    leave ``base_dir``; without it they are left out (a dataset from someone else's archive
    must not read the user's other files), named in one warning and in ``links_outside``.
    """

    def __init__(self, base_dir: str, images_sub_dir: str = "images",
                 labels_sub_dir: str = "labels", labels_extension: str = "txt",
                 redirect_dir: str | None = None, labels_filename: str = "labels.txt",
                 follow_symlinks: bool = False) -> None:
        check_base_dir(base_dir)
        self.base_dir = base_dir
        self.redirect_dir = redirect_dir or None
        self.images_sub_dir = images_sub_dir
        self.labels_sub_dir = labels_sub_dir
        self.labels_extension = labels_extension.lstrip(".")
        images_dir = fs.join(base_dir, images_sub_dir)
        labels_dir = fs.join(base_dir, labels_sub_dir)
        for what, folder in (("images", images_dir), ("labels", labels_dir)):
            if not fs.isdir(folder):
                raise ValueError(f"the {what} folder {folder!r} of the dataset does not exist")
        self.follow_symlinks = bool(follow_symlinks)
        root = fs.confinement_root(base_dir, self.follow_symlinks)
        for what, folder in (("images", images_dir), ("labels", labels_dir)):
            target = fs.leads_outside(folder, root)
            if target is not None:
                raise ValueError(
                    f"the {what} folder {folder!r} is a symbolic link leading out of the "
                    f"dataset folder (to {target!r}); pass follow_symlinks=True to read it"
                )
        listing = fs.list_folder(images_dir, inside=root)
        labels_listing = fs.list_folder(labels_dir, inside=root)
        #: (path relative to base_dir, where it leads) of the links left out
        self.links_outside: list[tuple[str, str]] = [
            (f"{sub}/{name}", target)
            for sub, found in ((images_sub_dir, listing), (labels_sub_dir, labels_listing))
            for name, target in found.outside
        ]
        warn_links_outside(base_dir, self.links_outside)
        self.images: list[str] = [f for f in listing.files if has_image_extension(f)]
        self.unreadable = [(f"{images_sub_dir}/{f}", why) for f, why in listing.unreadable
                           if has_image_extension(f)]
        if not self.images:
            raise ValueError(f"the images folder {images_dir!r} has no image files")
        label_files = set(labels_listing.files)

        def read_label(image: str) -> str | None:
            name = f"{image}.{self.labels_extension}"
            if name not in label_files:
                return None
            return fs.read_text(fs.join(labels_dir, name), "label file")

        with ThreadPoolExecutor(max_workers=16) as pool:
            self.label_texts: list[str | None] = list(pool.map(read_label, self.images))
        labels_path = labels_file_path(base_dir, labels_filename)
        self.labels_path = labels_path
        if labels_path is not None:
            names = parse_labels(fs.read_text(labels_path, "labels file"), labels_path)
        else:
            names = self._classes_from_label_files()
        if not names:
            raise ValueError(
                f"the label files in {labels_dir!r} name no class and there is no labels file"
            )
        self.labels_list: list[str] = names
        missing = sum(text is None for text in self.label_texts)
        logs.info(
            "Total %d files found in %s ; Total number of samples is %d ; "
            "Labels index to name:\n%s", len(self.images), images_dir, len(self.images),
            logs.labels_block(names),
        )
        if missing:
            logs.warning("%d images in %s have no label file in %s", missing, images_dir,
                         labels_dir)

    def _classes_from_label_files(self) -> list[str]:
        """Every class the label files name (no labels file), sorted; see the module doc."""
        lines = [(image, split_labels(text, "\n")) for image, text in
                 zip(self.images, self.label_texts) if text]
        listed = {name for _, names in lines if len(names) > 1 for name in names}
        known = listed | {names[0] for _, names in lines
                          if len(names) == 1 and len(names[0].split()) == 1}
        found = set(known)
        split = []
        for image, names in lines:
            if len(names) == 1 and len(names[0].split()) > 1:
                words = image_labels(names[0], "\n", known, self.label_file(image))
                found.update(words)
                if len(words) > 1:
                    split.append(image)
        if split:
            logs.info(
                "%d one-line label files list several space-separated classes (e.g. %s); a "
                "class name with spaces needs a labels file or a line of its own in a label "
                "file", len(split), self.label_file(split[0]))
        return sorted(found)

    @property
    def total_num_samples(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        return len(self.labels_list)

    @property
    def labels_to_names(self) -> dict[int, str]:
        return dict(enumerate(self.labels_list))

    @property
    def names_to_labels(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.labels_list)}

    def label_file(self, image: str) -> str:
        return fs.join(self.base_dir, self.labels_sub_dir, f"{image}.{self.labels_extension}")


class MultilabelClassificationRawDataset(RawDatasetBase):
    """Images and multi-hot labels of a :class:`MultilabelClassificationRawMetadata`.

    Keys of ``get``: ``image``, ``label`` (float32 multi-hot ``[num_classes]``),
    ``label_desc`` (the image's class names joined by ``label_sep``), ``image_name``,
    ``image_buf``. ``label_sep`` separates class names inside a label file. An image without a
    label file is an error naming it, unless ``skip_label_not_found`` (then it is left out, with
    a warning counting such images). A name that is not a class is always an error naming the
    label file: it would otherwise become a wrong label. The other arguments are those of
    :class:`~mox_core.datasets.raw.ImageClassificationRawDataset`.
    """

    def __init__(
        self,
        metadata: MultilabelClassificationRawMetadata,
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
        label_sep: str = "\n",
        skip_label_not_found: bool = False,
        augmentation_fn: Callable | None = None,
        skip_corrupt: bool = False,
    ) -> None:
        if not isinstance(metadata, MultilabelClassificationRawMetadata):
            raise TypeError(
                "metadata must be a MultilabelClassificationRawMetadata, got "
                f"{type(metadata).__name__}"
            )
        if not label_sep:
            raise ValueError("label_sep must not be empty")
        super().__init__(
            batch_size=batch_size, num_epochs=num_epochs, shuffle=shuffle,
            shuffle_buffer_size=shuffle_buffer_size, preprocess_fn=preprocess_fn,
            preprocess_threads=preprocess_threads, image_size=image_size,
            private_num_threads=private_num_threads, drop_remainder=drop_remainder,
            augmentation_fn=augmentation_fn, label_one_hot=False,
            num_classes=metadata.num_classes, skip_corrupt=skip_corrupt,
        )
        self.label_sep = label_sep
        self.skip_label_not_found = skip_label_not_found
        index = metadata.names_to_labels
        relative, label_ids, unlabelled = [], [], []
        for image, text in zip(metadata.images, metadata.label_texts):
            if text is None:
                unlabelled.append(image)
                continue
            source = metadata.label_file(image)
            listed = image_labels(text, label_sep, index, source)
            ids = []
            for name in listed:
                if name not in index:
                    raise ValueError(self._unknown_label(metadata, source, text, listed, name))
                ids.append(index[name])
            relative.append(f"{metadata.images_sub_dir}/{image}")
            label_ids.append(sorted(set(ids)))
        if unlabelled and not skip_label_not_found:
            raise ValueError(
                f"image {fs.join(metadata.base_dir, metadata.images_sub_dir, unlabelled[0])!r} "
                f"has no label file {metadata.label_file(unlabelled[0])!r}"
                + (f" ({len(unlabelled) - 1} more images have none)" if len(unlabelled) > 1
                   else "")
                + "; pass skip_label_not_found=True to leave such images out"
            )
        if unlabelled:
            logs.warning("Skipping %d images without a label file in %s: %s", len(unlabelled),
                         fs.join(metadata.base_dir, metadata.labels_sub_dir),
                         logs.first_few(unlabelled))
        self.num_skipped_unlabelled = len(unlabelled)
        if not relative:
            raise ValueError(f"no image of {metadata.base_dir!r} has a label file")
        self._policy.expect(metadata.base_dir, len(relative) + len(metadata.unreadable))
        keep = self._setup_files(metadata, relative, metadata.unreadable, reader_class,
                                 reader_kwargs, num_readers, capacity, cache_dir,
                                 remove_cache_on_finish)
        self._label_ids = [label_ids[i] for i in keep]

    def _unknown_label(self, metadata: MultilabelClassificationRawMetadata, source: str,
                       text: str, listed: list[str], name: str) -> str:
        message = f"label file {source!r} names class {name!r}, which is not a class of the " \
                  f"dataset"
        if listed != split_labels(text, self.label_sep):
            message += (f" (its one line {text.strip()!r} is not a class name, so it was read "
                        f"as the space-separated classes {', '.join(map(repr, listed))})")
        if metadata.labels_path:
            return message + f": it is not in the labels file {metadata.labels_path!r}"
        return message + (": without a labels file the classes are the names the label files "
                          "list one per line or space-separated on one line; add a labels file "
                          "when label_sep is not a newline")

    def _label_columns(self) -> dict:
        import tensorflow as tf

        values = [i for ids in self._label_ids for i in ids]
        splits = [0]
        for ids in self._label_ids:
            splits.append(splits[-1] + len(ids))
        return {"label_ids": tf.RaggedTensor.from_row_splits(
            tf.constant(values, tf.int64), tf.constant(splits, tf.int64))}

    def _label_stage(self, element: dict) -> dict:
        import tensorflow as tf

        ids = element.pop("label_ids")
        # ids are distinct, so the sum of their one-hot rows is the multi-hot vector
        multi_hot = tf.reduce_sum(tf.one_hot(ids, self.num_classes, dtype=tf.float32), axis=0)
        names = tf.gather(tf.constant(self.metadata.labels_list), ids)
        desc = tf.strings.reduce_join(names, separator=self.label_sep)
        return {**element, "label": multi_hot, "label_desc": desc,
                "source": element["image_name"]}
