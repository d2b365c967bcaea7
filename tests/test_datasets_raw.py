"""ImageClassificationRawMetadata / ImageClassificationRawDataset on real class folders."""

from __future__ import annotations

import collections
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
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
from mox_core.datasets import cache

COUNTS = {"cat": 3, "dog": 4, "bird": 2}


@pytest.fixture
def folders(tmp_path):
    root = tmp_path / "data"
    make_class_folders(root, COUNTS)
    return root


def raw_dataset(root, **kwargs):
    meta = mox.ImageClassificationRawMetadata(str(root))
    return lambda: mox.ImageClassificationRawDataset(meta, **kwargs)


# -- metadata ------------------------------------------------------------------------------


def test_metadata_lists_classes_sorted_by_name_and_counts_samples(folders, caplog):
    caplog.set_level(logging.INFO, logger="tensorflow")
    meta = mox.ImageClassificationRawMetadata(str(folders))
    assert meta.labels_list == ["bird", "cat", "dog"]
    assert meta.num_classes == 3
    assert meta.total_num_samples == 9
    assert meta.labels_to_names == {0: "bird", 1: "cat", 2: "dog"}
    assert meta.names_to_labels["dog"] == 2
    assert f"Total 9 files found in {folders} ; Total number of samples is 9 ; " in caplog.text
    assert "Labels index to name:\n0: bird\n1: cat\n2: dog" in caplog.text


def test_indexed_labels_file_decides_the_order(folders):
    (folders / "labels.txt").write_text("0: dog\n1: bird\n2: cat\n")
    meta = mox.ImageClassificationRawMetadata(str(folders))
    assert meta.labels_list == ["dog", "bird", "cat"]
    out = collect(raw_dataset(folders, num_epochs=1), ["label", "image_name", "label_desc"])
    for label, path, desc in zip(out["label"], out["image_name"], out["label_desc"]):
        assert meta.labels_list[label] == folder_of(path) == desc.decode()


def test_plain_labels_file_numbers_names_by_line_and_tf_slim_layout_parses(folders):
    (folders / "labels.txt").write_text("cat\n\ndog\nbird\n")
    assert mox.ImageClassificationRawMetadata(str(folders)).labels_list == ["cat", "dog", "bird"]
    (folders / "classes.txt").write_text("2:cat\n0:dog\n1:bird\n")
    meta = mox.ImageClassificationRawMetadata(str(folders), labels_filename="classes.txt")
    assert meta.labels_list == ["dog", "bird", "cat"]


def test_hidden_entries_and_non_image_files_are_not_samples(folders):
    (folders / ".ipynb_checkpoints").mkdir()
    (folders / "cat" / ".DS_Store").write_bytes(b"x")
    (folders / "cat" / "notes.txt").write_text("not an image")
    (folders / "cat" / "nested").mkdir()
    save_image(folders / "cat" / "UPPER.JPEG", COLORS[1])
    meta = mox.ImageClassificationRawMetadata(str(folders))
    assert meta.labels_list == ["bird", "cat", "dog"]
    assert meta.total_num_samples == 10
    assert "cat/UPPER.JPEG" in [rel for rel, _ in meta.samples]


def test_missing_base_dir_is_an_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="'.*nowhere' does not exist"):
        mox.ImageClassificationRawMetadata(str(tmp_path / "nowhere"))


def test_a_folder_without_class_folders_is_an_error(tmp_path):
    save_image(tmp_path / "loose.jpg")
    with pytest.raises(ValueError, match="has no class folders"):
        mox.ImageClassificationRawMetadata(str(tmp_path))


# -- reading -------------------------------------------------------------------------------


