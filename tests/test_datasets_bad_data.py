"""Bad data on disk: each case is a clear error naming the file, or a logged, counted skip.

Every case is built for real (Pillow, truncated bytes, links, pipes) and read through a real
session with a run timeout, so a hang fails the test.
"""

from __future__ import annotations

import logging
import os

import pytest
import tensorflow as tf
from test_datasets_support import (
    COLORS,
    collect,
    color_class,
    drain,
    encode,
    folder_of,
    make_class_folders,
    names,
    save_image,
)

import mox_core as mox
from mox_core.datasets.labels import parse_labels
from mox_core.errors import DataError, cli_spelling, explain_data_errors

COUNTS = {"a": 3, "b": 3}


@pytest.fixture
def data(tmp_path):
    root = tmp_path / "data"
    make_class_folders(root, COUNTS)
    return root


def read_all(root, **kwargs):
    meta = mox.ImageClassificationRawMetadata(str(root))
    holder = {}

    def make():
        holder["dataset"] = mox.ImageClassificationRawDataset(meta, num_epochs=1, **kwargs)
        return holder["dataset"]

    out = collect(make, ["image", "label", "image_name"])
    return out, holder["dataset"]


JPEG = encode(COLORS[0], size=(16, 16))
PNG = encode(COLORS[0], size=(16, 16), fmt="PNG")
BAD_FILES = {
    "empty.jpg": (b"", "the file is empty \\(0 bytes\\)"),
    "truncated.jpg": (JPEG[: len(JPEG) // 2], "the file is truncated or corrupt"),
    "truncated.png": (PNG[: len(PNG) - 30], "the file is truncated or corrupt"),
    "notes.jpg": (b"these are my notes, not a picture\n" * 3,
                  "the file is not an image TensorFlow decodes"),
}


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_a_bad_image_stops_reading_with_an_error_naming_the_file(data, filename):
    content, reason = BAD_FILES[filename]
    bad = data / "a" / filename
    bad.write_bytes(content)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f"cannot decode image file {bad}: {reason}.*skip_corrupt=True"):
        read_all(data, shuffle=False)


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_skip_corrupt_leaves_a_bad_image_out_and_logs_it(data, filename, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    bad = data / "b" / filename
    bad.write_bytes(BAD_FILES[filename][0])
    out, dataset = read_all(data, skip_corrupt=True)
    assert sorted(names(out["image_name"])) == sorted(
        str(p) for p in data.rglob("*.jpg") if p != bad)
    for label, path, image in zip(out["label"], out["image_name"], out["image"]):
        assert label == "ab".index(folder_of(path)) == color_class(image)
    assert dataset.num_skipped == 1
    assert f"Skipping image '{bad}'" in caplog.text and "(1 skipped so far)" in caplog.text


def damaged_inside(content: bytes) -> bytes:
    """``content`` with its middle third zeroed, its end intact (the JPEG end marker, the PNG
    IEND chunk): it looks complete but does not decode."""
    third = len(content) // 3
    return content[:third] + b"\0" * third + content[2 * third:]


DAMAGED_INSIDE = {
    "inside.jpg": damaged_inside(encode(COLORS[0], size=(48, 48))),
    "inside.png": damaged_inside(encode(COLORS[0], size=(48, 48), fmt="PNG")),
}


@pytest.mark.parametrize("filename", sorted(DAMAGED_INSIDE))
def test_skip_corrupt_also_skips_a_file_damaged_inside_with_an_intact_trailer(data, filename,
                                                                            caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    content = DAMAGED_INSIDE[filename]
    assert content[-2:] == b"\xff\xd9" or content[-8:-4] == b"IEND"
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_image(content)
    bad = data / "a" / filename
    bad.write_bytes(content)
    out, dataset = read_all(data, skip_corrupt=True)
    assert sorted(out["label"]) == [0, 0, 0, 1, 1, 1] and dataset.num_skipped == 1
    assert (f"Skipping image '{bad}': the file is truncated or corrupt (1 skipped so far)"
            in caplog.text)
    seen = []

    def preprocess_fn(name, buf, label, desc):  # the user decodes: the check comes first
        seen.append(True)
        images = tf.map_fn(lambda b: tf.image.resize(tf.io.decode_image(
            b, channels=3, expand_animations=False), [4, 4]), buf, fn_output_signature=tf.float32)
        return name, images, label, desc

    out, dataset = read_all(data, skip_corrupt=True, batch_size=3, preprocess_fn=preprocess_fn)
    assert sorted(out["label"]) == [0, 0, 0, 1, 1, 1] and dataset.num_skipped == 1 and seen


@pytest.mark.parametrize("filename", sorted(DAMAGED_INSIDE))
def test_find_undecodable_names_a_file_damaged_inside(data, filename):
    """Without skip_corrupt such a file passes the pipeline's cheap check and stops it with
    TensorFlow's decoder error, which names no file; the scan names it."""
    bad = data / "b" / filename
    bad.write_bytes(DAMAGED_INSIDE[filename])
    dataset = mox.ImageClassificationRawDataset(mox.ImageClassificationRawMetadata(str(data)),
                                                batch_size=2, image_size=8)
    scan = dataset.find_undecodable()
    assert scan.bad == [(str(bad), "the file is truncated or corrupt")]
    assert scan.scanned == 7 and scan.complete
    assert dataset.find_undecodable(max_seconds=0) == ([], 0, False)
    bad.unlink()
    clean = mox.ImageClassificationRawDataset(mox.ImageClassificationRawMetadata(str(data)))
    assert clean.find_undecodable() == ([], 6, True)


def test_naming_bad_images_around_a_session_of_your_own(data):
    """What mox.run and mox predict do around their sessions, usable around any session."""
    bad = data / "b" / "inside.png"
    bad.write_bytes(DAMAGED_INSIDE["inside.png"])
    meta = mox.ImageClassificationRawMetadata(str(data))
    with tf.Graph().as_default() as graph:
        image = mox.ImageClassificationRawDataset(meta, num_epochs=1, image_size=8).get("image")
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"^mox: cannot decode image file {bad}: the file is truncated"
                           ) as raised:
            with explain_data_errors(graph):
                drain(image)
    assert isinstance(raised.value, DataError)
    assert (raised.value.path, raised.value.reason) == (str(bad), "the file is truncated or corrupt")
    with tf.Graph().as_default() as graph:  # other errors pass through untouched
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be positive") as raised:
            with explain_data_errors(graph), tf.compat.v1.Session() as session:
                session.run(tf.debugging.assert_positive(tf.constant(-1.0), "must be positive"))
    assert not isinstance(raised.value, DataError)


def test_a_file_the_pipeline_names_becomes_a_typed_error_around_a_session(data):
    """The in-graph check can only stop the pipeline with TensorFlow's error; around the
    session, the error is the DataError whose words that error carried."""
    bad = data / "a" / "empty.jpg"
    bad.write_bytes(b"")
    meta = mox.ImageClassificationRawMetadata(str(data))
    with tf.Graph().as_default() as graph:
        image = mox.ImageClassificationRawDataset(meta, num_epochs=1, image_size=8).get("image")
        with pytest.raises(tf.errors.InvalidArgumentError) as untyped:
            drain(image)
        with pytest.raises(DataError) as typed:
            with explain_data_errors(graph):
                drain(image)
    words = (f"cannot decode image file {bad}: the file is empty (0 bytes). Fix or remove the "
             f"file, or pass skip_corrupt=True to skip such files.")
    assert f"mox: {words}" in untyped.value.message
    assert typed.value.message == f"mox: {words}"
    assert (typed.value.path, typed.value.skip_option) == (str(bad), "skip_corrupt")
    assert typed.value.describe(cli_spelling) == words.replace("skip_corrupt=True",
                                                               "--skip-corrupt")


def test_mox_run_names_a_file_damaged_inside(data, tmp_path, caplog):
    bad = data / "a" / "inside.jpg"
    bad.write_bytes(DAMAGED_INSIDE["inside.jpg"])
    (data / "b" / "inside.png").write_bytes(DAMAGED_INSIDE["inside.png"])
    meta = mox.ImageClassificationRawMetadata(str(data))

    def input_fn(mode):
        dataset = mox.ImageClassificationRawDataset(meta, batch_size=2, image_size=4,
                                                    shuffle=False)
        image, label = dataset.get(["image", "label"])
        return tf.cast(image, tf.float32), label

    def model_fn(inputs, mode):
        images, labels = inputs
        weights = tf.compat.v1.get_variable("w", [4 * 4 * 3, 2])
        logits = tf.matmul(tf.reshape(images, [-1, 4 * 4 * 3]), weights)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                             logits=logits))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    caplog.set_level(logging.WARNING, logger="tensorflow")
    with pytest.raises(DataError) as raised:
        mox.run(input_fn=input_fn, model_fn=model_fn, run_mode=mox.ModeKeys.TRAIN,
                optimizer_fn=mox.get_optimizer_fn("sgd", learning_rate=0.1), batch_size=2,
                auto_batch=False, log_dir=str(tmp_path / "log"), max_number_of_steps=20)
    assert raised.value.message == (
        f"mox: cannot decode image file {bad}: the file is truncated or corrupt (also: "
        f"{data / 'b' / 'inside.png'}). Fix or remove the file, or pass skip_corrupt=True to "
        f"skip such files."
    )
    assert "An image of the input did not decode (jpeg::Uncompress failed" in caplog.text


