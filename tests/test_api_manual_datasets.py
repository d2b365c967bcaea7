"""The examples of section 2 of MoXing's API manual (``moxing-tensorflow-api.zh.md``), input
data: the raw, TFRecord and multi-label datasets and their metadata, ``mox.get_dataset``'s
``capacity`` and the ``PreprocessingKeys`` table.

The manual's folders (``/export/dataset``, ``/tmp/tfrecord``) are folders in ``tmp_path``
written in the manual's layouts, with the manual's numbers where it prints them (3301 samples
of 5 classes). Its examples call the classes by their bare names after ``import
moxing.tensorflow as mox``: they are imported here from ``moxing.tensorflow.datasets``, where
the manual's signatures place them. TF 1 built graphs by default; on TF 2 the examples run
inside ``with tf.Graph().as_default():``. ``get_data_augmentation_fn`` needs a network and runs
in mox-nets-classic's ``tests/test_api_manual_preprocessing.py``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from moxing.tensorflow.datasets import (
    ImageClassificationRawDataset,
    ImageClassificationRawMetadata,
    ImageClassificationTFRecordDataset,
    ImageClassificationTFRecordMetadata,
    MultilabelClassificationRawDataset,
    MultilabelClassificationRawMetadata,
)
from test_datasets_support import (
    COLORS,
    color_class,
    encode,
    make_class_folders,
    save_image,
    slim_example,
    write_records,
)

import moxing.tensorflow as mox
from mox_core import plugins

FIVE_CLASSES = [f"label_{k}" for k in range(5)]


@pytest.fixture(scope="module")
def export_dataset(tmp_path_factory):
    """``/export/dataset``: 3301 images in the class folders ``label_0`` ... ``label_4``."""
    base_dir = tmp_path_factory.mktemp("export") / "dataset"
    make_class_folders(base_dir, {name: 660 + (name == "label_4") for name in FIVE_CLASSES})
    return str(base_dir)


def run_tensors(tensors, times):
    """The values of ``tensors`` in ``times`` runs of one session."""
    with tf.Session() as sess:
        return [sess.run(tensors) for _ in range(times)]


# --------------------------------------------------------------------------- raw metadata


def test_raw_metadata_sample_1_counts_samples_and_classes(export_dataset, capsys):
    metadata = ImageClassificationRawMetadata(base_dir=export_dataset)
    print(metadata.total_num_samples)
    print(metadata.num_classes)
    print(metadata.labels_list)
    assert capsys.readouterr().out == (
        "3301\n5\n['label_0', 'label_1', 'label_2', 'label_3', 'label_4']\n")


def test_raw_metadata_sample_2_takes_the_classes_from_labels_txt(tmp_path, capsys):
    base_dir = tmp_path / "dataset"
    make_class_folders(base_dir, {"label_i": 2, "label_j": 2, "label_k": 2})
    (base_dir / "labels.txt").write_text("0: label_i \n1: label_j \n2: label_k \n")  # as printed
    metadata = ImageClassificationRawMetadata(base_dir=str(base_dir),
                                              labels_filename='labels.txt')
    print(metadata.labels_list)
    assert capsys.readouterr().out == "['label_i', 'label_j', 'label_k']\n"

    # the file's order decides the label numbers, not the folders' names
    (base_dir / "labels.txt").write_text("0: label_k\n1: label_i\n2: label_j\n")
    metadata = ImageClassificationRawMetadata(base_dir=str(base_dir), labels_filename='labels.txt')
    assert metadata.labels_list == ['label_k', 'label_i', 'label_j']
    with tf.Graph().as_default():
        dataset = ImageClassificationRawDataset(metadata, shuffle=False, num_epochs=1)
        runs = run_tensors(dataset.get(['label', 'label_desc']), 6)
    assert [(int(label), desc.decode()) for label, desc in runs] == [
        (0, 'label_k'), (0, 'label_k'), (1, 'label_i'), (1, 'label_i'), (2, 'label_j'),
        (2, 'label_j')]

    # its names must be the folders' names, as many as the folders
    (base_dir / "labels.txt").write_text("0: label_i\n1: label_j\n")
    with pytest.raises(ValueError, match="lists 2 classes but the dataset has 3 class folders; "
                                         "folders not in the labels file: 'label_k'"):
        ImageClassificationRawMetadata(base_dir=str(base_dir), labels_filename='labels.txt')


# --------------------------------------------------------------------------- raw dataset


def test_raw_dataset_samples_1_and_2_give_images_labels_and_class_names(export_dataset):
    with tf.Graph().as_default():
        metadata = ImageClassificationRawMetadata(base_dir=export_dataset)
        dataset = ImageClassificationRawDataset(metadata)
        image, label, label_desc = dataset.get(['image', 'label', 'label_desc'])
        image_again, label_again = dataset.get(['image', 'label'])
        assert (image_again, label_again) == (image, label)  # one pipeline, asked twice
        runs = run_tensors([image, label, label_desc], 30)
    for image_value, label_value, desc in runs:
        assert image_value.shape == (12, 16, 3) and image_value.dtype == np.uint8
        assert color_class(image_value) == label_value  # class k's images are COLORS[k]
        assert desc.decode() == f"label_{label_value}"
    assert len({int(label_value) for _, label_value, _ in runs}) > 1  # shuffled across classes


def test_raw_dataset_sample_3_batches_through_preprocess_fn(export_dataset):
    with tf.Graph().as_default():
        metadata = ImageClassificationRawMetadata(base_dir=export_dataset)

        def _decode_and_resize(buf):  # the manual's line lacks the colon
            img = tf.image.decode_image(buf, channels=3)
            img.set_shape([None, None, 3])
            img = tf.image.resize_images(img, size=[224, 224])
            img.set_shape([224, 224, 3])
            return img

        def preprocess_fn(image_name, image_buf, label, label_desc):
            image = tf.map_fn(_decode_and_resize, image_buf, dtype=tf.float32, back_prop=False)
            return image_name, image, label, label_desc

        dataset = ImageClassificationRawDataset(metadata, batch_size=32,
                                                preprocess_fn=preprocess_fn)
        images, labels, names = dataset.get(['image', 'label', 'image_name'])
        (images, labels, names), = run_tensors([images, labels, names], 1)
    assert images.shape == (32, 224, 224, 3) and images.dtype == np.float32
    assert [color_class(image) for image in images] == list(labels)
    assert all(name.decode().startswith(f"{export_dataset}/label_{label}/")
               for name, label in zip(names, labels))


# --------------------------------------------------------------------------- TFRecord


@pytest.fixture
def tmp_tfrecord(tmp_path):
    """``/tmp/tfrecord``: train shards 0..2 (3, 4, 5 records), eval shards 0..1, labels.txt."""
    base_dir = tmp_path / "tfrecord"
    for split, sizes in (("train", (3, 4, 5)), ("eval", (2, 2))):
        for shard, size in enumerate(sizes):
            write_records(base_dir / f"data_{split}_{shard}.tfrecord",
                          [slim_example(encode(COLORS[k % 3]), k % 3) for k in range(size)])
    (base_dir / "labels.txt").write_text("0: red\n1: green\n2: blue\n")
    return str(base_dir)


def test_tfrecord_metadata_sample_counts_the_train_records(tmp_tfrecord, capsys):
    tfrecord_meta = ImageClassificationTFRecordMetadata(
        base_dir=tmp_tfrecord,  # the manual's line lacks the comma ending it
        file_patterns='*train*.tfrecord')
    print(tfrecord_meta.num_samples)
    print(tfrecord_meta.labels_to_names)  # labels.txt exists
    assert capsys.readouterr().out == "12\n{0: 'red', 1: 'green', 2: 'blue'}\n"
    assert [path.rsplit("/", 1)[1] for path in tfrecord_meta.files] == [
        "data_train_0.tfrecord", "data_train_1.tfrecord", "data_train_2.tfrecord"]


def test_tfrecord_metadata_takes_file_pattern_and_file_patterns(tmp_tfrecord):
    # the signature says file_pattern, the examples file_patterns: both are accepted
    by_pattern = ImageClassificationTFRecordMetadata(tmp_tfrecord, '*eval*.tfrecord')
    by_patterns = ImageClassificationTFRecordMetadata(tmp_tfrecord, file_patterns='*eval*.tfrecord')
    assert by_pattern.files == by_patterns.files and by_pattern.num_samples == 4
    with pytest.raises(TypeError, match=r"ImageClassificationTFRecordMetadata\(\) got both "
                                        r"file_pattern='\*train\*' and file_patterns='\*eval\*'"):
        ImageClassificationTFRecordMetadata(tmp_tfrecord, file_pattern='*train*',
                                            file_patterns='*eval*')
    with pytest.raises(ValueError, match="file_pattern must name the TFRecord files"):
        ImageClassificationTFRecordMetadata(tmp_tfrecord)


def test_tfrecord_dataset_sample_reads_ten_examples_in_a_session(tmp_tfrecord):
    with tf.Graph().as_default():
        tfrecord_meta = ImageClassificationTFRecordMetadata(
            base_dir=tmp_tfrecord,  # the manual's missing comma again
            file_patterns='*train*.tfrecord')
        tfrecord_dataset = ImageClassificationTFRecordDataset(meta=tfrecord_meta)
        # the manual reads `dataset` here, a name it never defines: the dataset just made
        image, label = tfrecord_dataset.get(['image', 'label'])
        values = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(coord=coord)
            for i in range(10):  # noqa: B007  (the manual's loop)
                image_eval, label_eval = sess.run([image, label])
                values.append((image_eval, label_eval))
            coord.request_stop()
            coord.join(threads)
    assert len(values) == 10
    for image_eval, label_eval in values:
        assert image_eval.shape == (12, 16, 3) and color_class(image_eval) == label_eval


def test_tfrecord_dataset_takes_metadata_and_meta(tmp_tfrecord):
    # the signature says metadata, the example meta: both are accepted
    tfrecord_meta = ImageClassificationTFRecordMetadata(tmp_tfrecord, '*eval*.tfrecord')
    assert ImageClassificationTFRecordDataset(tfrecord_meta).metadata is tfrecord_meta
    assert ImageClassificationTFRecordDataset(meta=tfrecord_meta).metadata is tfrecord_meta
    with pytest.raises(TypeError, match=r"ImageClassificationTFRecordDataset\(\) got both "
                                        r"metadata=.* and meta=.*: meta is another spelling of "
                                        r"metadata; pass only one of them"):
        ImageClassificationTFRecordDataset(metadata=tfrecord_meta, meta=tfrecord_meta)
    with pytest.raises(TypeError, match=r"missing its argument 'metadata' \(also spelt 'meta'\)"):
        ImageClassificationTFRecordDataset(batch_size=4)


# --------------------------------------------------------------------------- multi-label


def multilabel_folder(base_dir, count, class_names):
    """``base_dir/images/<i>.jpg`` and ``base_dir/labels/<i>.jpg.txt``: image ``i`` has classes
    ``i`` and ``i + 1`` (mod the class count) and the colour of the first. Even images' label
    files list the classes on one line, space-separated (the manual's form); odd ones one class
    a line (the default ``label_sep``, a newline)."""
    expected = {}
    for i in range(count):
        first, second = i % len(class_names), (i + 1) % len(class_names)
        save_image(base_dir / "images" / f"{i}.jpg", COLORS[first], size=(8, 8))
        names = [class_names[first], class_names[second]]
        label_file = base_dir / "labels" / f"{i}.jpg.txt"
        label_file.parent.mkdir(parents=True, exist_ok=True)
        label_file.write_text(" ".join(names) + "\n" if i % 2 == 0 else "\n".join(names) + "\n")
        expected[f"{i}.jpg"] = {first, second}
    return expected


@pytest.fixture(scope="module")
def multilabel_dataset(tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("export") / "dataset"
    return str(base_dir), multilabel_folder(base_dir, 3301, FIVE_CLASSES)


def test_multilabel_metadata_sample_1_counts_images_and_classes(multilabel_dataset, capsys):
    base_dir, _ = multilabel_dataset
    metadata = MultilabelClassificationRawMetadata(base_dir=base_dir)
    print(metadata.total_num_samples)
    print(metadata.num_classes)
    assert capsys.readouterr().out == "3301\n5\n"
    assert metadata.labels_list == FIVE_CLASSES  # no labels.txt: the names the files list


def test_multilabel_metadata_sample_2_reads_the_one_line_labels_txt(tmp_path, capsys):
    base_dir = tmp_path / "dataset"
    multilabel_folder(base_dir, 6, ["label_i", "label_j", "label_k"])
    (base_dir / "labels.txt").write_text("0: label_i 1: label_j 2: label_k\n")  # as printed
    metadata = MultilabelClassificationRawMetadata(base_dir=str(base_dir),
                                                   labels_filename='labels.txt')
    print(metadata.labels_to_names)
    print(metadata.names_to_labels)
    # the manual closes both dicts with ']'
    assert capsys.readouterr().out == ("{0: 'label_i', 1: 'label_j', 2: 'label_k'}\n"
                                       "{'label_i': 0, 'label_j': 1, 'label_k': 2}\n")


def test_multilabel_dataset_samples_1_and_2_give_multi_hot_labels(multilabel_dataset):
    base_dir, expected = multilabel_dataset
    with tf.Graph().as_default():
        metadata = MultilabelClassificationRawMetadata(base_dir=base_dir)
        dataset = MultilabelClassificationRawDataset(metadata)
        # the manual asks for ['image', 'label'] here: three names need three keys
        image, label, label_desc = dataset.get(['image', 'label', 'label_desc'])
        # and for ['image'] here: two names need two keys
        image, label = dataset.get(['image', 'label'])
        runs = run_tensors([image, label, label_desc, dataset.get('image_name')], 30)
    for image_value, label_value, desc, name in runs:
        classes = expected[name.decode().rsplit("/", 1)[1]]
        assert label_value.dtype == np.float32
        np.testing.assert_array_equal(np.flatnonzero(label_value), sorted(classes))
        assert desc.decode().split("\n") == [FIVE_CLASSES[k] for k in sorted(classes)]
        assert color_class(image_value) in classes


def test_multilabel_dataset_label_sep_defaults_to_a_newline():
    # the signature prints label_sep='n', its description says '\n': mox reads a newline
    parameters = inspect.signature(MultilabelClassificationRawDataset).parameters
    assert parameters['label_sep'].default == '\n'


# --------------------------------------------------------------------------- get_dataset


def test_get_dataset_takes_capacity_as_in_the_run_example(tmp_path):
    write_records(tmp_path / "mnist_train.tfrecord",
                  [slim_example(encode((d * 25,) * 3, size=(28, 28), fmt="PNG", mode="L"), d,
                                b"png", 28, 28) for d in range(10)])
    split_name_train, split_name_eval = mox.get_dataset_meta('mnist').splits_to_sizes.keys()
    assert 'capacity' in inspect.signature(mox.get_dataset).parameters
    with tf.Graph().as_default():
        dataset = mox.get_dataset(name='mnist', split_name=split_name_train,
                                  dataset_dir=str(tmp_path), capacity=4000)
        image, label = dataset.get(['image', 'label'])
        runs = run_tensors([image, label], 12)  # num_epochs=None: past the 10 records
    assert dataset.shuffle_buffer_size == 4000  # the records read ahead and drawn from
    assert [int(np.median(image_value)) for image_value, label_value in runs] == [
        int(label_value) * 25 for _, label_value in runs]
    with pytest.raises(ValueError, match="capacity .* must be an int >= 0, got -1"):
        mox.get_dataset('mnist', 'train', str(tmp_path), capacity=-1)


# --------------------------------------------------------------------------- PreprocessingKeys

PREPROCESSING_TABLE = """
ALEXNET_V2: vgg_preprocessing
CIFARNET: cifarnet_preprocessing
OVERFEAT: vgg_preprocessing
INCEPTION: inception_preprocessing
INCEPTION_V1: inception_preprocessing
INCEPTION_V2: inception_preprocessing
INCEPTION_V3: inception_preprocessing
INCEPTION_V4: inception_preprocessing
INCEPTION_RESNET_V2: inception_preprocessing
LENET: lenet_preprocessing
RESNET_V1_18: vgg_preprocessing
RESNET_V1_50: vgg_preprocessing
RESNET_V1_50_8K: vgg_preprocessing
RESNET_V1_101: vgg_preprocessing
RESNET_V1_152: vgg_preprocessing
RESNET_V1_200: vgg_preprocessing
RESNET_V2_50: vgg_preprocessing
RESNET_V2_101: vgg_preprocessing
RESNET_V2_152: vgg_preprocessing
RESNET_V2_200: vgg_preprocessing
RESNEXT_B_50: vgg_preprocessing
RESNEXT_B_101: vgg_preprocessing
RESNEXT_C_50: vgg_preprocessing
RESNEXT_C_101: vgg_preprocessing
VGG: vgg_preprocessing
VGG_A: vgg_preprocessing
VGG_16: vgg_preprocessing
VGG_19: vgg_preprocessing
VGG_A_BN: vgg_preprocessing
VGG_16_BN: vgg_preprocessing
VGG_19_BN: vgg_preprocessing
PVANET: pvanet_preprocessing
MOBILENET_V1: inception_preprocessing
MOBILENET_V2: inception_preprocessing
MOBILENET_V2_140: inception_preprocessing
MOBILENET_V2_035: inception_preprocessing
RESNET_V1_20: cifarnet_preprocessing
NASNET_CIFAR: cifarnet_preprocessing
RESNET_V1_110: cifarnet_preprocessing
NASNET_MOBILE: inception_preprocessing
NASNET_LARGE: inception_preprocessing
PNASNET_LARGE: inception_preprocessing
PNASNET_MOBILE: inception_preprocessing
"""


def test_preprocessing_keys_are_the_manuals_table_of_registered_pipelines():
    table = dict(line.split(": ") for line in PREPROCESSING_TABLE.strip().splitlines())
    assert len(table) == 43
    assert {key: getattr(mox.PreprocessingKeys, key) for key in table} == table
    # every pipeline the table names is installed with the core
    assert set(table.values()) <= set(plugins.registry("preprocessing").names())