def test_every_sample_exactly_once_per_epoch_with_the_right_label(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    out = collect(lambda: mox.ImageClassificationRawDataset(meta, num_epochs=2),
                  ["image", "label", "label_desc", "image_name", "image_buf"])
    all_files = sorted(str(p) for p in folders.rglob("*.jpg"))
    first, second = names(out["image_name"][:9]), names(out["image_name"][9:])
    assert sorted(first) == all_files and sorted(second) == all_files
    for image, label, desc, path, buf in zip(*(out[k] for k in
                                                ("image", "label", "label_desc", "image_name",
                                                 "image_buf"))):
        assert image.dtype == np.uint8 and image.shape == (12, 16, 3)
        assert meta.labels_list[label] == folder_of(path) == desc.decode()
        assert color_class(image) == sorted(COUNTS).index(folder_of(path))
        assert buf == open(path, "rb").read()


def test_batches_with_image_size_and_the_last_partial_batch(folders):
    out = collect(raw_dataset(folders, batch_size=4, image_size=8, num_epochs=1),
                  ["image", "label"])
    assert [run[0].shape for run in out["_runs"]] == [(4, 8, 8, 3), (4, 8, 8, 3), (1, 8, 8, 3)]
    assert out["_runs"][0][0].dtype == np.uint8
    assert sorted(out["label"]) == [0, 0, 1, 1, 1, 2, 2, 2, 2]


def test_image_size_may_be_height_and_width(folders):
    out = collect(raw_dataset(folders, batch_size=9, image_size=(5, 7), num_epochs=1),
                  ["image"])
    assert out["_runs"][0][0].shape == (9, 5, 7, 3)


def test_drop_remainder_drops_the_partial_batch(folders):
    out = collect(raw_dataset(folders, batch_size=4, image_size=8, num_epochs=1,
                              drop_remainder=True), ["image"])
    assert [run[0].shape[0] for run in out["_runs"]] == [4, 4]
    with tf.Graph().as_default():
        image = raw_dataset(folders, batch_size=4, image_size=8, drop_remainder=True)().get(
            "image")
        assert image.shape.as_list() == [4, 8, 8, 3]


def test_batch_size_without_a_way_to_size_images_is_an_error(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    with pytest.raises(ValueError, match="pass image_size .*preprocess_fn"):
        mox.ImageClassificationRawDataset(meta, batch_size=4)


def test_an_augmentation_fn_of_variable_size_cannot_be_batched(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, batch_size=4, augmentation_fn=tf.identity)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="needs images of one size"):
        dataset.get(["image"])


def test_preprocess_fn_gets_batched_raw_buffers_as_in_the_seed(folders):
    seen = {}

    def decode_and_resize(buf):
        image = tf.image.decode_image(buf, channels=3)
        image.set_shape([None, None, 3])
        return tf.image.resize(image, [6, 6])

    def preprocess_fn(image_name, image_buf, label, label_desc):
        seen["shapes"] = (image_name.shape.as_list(), image_buf.shape.as_list(),
                          label.shape.as_list(), label_desc.dtype)
        image = tf.map_fn(decode_and_resize, image_buf, fn_output_signature=tf.float32)
        return image_name, image, label, label_desc

    out = collect(raw_dataset(folders, batch_size=5, preprocess_fn=preprocess_fn, num_epochs=1),
                  ["image", "label", "image_name"])
    assert seen["shapes"] == ([None], [None], [None], tf.string)
    assert out["_runs"][0][0].shape == (5, 6, 6, 3) and out["_runs"][0][0].dtype == np.float32
    assert len(out["label"]) == 9
    for image, path in zip(out["image"], out["image_name"]):
        assert color_class(image) == sorted(COUNTS).index(folder_of(path))


def test_a_preprocess_fn_with_a_lookup_table_gets_an_initializable_iterator(folders):
    """One-shot iterators cannot capture tables; get() falls back and registers the init."""
    def preprocess_fn(image_name, image_buf, label, label_desc):
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(["bird", "cat", "dog"], [10, 20, 30],
                                                value_dtype=tf.int32), -1)
        images = tf.map_fn(lambda b: tf.image.resize(tf.io.decode_jpeg(b, channels=3), [4, 4]),
                           image_buf, fn_output_signature=tf.float32)
        return image_name, images, table.lookup(label_desc), label_desc

    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, batch_size=9, num_epochs=1,
                                                preprocess_fn=preprocess_fn)
    with tf.Graph().as_default():
        label, desc = dataset.get(["label", "label_desc"])
        assert tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.TABLE_INITIALIZERS)
        ((labels, descs),) = drain([label, desc])  # drain runs tables_initializer()
    assert [{b"bird": 10, b"cat": 20, b"dog": 30}[d] for d in descs] == labels.tolist()