def test_skip_counts_every_bad_file_across_batches_and_preprocess_fn(data):
    for i, (content, _) in enumerate(BAD_FILES.values()):
        (data / "a" / f"bad{i}.jpg").write_bytes(content)
    seen = []

    def preprocess_fn(name, buf, label, desc):
        seen.append(buf.shape.as_list())
        images = tf.map_fn(lambda b: tf.image.resize(tf.io.decode_jpeg(b, channels=3), [4, 4]),
                           buf, fn_output_signature=tf.float32)
        return name, images, label, desc

    out, dataset = read_all(data, skip_corrupt=True, batch_size=4, preprocess_fn=preprocess_fn)
    assert sorted(out["label"]) == [0, 0, 0, 1, 1, 1]
    assert dataset.num_skipped == len(BAD_FILES) and seen == [[None]]


def test_a_bad_file_is_named_before_preprocess_fn_sees_it(data):
    bad = data / "b" / "x.jpg"
    bad.write_bytes(b"")
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"file {bad}: the file is empty"):
        read_all(data, batch_size=2, shuffle=False,
                 preprocess_fn=lambda name, buf, label, desc: (name, buf, label, desc))


def test_a_jpeg_with_data_after_its_end_marker_is_still_read(data):
    """Phones append data after the JPEG end marker: such files must not look truncated."""
    (data / "a" / "motion.jpg").write_bytes(encode(COLORS[0]) + b"\x00MotionPhotoData" * 50)
    out, _ = read_all(data)
    assert len(out["label"]) == 7


