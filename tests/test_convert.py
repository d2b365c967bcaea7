"""The converter from class folders to TF-Slim TFRecords: function and ``mox convert``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
import tensorflow as tf
from PIL import Image
from test_datasets_bad_data import bomb_png
from test_datasets_support import COLORS, collect, color_class, encode, make_class_folders

import mox_core as mox
from mox_core.datasets.convert import convert_to_tfrecord
from mox_core.errors import DataError

COUNTS = {"daisy": 6, "roses": 4, "tulips": 5}


@pytest.fixture
def src(tmp_path):
    root = tmp_path / "flower_photos"
    make_class_folders(root, COUNTS)
    return root


def parse_all(paths):
    records = []
    for path in paths:
        for raw in tf.data.TFRecordDataset(str(path)):
            records.append(tf.train.Example.FromString(raw.numpy()).features.feature)
    return records


def test_writes_tf_slim_shards_and_labels_file(src, tmp_path):
    dst = tmp_path / "out"
    counts = convert_to_tfrecord(str(src), str(dst), num_shards=2, validation_fraction=0.2,
                                 progress=False)
    assert counts == {"train": 12, "validation": 3}
    assert sorted(os.listdir(dst)) == [
        "flower_photos_train_00000-of-00002.tfrecord",
        "flower_photos_train_00001-of-00002.tfrecord",
        "flower_photos_validation_00000-of-00002.tfrecord",
        "flower_photos_validation_00001-of-00002.tfrecord",
        "labels.txt",
    ]
    assert (dst / "labels.txt").read_text() == "0:daisy\n1:roses\n2:tulips\n"
    records = parse_all(sorted(dst.glob("*.tfrecord")))
    files = sorted(r["image/filename"].bytes_list.value[0].decode() for r in records)
    assert files == sorted(str(p.relative_to(src)) for p in src.rglob("*.jpg"))
    for record in records:
        relative = record["image/filename"].bytes_list.value[0].decode()
        label = record["image/class/label"].int64_list.value[0]
        assert label == sorted(COUNTS).index(relative.split("/")[0])
        assert record["image/class/text"].bytes_list.value[0].decode() == sorted(COUNTS)[label]
        assert record["image/format"].bytes_list.value[0] == b"jpg"
        assert (record["image/height"].int64_list.value[0],
                record["image/width"].int64_list.value[0]) == (12, 16)
        assert record["image/encoded"].bytes_list.value[0] == (src / relative).read_bytes()


def test_the_split_is_seeded_and_reads_back_with_exact_labels(src, tmp_path):
    convert_to_tfrecord(str(src), str(tmp_path / "a"), validation_fraction=0.4, progress=False)
    convert_to_tfrecord(str(src), str(tmp_path / "b"), validation_fraction=0.4, progress=False)
    val_a = parse_all((tmp_path / "a").glob("*validation*"))
    val_b = parse_all((tmp_path / "b").glob("*validation*"))
    assert [r["image/filename"] for r in val_a] == [r["image/filename"] for r in val_b]
    assert len(val_a) == 6
    meta = mox.ImageClassificationTFRecordMetadata(str(tmp_path / "a"),
                                                   "flower_photos_train_*.tfrecord")
    assert meta.num_samples == 9 and meta.labels_to_names == dict(enumerate(sorted(COUNTS)))
    out = collect(lambda: mox.ImageClassificationTFRecordDataset(meta, num_epochs=1),
                  ["image", "label", "label_desc", "image_name"])
    for image, label, desc, name in zip(out["image"], out["label"], out["label_desc"],
                                        out["image_name"]):
        assert color_class(image) == label and desc.decode() == name.decode().split("/")[0]


def test_named_flowers_reads_the_converters_output(src, tmp_path):
    convert_to_tfrecord(str(src), str(tmp_path / "tf"), name="flowers",
                        validation_fraction=0.2, progress=False)
    out = collect(lambda: mox.get_dataset("flowers", "validation", str(tmp_path / "tf"),
                                          num_epochs=1, num_samples=None), ["label_desc"])
    assert len(out["label_desc"]) == 3


def test_default_shards_hold_about_100_mb(src, tmp_path):
    convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False)
    assert [p.name for p in (tmp_path / "o").glob("*.tfrecord")] == [
        "flower_photos_train_00000-of-00001.tfrecord"]


def test_gif_bmp_and_webp_become_png_and_png_stays(tmp_path):
    root = tmp_path / "src" / "things"
    root.mkdir(parents=True)
    for fmt, ext in (("GIF", "gif"), ("BMP", "bmp"), ("WEBP", "webp"), ("PNG", "png")):
        (root / f"x.{ext}").write_bytes(encode(COLORS[2], fmt=fmt))
    Image.new("CMYK", (16, 12), (0, 200, 200, 0)).save(root / "cmyk.jpg")
    convert_to_tfrecord(str(tmp_path / "src"), str(tmp_path / "dst"), progress=False)
    records = {r["image/filename"].bytes_list.value[0].decode(): r
               for r in parse_all((tmp_path / "dst").glob("*.tfrecord"))}
    formats = {name: r["image/format"].bytes_list.value[0] for name, r in records.items()}
    assert formats == {"things/x.gif": b"png", "things/x.bmp": b"png", "things/x.webp": b"png",
                       "things/x.png": b"png", "things/cmyk.jpg": b"jpg"}
    for name, record in records.items():
        data = record["image/encoded"].bytes_list.value[0]
        image = tf.io.decode_image(data, channels=3).numpy()
        assert image.shape == (12, 16, 3), name


def test_a_corrupt_image_stops_the_conversion_naming_it(src, tmp_path):
    bad = src / "roses" / "bad.jpg"
    bad.write_bytes(encode()[:60])
    with pytest.raises(DataError, match=f"cannot convert image file {bad}: it is truncated "
                       "or corrupt .*pass skip_corrupt=True to convert without such files"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False)
    (src / "roses" / "text.jpg").write_bytes(b"hello")
    bad.unlink()
    with pytest.raises(DataError, match="text.jpg: it is not an image"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False, overwrite=True)


def test_skip_corrupt_leaves_bad_images_out_with_a_warning(src, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="tensorflow")
    (src / "roses" / "empty.jpg").write_bytes(b"")
    (src / "daisy" / "cut.jpg").write_bytes(encode()[:60])
    counts = convert_to_tfrecord(str(src), str(tmp_path / "o"), skip_corrupt=True,
                                 progress=False)
    assert counts == {"train": 15}
    assert "Skipping image file '" in caplog.text and "empty.jpg': it is empty (0 bytes)" in \
        caplog.text
    assert "cut.jpg': it is truncated or corrupt" in caplog.text
    assert "(2 skipped so far)" in caplog.text and "skipped 2 corrupt images" in caplog.text


def test_existing_output_is_kept_unless_overwrite(src, tmp_path):
    convert_to_tfrecord(str(src), str(tmp_path / "o"), num_shards=3, progress=False)
    with pytest.raises(ValueError, match="already holds 3 TFRecord files named "
                                         "flower_photos_\\*.tfrecord"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False)
    convert_to_tfrecord(str(src), str(tmp_path / "o"), num_shards=1, overwrite=True,
                        progress=False)
    assert len(list((tmp_path / "o").glob("*.tfrecord"))) == 1


def test_bad_arguments(src, tmp_path):
    with pytest.raises(ValueError, match="validation_fraction must be in \\[0, 1\\)"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), validation_fraction=1.0)
    with pytest.raises(ValueError, match="num_shards must be at least 1"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), num_shards=0)


def test_the_output_folder_must_be_local(src):
    with pytest.raises(ValueError, match="the output folder must be local, got 's3://b/tf': "
                                         "convert to a local folder, then copy it"):
        convert_to_tfrecord(str(src), "s3://b/tf", progress=False)


def mox_cli(*args):
    return subprocess.run([sys.executable, "-m", "mox_core.cli", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.mark.slow
def test_mox_convert_command_with_a_progress_bar(src, tmp_path):
    dst = tmp_path / "tf"
    result = mox_cli("convert", str(src), str(dst), "--shards", "2", "--validation-fraction",
                     "0.2", "--name", "flowers")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("train: 12 records, validation: 3 records")
    assert f"Converting {src}: 100%|" in result.stderr and "15/15" in result.stderr
    assert len(list(dst.glob("flowers_*_0000?-of-00002.tfrecord"))) == 4
    failed = mox_cli("convert", str(tmp_path / "missing"), str(dst))
    assert failed.returncode == 2
    assert f"mox: error: dataset folder '{tmp_path / 'missing'}' does not exist" in failed.stderr


def jpeg_declaring(width, height):
    """A real JPEG whose frame header is rewritten to declare ``width x height``."""
    data = bytearray(encode())
    frame = data.index(b"\xff\xc0")
    data[frame + 5:frame + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_decompression_bomb_is_named_whatever_pillows_limit_is(src, tmp_path, monkeypatch):
    bomb = src / "roses" / "bomb.png"
    bomb.write_bytes(bomb_png(60000, 60000))
    message = f"image file {bomb}: it declares 60000 x 60000 pixels, more than the 178956970"
    with pytest.raises(DataError, match=message):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False)
    bomb.unlink()
    big = src / "roses" / "big.jpg"  # a JPEG: Pillow reads its size before decoding
    big.write_bytes(jpeg_declaring(20000, 20000))
    with pytest.raises(DataError, match=f"image file {big}: it is too large to decode"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False, overwrite=True)
    # a script that switched Pillow's own guard off does not switch off mox's
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(DataError, match=f"image file {big}: it declares 20000 x 20000"):
        convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False, overwrite=True)


def outside_links(src, tmp_path):
    """A file and a class folder outside ``src``, linked into it, and a link inside it."""
    private = tmp_path / "home"
    private.mkdir()
    secret = private / "id_rsa.jpg"
    secret.write_bytes(encode(COLORS[1], size=(9, 11)))  # bytes no dataset file has
    make_class_folders(private / "outside_class", {"x": 2})
    os.symlink(secret, src / "daisy" / "stolen.jpg")
    os.symlink(private / "outside_class" / "x", src / "linked")
    os.symlink(src / "roses" / "0.jpg", src / "tulips" / "same_as_a_rose.jpg")
    return secret


def test_convert_does_not_follow_links_out_of_the_dataset(src, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    secret = outside_links(src, tmp_path)
    counts = convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False)
    assert counts == {"train": 16}  # 15 files and the link inside the dataset
    shards = b"".join(p.read_bytes() for p in (tmp_path / "o").glob("*.tfrecord"))
    assert secret.read_bytes() not in shards and b"stolen" not in shards
    assert (tmp_path / "o" / "labels.txt").read_text() == "0:daisy\n1:roses\n2:tulips\n"
    warnings = [r.getMessage() for r in caplog.records if "symbolic links" in r.getMessage()]
    assert len(warnings) == 1
    assert f"Left out 2 symbolic links in {src} that lead out of the dataset folder" in \
        warnings[0]
    assert f"'linked -> {tmp_path / 'home' / 'outside_class' / 'x'}'" in warnings[0]
    assert f"'daisy/stolen.jpg -> {secret}'" in warnings[0]
    counts = convert_to_tfrecord(str(src), str(tmp_path / "o"), progress=False, overwrite=True,
                                 follow_symlinks=True)
    assert counts == {"train": 19}
    assert (tmp_path / "o" / "labels.txt").read_text() == \
        "0:daisy\n1:linked\n2:roses\n3:tulips\n"


def test_mox_convert_names_an_empty_class_folder_with_the_cli_option(src, tmp_path):
    (src / "irises").mkdir()
    failed = mox_cli("convert", str(src), str(tmp_path / "o"), "--quiet")
    assert failed.returncode == 2, failed.stderr
    assert [line for line in failed.stderr.splitlines() if line.startswith("mox: error:")] == [
        f"mox: error: class folder {src / 'irises'}: it has no image files. Add its images or "
        f"remove the folder, or pass --skip-corrupt to convert without that class."]
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_mox_convert_names_a_decompression_bomb_and_skips_it(src, tmp_path):
    bomb = src / "roses" / "bomb.png"
    bomb.write_bytes(bomb_png(60000, 60000))
    secret = outside_links(src, tmp_path)
    failed = mox_cli("convert", str(src), str(tmp_path / "o"), "--quiet")
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("mox: error:")]
    assert errors == [f"mox: error: cannot convert image file {bomb}: it declares 60000 x "
                      f"60000 pixels, more than the 178956970 mox decodes (a decompression "
                      f"bomb?). Fix or remove the file, or pass --skip-corrupt to convert "
                      f"without such files."]
    assert "Left out 2 symbolic links" in failed.stderr and str(secret) in failed.stderr
    result = mox_cli("convert", str(src), str(tmp_path / "o"), "--quiet", "--skip-corrupt",
                     "--follow-symlinks", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == "train: 19 records"
    assert f"Skipping image file '{bomb}': it declares 60000 x 60000 pixels" in result.stderr
    assert "symbolic links" not in result.stderr