def test_preprocess_fn_must_return_four_tensors(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(
        meta, batch_size=2, preprocess_fn=lambda name, buf, label, desc: (buf, label))
    with tf.Graph().as_default(), pytest.raises(TypeError, match="must return the four"):
        dataset.get(["image"])


def test_augmentation_fn_maps_one_decoded_image_then_batches(folders):
    shapes = []

    def augmentation_fn(image):
        shapes.append(image.shape.as_list())
        return tf.cast(tf.image.resize_with_crop_or_pad(image, 4, 4), tf.float32) / 255.0

    out = collect(raw_dataset(folders, batch_size=3, augmentation_fn=augmentation_fn,
                              num_epochs=1), ["image", "label"])
    assert shapes == [[None, None, 3]]
    assert out["_runs"][0][0].shape == (3, 4, 4, 3) and out["_runs"][0][0].max() <= 1.0


def test_image_size_resizes_before_augmentation(folders):
    shapes = []
    collect(raw_dataset(folders, image_size=10, num_epochs=1,
                        augmentation_fn=lambda image: shapes.append(image.shape) or image),
            ["image"])
    assert shapes[0].as_list() == [10, 10, 3]


def test_label_one_hot(folders):
    out = collect(raw_dataset(folders, batch_size=9, image_size=4, label_one_hot=True,
                              num_epochs=1), ["label", "label_desc"])
    labels = out["_runs"][0][0]
    assert labels.shape == (9, 3) and labels.dtype == np.float32
    order = ["bird", "cat", "dog"]
    assert [order[i] for i in labels.argmax(axis=1)] == names(out["label_desc"])
    assert (labels.sum(axis=1) == 1).all()


def test_without_shuffle_the_order_is_the_listing_order(folders):
    out = collect(raw_dataset(folders, shuffle=False, num_epochs=2), ["image_name", "label"])
    listing = [str(folders / rel) for rel, _ in
               mox.ImageClassificationRawMetadata(str(folders)).samples]
    assert names(out["image_name"]) == listing * 2
    assert out["label"][:9] == [0, 0, 1, 1, 1, 2, 2, 2, 2]


def test_shuffle_gives_each_epoch_a_new_order(tmp_path):
    make_class_folders(tmp_path, {"a": 10, "b": 10})
    out = collect(raw_dataset(tmp_path, num_epochs=3, shuffle_buffer_size=4), ["image_name"])
    epochs = [names(out["image_name"][i * 20:(i + 1) * 20]) for i in range(3)]
    assert all(sorted(e) == sorted(epochs[0]) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3


def test_num_epochs_none_repeats_forever(folders):
    with tf.Graph().as_default():
        label = raw_dataset(folders)().get("label")
        results = []
        with tf.compat.v1.Session() as session:
            for _ in range(40):
                results.append(session.run(label))
    assert len(results) == 40  # past the 9 samples: no end of data
    assert collections.Counter(results[:36]) == {0: 8, 1: 12, 2: 16}  # 4 exact epochs


def test_private_threads_and_few_readers(folders):
    out = collect(raw_dataset(folders, num_epochs=1, private_num_threads=2, num_readers=1,
                              preprocess_threads=1, capacity=0), ["label"])
    assert sorted(out["label"]) == [0, 0, 1, 1, 1, 2, 2, 2, 2]


# -- get() ---------------------------------------------------------------------------------


def test_an_input_fn_for_mox_run(folders, tmp_path):
    """MoXing's use: the dataset is made inside input_fn, in the executor's graph."""
    meta = mox.ImageClassificationRawMetadata(str(folders))
    labels_seen = []

    def input_fn(mode):
        dataset = mox.ImageClassificationRawDataset(meta, batch_size=3, image_size=4,
                                                    num_epochs=2)
        image, label = dataset.get(["image", "label"])
        return tf.cast(image, tf.float32) / 255.0, label

    def model_fn(inputs, mode):
        images, labels = inputs
        labels_seen.append(labels)
        weights = tf.compat.v1.get_variable("w", [4 * 4 * 3, 3])
        logits = tf.matmul(tf.reshape(images, [-1, 4 * 4 * 3]), weights)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                             logits=logits))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    mox.run(input_fn=input_fn, model_fn=model_fn, run_mode=mox.ModeKeys.TRAIN,
            optimizer_fn=mox.get_optimizer_fn("sgd", learning_rate=0.1), batch_size=3,
            auto_batch=False, log_dir=str(tmp_path / "log"), max_number_of_steps=100,
            log_every_n_steps=1)
    assert labels_seen and labels_seen[0].dtype == tf.int64
    checkpoint = tf.train.latest_checkpoint(str(tmp_path / "log"))
    assert checkpoint.endswith("model.ckpt-6")  # 2 epochs of 9 samples in batches of 3


