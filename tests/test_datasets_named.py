"""Named datasets in TF-Slim's TFRecord layouts: get_dataset / get_dataset_meta."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_datasets_support import COLORS, collect, color_class, encode, slim_example, write_records

import mox_core as mox
from mox_core import plugins


def test_the_four_tf_slim_datasets_are_registered_by_the_core():
    registry = plugins.registry("datasets")
    assert registry.names() == ["cifar10", "flowers", "imagenet", "mnist"]
    assert {registry.get(name).distribution for name in registry.names()} == {"mox-core"}
    from mox_core.datasets import list_datasets

    assert list_datasets("*net") == ["imagenet"]


@pytest.mark.parametrize("name, splits, num_classes", [
    ("mnist", {"train": 60000, "test": 10000}, 10),
    ("cifar10", {"train": 50000, "test": 10000}, 10),
    ("flowers", {"train": 3320, "validation": 350}, 5),
    ("imagenet", {"train": 1281167, "validation": 50000}, 1001),
])
def test_meta_has_tf_slims_splits_in_train_then_eval_order(name, splits, num_classes):
    meta = mox.get_dataset_meta(name)
    assert meta.splits_to_sizes == splits and meta.num_classes == num_classes
    split_name_train, split_name_eval = meta.splits_to_sizes.keys()  # as MoXing scripts do
    assert split_name_train == "train" and split_name_eval == list(splits)[1]


def test_meta_names_the_classes_it_knows():
    assert mox.get_dataset_meta("mnist").labels_to_names[3] == "three"
    assert mox.get_dataset_meta("cifar10").labels_to_names[9] == "truck"
    assert mox.get_dataset_meta("flowers").labels_to_names == {
        0: "daisy", 1: "dandelion", 2: "roses", 3: "sunflowers", 4: "tulips"}
    assert mox.get_dataset_meta("imagenet").labels_to_names is None


def test_meta_is_a_fresh_copy_each_time():
    mox.get_dataset_meta("mnist").splits_to_sizes["train"] = 1
    assert mox.get_dataset_meta("mnist").splits_to_sizes["train"] == 60000


def test_mnist_reads_28x28x1_png_records_and_batches_without_image_size(tmp_path):
    digits = [encode((d * 25,) * 3, size=(28, 28), fmt="PNG", mode="L") for d in range(10)]
    write_records(tmp_path / "mnist_train.tfrecord",
                  [slim_example(digits[d], [d], b"png", 28, 28) for d in range(10)])
    out = collect(lambda: mox.get_dataset("mnist", "train", str(tmp_path), batch_size=5,
                                          num_epochs=1, shuffle=False),
                  ["image", "label", "label_desc"])
    assert [run[0].shape for run in out["_runs"]] == [(5, 28, 28, 1)] * 2
    assert out["label"] == list(range(10))
    assert [int(np.median(image)) for image in out["image"]] == [d * 25 for d in range(10)]
    assert out["label_desc"][3] == b"three"


def test_get_dataset_as_the_seed_uses_it_with_capacity_and_augmentation(tmp_path):
    write_records(tmp_path / "cifar10_test.tfrecord",
                  [slim_example(encode(COLORS[k], size=(32, 32), fmt="PNG"), k, b"png", 32, 32)
                   for k in range(4)])

    def input_fn():
        dataset = mox.get_dataset(name="cifar10", split_name="test",
                                  dataset_dir=str(tmp_path), capacity=4000)
        image, label = dataset.get(["image", "label"])
        image = tf.image.resize(tf.cast(image, tf.float32), [24, 24])
        return image, label

    with tf.Graph().as_default():
        image, label = input_fn()
        assert image.shape.as_list() == [24, 24, 3]
        with tf.compat.v1.Session() as session:
            for _ in range(6):  # num_epochs=None: past the 4 records
                image_value, label_value = session.run([image, label])
                assert color_class(image_value) == label_value


def test_capacity_sets_the_shuffle_buffer(tmp_path):
    write_records(tmp_path / "mnist_test.tfrecord", [slim_example(encode(), 1)])
    dataset = mox.get_dataset("mnist", "test", str(tmp_path), capacity=123)
    assert dataset.shuffle_buffer_size == 123 and dataset.metadata.num_samples == 10000


def test_flowers_shards_and_its_labels_file(tmp_path):
    for split, count in (("train", 3), ("validation", 2)):
        for shard in range(2):
            write_records(tmp_path / f"flowers_{split}_{shard:05d}-of-00002.tfrecord",
                          [slim_example(encode(COLORS[k]), k) for k in range(count)])
    (tmp_path / "labels.txt").write_text("0:daisy\n1:dandelion\n2:roses\n3:sunflowers\n4:tulips\n")
    out = collect(lambda: mox.get_dataset("flowers", "validation", str(tmp_path),
                                          num_epochs=1, image_size=8, batch_size=4),
                  ["image", "label", "label_desc"])
    assert sorted(out["label"]) == [0, 0, 1, 1]
    assert {(int(lab), desc) for lab, desc in zip(out["label"], out["label_desc"])} == {
        (0, b"daisy"), (1, b"dandelion")}
    dataset = mox.get_dataset("flowers", "train", str(tmp_path), num_samples=None)
    assert dataset.metadata.num_samples == 6 and len(dataset.metadata.files) == 2


def test_imagenet_pattern_labels_from_one_and_its_labels_file(tmp_path):
    for shard in range(2):
        write_records(tmp_path / f"validation-{shard:05d}-of-00002",
                      [slim_example(encode(COLORS[k]), k + 1, b"JPEG",
                                    image__class__text=f"synset{k + 1}".encode())
                       for k in range(2)])
    write_records(tmp_path / "train-00000-of-00001", [slim_example(encode(), 7)])
    out = collect(lambda: mox.get_dataset("imagenet", "validation", str(tmp_path),
                                          num_epochs=1), ["label", "label_desc"])
    assert sorted(out["label"]) == [1, 1, 2, 2]
    assert {desc.decode() for desc in out["label_desc"]} == {"synset1", "synset2"}
    (tmp_path / "labels.txt").write_text("".join(f"{i}:class {i}\n" for i in range(1001)))
    dataset = mox.get_dataset("imagenet", "train", str(tmp_path))
    assert dataset.metadata.labels_to_names[7] == "class 7" and dataset.num_classes == 1001


def test_unknown_split_and_unknown_dataset_are_errors(tmp_path):
    with pytest.raises(ValueError, match="dataset 'mnist' has no split 'validation'; its splits "
                                         "are train, test"):
        mox.get_dataset("mnist", "validation", str(tmp_path))
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'. Did you mean: mnist"):
        mox.get_dataset_meta("mnsit")
    with pytest.raises(ValueError, match="matches the pattern 'mnist_train.tfrecord'"):
        mox.get_dataset("mnist", "train", str(tmp_path))


def test_a_plugin_can_register_a_named_dataset(fake_dists, tmp_path):
    fake_dists.add("fake-data", {"fake_data_plugin": """
        from mox_core import hookimpl
        from mox_core.registry import DatasetSpec

        def meta():
            return {"splits_to_sizes": {"train": 2}}

        def load(split_name, dataset_dir, **kwargs):
            return (split_name, dataset_dir, kwargs)

        @hookimpl
        def mox_datasets():
            return [DatasetSpec(name="tiny", loader=load, meta=meta)]
    """}, {"data": "fake_data_plugin"})
    assert mox.get_dataset_meta("tiny") == {"splits_to_sizes": {"train": 2}}
    assert mox.get_dataset("tiny", "train", "/d", batch_size=3) == ("train", "/d",
                                                                    {"batch_size": 3})
    assert plugins.registry("datasets").get("tiny").distribution == "fake-data"


def test_moxing_tensorflow_paths_give_the_same_objects():
    from moxing.tensorflow.datasets import ImageClassificationRawDataset

    import moxing.tensorflow as mox_alias

    assert ImageClassificationRawDataset is mox.ImageClassificationRawDataset
    assert mox_alias.get_dataset is mox.get_dataset
