"""Uploads to obs:// from atexit handlers, as ModelArts scripts do, against a real S3 server.

The scripts run in fresh interpreters (Python's shutdown is what is tested); they find the
server through the environment that the ``obs_env`` fixture set.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import moxing as mox


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


def make_train_dir(tmp_path: Path) -> Path:
    root = tmp_path / "cache" / "train_url"
    (root / "model").mkdir(parents=True)
    for index in range(6):
        (root / f"model.ckpt-{index}.index").write_text(f"checkpoint {index}")
    (root / "model" / "saved_model.pb").write_bytes(b"\x08\x01")
    return root


def test_copy_parallel_to_obs_and_recursive_remove_at_exit(bucket, tmp_path):
    train_dir = make_train_dir(tmp_path)
    for index in range(3):
        mox.file.write(f"obs://{bucket}/old_run/part-{index}", "stale")
    result = run_script(tmp_path, f"""
        import atexit
        import moxing as mox

        def upload():
            mox.file.remove("obs://{bucket}/old_run", recursive=True)
            mox.file.copy_parallel({str(train_dir)!r}, "obs://{bucket}/train_url")

        atexit.register(upload)
        print("training done")
    """)
    assert result.returncode == 0, result.stderr
    assert "Exception ignored" not in result.stderr
    assert mox.file.list_directory(f"obs://{bucket}/train_url", recursive=True) == sorted(
        ["model", "model/saved_model.pb"] + [f"model.ckpt-{i}.index" for i in range(6)])
    assert mox.file.read(f"obs://{bucket}/train_url/model.ckpt-3.index") == "checkpoint 3"
    assert not mox.file.exists(f"obs://{bucket}/old_run")


def test_upload_to_a_missing_bucket_at_exit_fails_the_process(obs_env, tmp_path):
    train_dir = make_train_dir(tmp_path)
    result = run_script(tmp_path, f"""
        import atexit
        import moxing as mox

        atexit.register(lambda: mox.file.copy_parallel({str(train_dir)!r},
                                                       "obs://no-such-bucket-mox/train_url"))
    """)
    assert result.returncode == 120, result.stderr
    summary = result.stderr[result.stderr.index("mox.file: 1 call(s) failed"):]
    assert "no-such-bucket-mox" in summary
    assert f"mox.file.copy_parallel({str(train_dir)!r}, 'obs://no-such-bucket-mox/train_url')" \
        in summary
    assert obs_env.secret not in result.stderr