def test_get_returns_tensors_in_the_order_asked_and_later_gets_stay_paired(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, num_epochs=1)
    with tf.Graph().as_default():
        name, label = dataset.get(["image_name", "label"])
        (desc,) = dataset.get(["label_desc"])
        image = dataset.get("image")
        assert name.dtype == tf.string and label.dtype == tf.int64 and image.dtype == tf.uint8
        runs = drain([name, label, desc, image])
    assert len(runs) == 9
    for path, label_value, desc_value, _ in runs:
        assert meta.labels_list[label_value] == folder_of(path) == desc_value.decode()


def test_one_dataset_serves_two_graphs(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, num_epochs=1)
    for _ in range(2):
        with tf.Graph().as_default():
            assert len(drain(dataset.get(["label"]))) == 9


def test_get_outside_a_graph_and_unknown_keys_are_errors(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta)
    with pytest.raises(RuntimeError, match="inside a tf.Graph"):
        dataset.get(["image"])
    with tf.Graph().as_default(), pytest.raises(ValueError, match="unknown key.*'labels'"):
        dataset.get(["labels"])


def test_metadata_must_be_the_raw_metadata(folders):
    with pytest.raises(TypeError, match="ImageClassificationRawMetadata"):
        mox.ImageClassificationRawDataset(object())


# -- URLs, redirect_dir and cache_dir ------------------------------------------------------


def test_a_url_is_listed_and_read_through_tensorflows_filesystems(folders, tmp_path):
    """``file://`` takes the path remote storage (obs://, s3://) takes: gfile, not os."""
    meta = mox.ImageClassificationRawMetadata(f"file://{folders}")
    assert meta.total_num_samples == 9 and meta.labels_list == ["bird", "cat", "dog"]
    out = collect(lambda: mox.ImageClassificationRawDataset(
        meta, num_epochs=1, cache_dir=str(tmp_path / "cache")), ["label", "image_name"])
    for label, name in zip(out["label"], out["image_name"]):
        assert name.startswith(b"file://") and meta.labels_list[label] == folder_of(name)


def test_redirect_dir_lists_under_base_dir_and_reads_under_redirect_dir(tmp_path):
    make_class_folders(tmp_path / "listed", {"a": 2, "b": 2})
    for path in (tmp_path / "listed").rglob("*.jpg"):  # same names, other colours
        target = tmp_path / "copy" / path.relative_to(tmp_path / "listed")
        save_image(target, COLORS[5])
    meta = mox.ImageClassificationRawMetadata(str(tmp_path / "listed"),
                                              redirect_dir=str(tmp_path / "copy"))
    out = collect(lambda: mox.ImageClassificationRawDataset(meta, num_epochs=1),
                  ["image", "image_name"])
    assert all(color_class(image) == 5 for image in out["image"])
    assert all(name.startswith(str(tmp_path / "listed")) for name in names(out["image_name"]))