def test_an_empty_class_folder_is_an_error_naming_it(data):
    (data / "c").mkdir()
    meta = mox.ImageClassificationRawMetadata(str(data))
    assert meta.labels_list == ["a", "b", "c"] and meta.empty_classes == ["c"]
    with pytest.raises(DataError, match=f"class 2 folder {data / 'c'}: it has no image files "
                                        ".*pass skip_corrupt=True to train without that "
                                        "class's samples"):
        mox.ImageClassificationRawDataset(meta)


def test_skip_corrupt_trains_without_an_empty_class_and_keeps_the_labels(data, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    (data / "0_empty").mkdir()
    out, dataset = read_all(data, skip_corrupt=True, label_one_hot=True)
    assert dataset.num_classes == 3
    assert sorted(int(label.argmax()) for label in out["label"]) == [1, 1, 1, 2, 2, 2]
    assert "Training without samples of class 0 ('0_empty')" in caplog.text


def test_labels_file_that_disagrees_with_the_folders_says_what_differs(data):
    (data / "labels.txt").write_text("0: a\n1: c\n")
    with pytest.raises(ValueError, match="lists 2 classes but the dataset has 2 class folders; "
                                         "classes without a folder: 'c'; folders not in the "
                                         "labels file: 'b'"):
        mox.ImageClassificationRawMetadata(str(data))
    (data / "labels.txt").write_text("0: a\n1: b\n2: c\n")
    with pytest.raises(ValueError, match="lists 3 classes but the dataset has 2"):
        mox.ImageClassificationRawMetadata(str(data))


@pytest.mark.parametrize("text, message", [
    ("0: a\n1: b\n1: c\n", "gives label index 1 twice \\(lines 2 and 3\\)"),
    ("0: a\n2: b\n", "must number its 2 classes 0 to 1; missing: 1; beyond the range: 2"),
    ("0: a\n1: a\n", "names class 'a' twice \\(lines 1 and 2\\)"),
    ("a\nb\na\n", "names class 'a' twice \\(lines 1 and 3\\)"),
    ("0: a\nb\n", "mixes two layouts: line 1 '0: a' is 'index: name' but line 2 'b' is not"),
    ("\n  \n", "is empty"),
    ("0:\n", "line 1: index 0 has no name"),
])
def test_a_bad_labels_file_is_an_error_naming_the_file(data, text, message):
    (data / "labels.txt").write_text(text)
    with pytest.raises(ValueError, match=f"labels file '{data / 'labels.txt'}'.*{message}"):
        mox.ImageClassificationRawMetadata(str(data))


def test_labels_files_with_windows_line_ends_and_a_bom_parse():
    assert parse_labels("\ufeff0: a\r\n1: b c\r\n", "x") == ["a", "b c"]


def test_a_broken_link_is_an_error_naming_it_or_a_skip(data):
    link = data / "a" / "gone.jpg"
    os.symlink(data / "nowhere.jpg", link)
    meta = mox.ImageClassificationRawMetadata(str(data))
    assert meta.total_num_samples == 6
    with pytest.raises(DataError, match=f"cannot read image file {link}: it is a broken "
                                        "symbolic link"):
        mox.ImageClassificationRawDataset(meta)
    out, dataset = read_all(data, skip_corrupt=True)
    assert len(out["label"]) == 6 and dataset.num_skipped == 1


def test_a_named_pipe_never_hangs_the_pipeline(data):
    fifo = data / "b" / "pipe.jpg"
    os.mkfifo(fifo)
    meta = mox.ImageClassificationRawMetadata(str(data))
    with pytest.raises(DataError, match=f"{fifo}: it is not a regular file"):
        mox.ImageClassificationRawDataset(meta)
    out, dataset = read_all(data, skip_corrupt=True)
    assert len(out["label"]) == 6 and dataset.num_skipped == 1


def test_a_file_removed_after_listing_is_named(data):
    meta = mox.ImageClassificationRawMetadata(str(data))
    gone = data / "a" / "1.jpg"
    gone.unlink()
    dataset = mox.ImageClassificationRawDataset(meta, num_epochs=1)
    with tf.Graph().as_default(), pytest.raises(tf.errors.NotFoundError, match=str(gone)):
        drain(dataset.get(["label"]))
    skipping = mox.ImageClassificationRawDataset(meta, num_epochs=1, skip_corrupt=True)
    assert skipping.num_skipped == 1 and skipping.num_samples == 5


def test_a_folder_of_only_bad_files_says_nothing_is_left(tmp_path):
    save_image(tmp_path / "a" / "ok.jpg")
    os.symlink(tmp_path / "nowhere", tmp_path / "a" / "gone.jpg")
    (tmp_path / "a" / "ok.jpg").unlink()
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    with pytest.raises(ValueError, match="no readable samples are left"):
        mox.ImageClassificationRawDataset(meta, skip_corrupt=True)


def test_skipping_every_file_is_an_error_naming_the_dataset_not_an_empty_run(tmp_path):
    for i in range(3):
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "a" / f"{i}.jpg").write_bytes(b"not an image")
    meta = mox.ImageClassificationRawMetadata(str(tmp_path))
    dataset = mox.ImageClassificationRawDataset(meta, skip_corrupt=True)  # num_epochs=None
    with tf.Graph().as_default() as graph, pytest.raises(DataError) as raised:
        with explain_data_errors(graph):
            drain(dataset.get(["label"]))
    assert raised.value.describe(cli_spelling) == (
        f"no readable samples are left in {tmp_path}: all 3 image files were skipped as "
        f"unreadable or corrupt. Fix or replace the files.")
    assert dataset.num_skipped == 3


