"""AsyncRawGenerator: concurrent reads in order, bounded memory, and surviving a server restart."""

from __future__ import annotations

import threading
import time

import pytest
import tensorflow as tf
from mox_datasets_obs import reader as reader_module
from mox_datasets_obs.reader import AsyncRawGenerator

import moxing as mox
from mox_core.datasets import get_reader_class


def upload_numbered(bucket: str, count: int, prefix: str = "n") -> list[str]:
    urls = [f"obs://{bucket}/{prefix}/{i:04d}.bin" for i in range(count)]
    for index, url in enumerate(urls):
        mox.file.write(url, f"object {index} ".encode() * 50)
    return urls


def elements(urls: list[str]) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices({"path": urls, "index": list(range(len(urls)))})


def test_it_is_registered_as_a_reader_class():
    assert get_reader_class("AsyncRawGenerator") is AsyncRawGenerator


def test_contents_come_in_input_order_paired_with_their_elements(bucket):
    urls = upload_numbered(bucket, 40)
    out = list(AsyncRawGenerator(num_readers=2, window=7).read(elements(urls), True))
    assert [int(e["index"]) for e in out] == list(range(40))
    for element in out:
        assert element["image_buf"].numpy().startswith(f"object {int(element['index'])} ".encode())


def test_at_most_two_windows_and_capacity_are_held(bucket, monkeypatch):
    urls = upload_numbered(bucket, 120, "m")
    fetched = []

    def counting(paths, concurrency):
        fetched.extend(paths)
        return real(paths, concurrency)

    real = reader_module.fetch_all
    monkeypatch.setattr(reader_module, "fetch_all", counting)
    reader = AsyncRawGenerator(window=8, capacity=4, concurrency=4)
    iterator = iter(reader.read(elements(urls), True))
    for _ in range(10):
        next(iterator)
    time.sleep(0.5)  # let the pipeline fill every buffer it has
    assert len(fetched) <= 10 + 3 * 8 + 4 < len(urls)


def test_a_missing_object_stops_the_pipeline_naming_bucket_and_key(bucket):
    urls = upload_numbered(bucket, 3) + [f"obs://{bucket}/n/missing.bin"]
    with pytest.raises(tf.errors.OpError, match=f"no key 'n/missing.bin' in bucket '{bucket}'"):
        list(AsyncRawGenerator().read(elements(urls), True))


def test_local_paths_are_read_too(tmp_path):
    paths = []
    for index in range(5):
        path = tmp_path / f"{index}.bin"
        path.write_bytes(bytes([index]) * 3)
        paths.append(str(path))
    out = list(AsyncRawGenerator().read(elements(paths), True))
    assert [e["image_buf"].numpy() for e in out] == [bytes([i]) * 3 for i in range(5)]


def test_an_epoch_survives_the_server_being_killed_and_restarted(bucket, obs_env):
    urls = upload_numbered(bucket, 150, "k")
    time.sleep(1.0)  # let the filer settle what it wrote before it is killed
    iterator = iter(AsyncRawGenerator(window=16, concurrency=8, capacity=8)
                    .read(elements(urls), True))
    seen = [int(next(iterator)["index"]) for _ in range(30)]
    obs_env.kill()
    restart = threading.Timer(1.0, obs_env.start)
    restart.start()
    try:
        for element in iterator:
            index = int(element["index"])
            assert element["image_buf"].numpy().startswith(f"object {index} ".encode())
            seen.append(index)
    finally:
        restart.join()
    assert seen == list(range(150))