def test_cache_dir_env_copies_the_files_first_and_removes_them_when_the_data_ends(
        folders, tmp_path, monkeypatch):
    monkeypatch.setenv("DLS_LOCAL_CACHE_PATH", str(tmp_path / "cache"))
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, num_epochs=2, cache_dir="ENV")
    (cached,) = list((tmp_path / "cache").iterdir())
    assert len(list(cached.rglob("*.jpg"))) == 9
    for path in folders.rglob("*.jpg"):
        path.unlink()  # from now on only the cache has the images
    with tf.Graph().as_default():
        labels = dataset.get("label")
        with tf.compat.v1.Session() as session:
            first_epoch = sorted(session.run(labels) for _ in range(9))
            for _ in range(9):
                session.run(labels)
            with pytest.raises(tf.errors.OutOfRangeError):
                session.run(labels)
    assert first_epoch == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert not cached.exists() and cache._to_remove == set()


def test_a_cache_read_forever_is_removed_at_exit(folders, tmp_path):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, cache_dir=str(tmp_path / "c"))
    with tf.Graph().as_default():
        assert len(drain(dataset.get("label"), max_runs=20)) == 20
    (cached,) = list((tmp_path / "c").iterdir())
    assert len(list(cached.rglob("*.jpg"))) == 9
    cache._remove_at_exit()
    assert not cached.exists()


def test_a_pipeline_built_after_the_cache_was_removed_copies_it_again(folders, tmp_path):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, num_epochs=1, shuffle=False,
                                                cache_dir=str(tmp_path / "c"))
    for _ in range(2):  # e.g. a training graph, then an evaluation graph
        with tf.Graph().as_default():
            labels = [int(r) for r in drain(dataset.get("label"))]
        assert labels == [0, 0, 1, 1, 1, 2, 2, 2, 2]
        assert list((tmp_path / "c").iterdir()) == []


def test_cache_kept_when_remove_cache_on_finish_is_false(folders, tmp_path):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    dataset = mox.ImageClassificationRawDataset(meta, num_epochs=1,
                                                cache_dir=str(tmp_path / "c"),
                                                remove_cache_on_finish=False)
    with tf.Graph().as_default():
        assert len(drain(dataset.get("label"))) == 9
    cache._remove_at_exit()
    assert len(list((tmp_path / "c").rglob("*.jpg"))) == 9


def test_cache_dir_env_without_the_variable_is_an_error(folders, monkeypatch):
    monkeypatch.delenv("DLS_LOCAL_CACHE_PATH", raising=False)
    meta = mox.ImageClassificationRawMetadata(str(folders))
    with pytest.raises(ValueError, match=r"\$DLS_LOCAL_CACHE_PATH, which is not set"):
        mox.ImageClassificationRawDataset(meta, cache_dir="ENV")


# -- readers -------------------------------------------------------------------------------


class RecordingReader:
    """A third-party reader: tags what it read so the test can see it was used."""

    instances: list = []

    def __init__(self, num_readers=8, capacity=256, tag=b"x"):
        self.num_readers, self.capacity, self.tag = num_readers, capacity, tag
        RecordingReader.instances.append(self)

    def read(self, elements, deterministic):
        return elements.map(lambda e: {**e, "image_buf": tf.io.read_file(e["path"])})


def test_the_parallel_reader_is_registered_and_the_default(folders):
    from mox_core import plugins
    from mox_core.datasets import get_reader_class
    from mox_core.datasets.readers import ParallelReader

    spec = plugins.registry("dataset_readers").get("ParallelReader")
    assert spec.distribution == "mox-core"
    assert get_reader_class("ParallelReader") is ParallelReader
    meta = mox.ImageClassificationRawMetadata(str(folders))
    assert isinstance(mox.ImageClassificationRawDataset(meta)._reader, ParallelReader)
    dataset = mox.ImageClassificationRawDataset(meta, reader_class="ParallelReader",
                                                num_readers=3, capacity=7)
    assert (dataset._reader.num_readers, dataset._reader.capacity) == (3, 7)


def test_reader_class_may_be_a_class_with_reader_kwargs(folders):
    RecordingReader.instances.clear()
    out = collect(raw_dataset(folders, num_epochs=1, reader_class=RecordingReader,
                              reader_kwargs={"tag": b"t"}, num_readers=2), ["label"])
    assert len(out["label"]) == 9
    (reader,) = RecordingReader.instances
    assert (reader.num_readers, reader.tag) == (2, b"t")