def bomb_png(width: int, height: int) -> bytes:
    """A real PNG of ~70 bytes whose header declares ``width x height`` RGB pixels: a valid
    IHDR, one tiny compressed row and IEND -- what a decompression bomb looks like to a reader
    that trusts the header (it ends like a whole PNG, so it takes the pipelines' fast path)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 49)) + chunk(b"IEND", b""))


#: 65535 x 65535 in a GIF's logical screen, then nothing an image needs
BOMB_GIF = b"GIF89a\xff\xff\xff\xff\x00\x00\x00;"

BOMBS = {
    # TensorFlow fails on this one by itself, naming no file
    "bomb.png": (bomb_png(60000, 60000), "60000 x 60000"),
    # ... and would allocate 1.2 GB for this one before finding the data short
    "bomb20k.png": (bomb_png(20000, 20000), "20000 x 20000"),
    "bomb.gif": (BOMB_GIF, "65535 x 65535"),
}


@pytest.mark.parametrize("filename", sorted(BOMBS))
def test_a_decompression_bomb_is_named_before_it_is_decoded(data, filename):
    content, size = BOMBS[filename]
    bomb = data / "a" / filename
    bomb.write_bytes(content)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f"cannot decode image file {bomb}: it declares {size} pixels, more "
                             f"than the 178956970 mox decodes \\(a decompression bomb\\?\\)"):
        read_all(data, shuffle=False)


def test_skip_corrupt_skips_a_decompression_bomb(data, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    bomb = data / "b" / "bomb.png"
    bomb.write_bytes(BOMBS["bomb20k.png"][0])
    out, dataset = read_all(data, skip_corrupt=True)
    assert len(out["label"]) == 6 and dataset.num_skipped == 1
    assert f"Skipping image '{bomb}': it declares 20000 x 20000 pixels" in caplog.text


def test_an_image_just_under_the_limit_is_not_refused_by_the_guard():
    from mox_core.datasets.images import MAX_IMAGE_PIXELS, within_size_limit

    side = int(MAX_IMAGE_PIXELS ** 0.5)
    assert bool(within_size_limit(tf.constant(bomb_png(side, side))))
    assert not bool(within_size_limit(tf.constant(bomb_png(side + 1, side + 1))))
    for fmt in ("PNG", "GIF", "BMP", "JPEG"):
        assert bool(within_size_limit(tf.constant(encode(COLORS[0], fmt=fmt))))


def test_predicting_a_folder_of_images_names_a_decompression_bomb(tmp_path):
    from mox_core.commands.data import ImageFolder, locate

    folder = tmp_path / "photos"
    save_image(folder / "fine.jpg")
    (folder / "bomb.png").write_bytes(BOMBS["bomb.png"][0])
    source = locate(str(folder), "predict")
    with tf.Graph().as_default():
        images = ImageFolder(source, batch_size=2, image_size=8, augmentation_fn=None).get(
            ["image"])[0]
        with tf.compat.v1.Session() as session, pytest.raises(
                tf.errors.InvalidArgumentError,
                match=f"cannot decode image file {folder / 'bomb.png'}: it declares 60000 x "
                      f"60000 pixels"):
            session.run(images)
