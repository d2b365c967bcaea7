"""mox.file from atexit handlers: ModelArts scripts upload their results when Python exits.

Each test runs a small script in a fresh interpreter, because what is tested is Python's own
shutdown: no thread can start by then, and an exception escaping a handler is only printed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


@pytest.fixture
def cache(tmp_path):
    """What a training job leaves in /cache/train_url: checkpoint files in two folders."""
    root = tmp_path / "cache" / "train_url"
    (root / "model").mkdir(parents=True)
    for index in range(20):
        (root / f"model.ckpt-{index}.index").write_text(f"checkpoint {index}")
    (root / "model" / "saved_model.pb").write_bytes(b"\x08\x01")
    return root


def files_under(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(errors="replace")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_copy_parallel_registered_with_atexit_uploads_everything(tmp_path, cache):
    # the documented pattern: mox.file is first touched inside the handler
    result = run_script(tmp_path, f"""
        import atexit
        import moxing.tensorflow as mox

        train_url = {str(tmp_path / "train_url")!r}
        atexit.register(lambda: mox.file.copy_parallel({str(cache)!r}, train_url))
        print("training done")
    """)
    assert result.returncode == 0, result.stderr
    assert "Exception ignored" not in result.stderr
    assert "training done" in result.stdout
    assert files_under(tmp_path / "train_url") == files_under(cache)


def test_every_mox_file_call_works_at_exit(tmp_path, cache):
    # mox.file already imported and used while the script ran (train_iceberg_with_cache.py)
    result = run_script(tmp_path, f"""
        import atexit
        import mox_core as mox

        out = {str(tmp_path / "out")!r}
        mox.file.make_dirs(out)

        def upload():
            mox.file.copy_parallel({str(cache)!r}, out + "/all", threads=8)
            mox.file.copy({str(cache / "model" / "saved_model.pb")!r}, out + "/one/model.pb")
            mox.file.write(out + "/done.txt", "ok")
            mox.file.append(out + "/done.txt", "!")
            mox.file.rename(out + "/one", out + "/moved")
            mox.file.remove(out + "/all/model", recursive=True)
            listing = ",".join(mox.file.list_directory(out))
            with mox.file.File(out + "/listing.txt", "w") as handle:
                handle.write(listing)

        atexit.register(upload)
    """)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert (out / "done.txt").read_text() == "ok!"
    assert (out / "moved" / "model.pb").read_bytes() == b"\x08\x01"
    assert not (out / "all" / "model").exists()
    assert len(list((out / "all").glob("model.ckpt-*.index"))) == 20
    assert (out / "listing.txt").read_text() == "all,done.txt,moved"


def test_failed_copy_at_exit_makes_the_exit_status_non_zero(tmp_path, cache):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the target folder's parent should be")
    missing = tmp_path / "cache" / "never_written"
    result = run_script(tmp_path, f"""
        import atexit
        import moxing as mox

        # atexit runs the last registered first: both failures happen, then the good copy
        atexit.register(lambda: mox.file.copy_parallel({str(cache)!r},
                                                       {str(tmp_path / "good")!r}))
        atexit.register(lambda: mox.file.copy_parallel({str(cache)!r},
                                                       {str(blocker / "train_url")!r}))
        atexit.register(lambda: mox.file.copy_parallel({str(missing)!r},
                                                       {str(tmp_path / "logs")!r}))
        print("training done")
    """)
    assert result.returncode == 120, result.stderr
    summary = result.stderr[result.stderr.index("mox.file: 2 call(s) failed"):]
    assert f"cannot copy {str(missing)!r} to {str(tmp_path / 'logs')!r}" in summary
    assert f"mox.file.copy_parallel({str(cache)!r}, {str(blocker / 'train_url')!r})" in summary
    assert "exits with status 120" in summary
    # the handler registered first still ran
    assert files_under(tmp_path / "good") == files_under(cache)


def test_failure_inside_the_tree_names_the_file(tmp_path, cache):
    target = tmp_path / "train_url"
    (target / "model").mkdir(parents=True)
    (target / "model" / "saved_model.pb").mkdir()  # a folder where a file must go
    result = run_script(tmp_path, f"""
        import atexit
        import mox_core as mox

        atexit.register(lambda: mox.file.copy_parallel({str(cache)!r}, {str(target)!r}))
    """)
    assert result.returncode == 120, result.stderr
    summary = result.stderr[result.stderr.index("mox.file: 1 call(s) failed"):]
    assert (f"failed copying {str(cache / 'model' / 'saved_model.pb')!r} to "
            f"{str(target / 'model' / 'saved_model.pb')!r}") in summary
    # the other files were copied all the same
    assert len(list(target.glob("model.ckpt-*.index"))) == 20


def test_a_failure_the_handler_handles_or_that_is_not_mox_files_changes_nothing(tmp_path):
    result = run_script(tmp_path, f"""
        import atexit
        import mox_core as mox

        def careful_upload():
            try:
                mox.file.copy_parallel({str(tmp_path / "missing")!r}, {str(tmp_path / "x")!r})
            except FileNotFoundError as exc:
                print("handled:", exc)

        def unrelated():
            raise ValueError("not a mox.file failure")

        atexit.register(careful_upload)
        atexit.register(unrelated)
    """)
    # Python's own rule for other exceptions is kept: printed, exit status 0
    assert result.returncode == 0, result.stderr
    assert "handled: cannot copy" in result.stdout
    assert "ValueError: not a mox.file failure" in result.stderr
    assert "mox.file:" not in result.stderr


def test_a_normal_exit_code_is_kept(tmp_path, cache):
    result = run_script(tmp_path, f"""
        import atexit
        import sys
        import mox_core as mox

        atexit.register(lambda: mox.file.copy_parallel({str(cache)!r},
                                                       {str(tmp_path / "out")!r}))
        sys.exit(3)
    """)
    assert result.returncode == 3, result.stderr
    assert files_under(tmp_path / "out") == files_under(cache)