def test_reader_class_by_a_plugin_registered_name(folders, fake_dists):
    fake_dists.add("fake-readers", {"fake_reader_plugin": """
        from mox_core import hookimpl
        from mox_core.registry import DatasetReaderSpec

        @hookimpl
        def mox_dataset_readers():
            return [DatasetReaderSpec(name="Recording",
                                      reader="test_datasets_raw:RecordingReader")]
    """}, {"readers": "fake_reader_plugin"})
    RecordingReader.instances.clear()
    out = collect(raw_dataset(folders, num_epochs=1, reader_class="Recording"), ["label"])
    assert len(out["label"]) == 9 and len(RecordingReader.instances) == 1


def test_an_unknown_reader_name_lists_the_installed_readers(folders):
    meta = mox.ImageClassificationRawMetadata(str(folders))
    with pytest.raises(ValueError, match="unknown dataset reader 'NoSuchReader'.*"
                                         "ParallelReader"):
        mox.ImageClassificationRawDataset(meta, reader_class="NoSuchReader")


# -- real-world images ---------------------------------------------------------------------


def test_every_kind_of_real_world_image_decodes_to_three_channels(tmp_path):
    color = (200, 40, 60)
    rgba = Image.new("RGBA", (16, 12), color + (90,))
    kinds = {
        "gray.jpg": encode(color, mode="L"),
        "cmyk.jpg": encode(color, mode="CMYK"),
        "rgba.png": None,
        "png_named.jpg": encode(color, fmt="PNG"),
        "gif_named.jpg": encode(color, fmt="GIF"),
        "bmp_named.jpg": encode(color, fmt="BMP"),
        "palette.png": encode(color, fmt="PNG", mode="P"),
        "gray_alpha.png": encode(color, fmt="PNG", mode="LA"),
        "progressive.jpg": encode(color, progressive=True),
        "photo.webp": encode(color, fmt="WEBP"),
    }
    folder = tmp_path / "data" / "things"
    folder.mkdir(parents=True)
    for name, data in kinds.items():
        if data is None:
            rgba.save(folder / name)
        else:
            (folder / name).write_bytes(data)
    meta = mox.ImageClassificationRawMetadata(str(tmp_path / "data"))
    out = collect(lambda: mox.ImageClassificationRawDataset(meta, num_epochs=1, shuffle=False),
                  ["image", "image_name"])
    decoded = dict(zip((os.path.basename(n) for n in names(out["image_name"])), out["image"]))
    assert sorted(decoded) == sorted(kinds)
    gray = int(round(0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]))
    for name, image in decoded.items():
        assert image.shape == (12, 16, 3) and image.dtype == np.uint8, name
        expected = (gray,) * 3 if name.startswith("gray") else color
        assert np.abs(image.reshape(-1, 3).mean(axis=0) - expected).max() < 12, name
    pillow_cmyk = np.asarray(Image.open(folder / "cmyk.jpg").convert("RGB"), np.int16)
    assert np.abs(decoded["cmyk.jpg"].astype(np.int16) - pillow_cmyk).max() <= 3


@pytest.mark.slow
def test_works_under_disable_v2_behavior(folders):
    """Ported TF1 scripts often call tf.disable_v2_behavior(); a fresh process checks that."""
    code = textwrap.dedent(f"""
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        import mox_core as mox
        (open({str(folders / 'cat' / 'bad.jpg')!r}, 'wb')).write(b'')
        meta = mox.ImageClassificationRawMetadata({str(folders)!r})
        ds = mox.ImageClassificationRawDataset(meta, batch_size=5, image_size=8, num_epochs=1,
                                               skip_corrupt=True)
        image, label = ds.get(['image', 'label'])
        sizes = []
        with tf.Session() as sess:
            try:
                while True:
                    sizes.append(len(sess.run(label)))
            except tf.errors.OutOfRangeError:
                pass
        print('SAMPLES', sum(sizes), 'SKIPPED', ds.num_skipped)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert "SAMPLES 9 SKIPPED 1" in result.stdout, result.stdout + result.stderr
