"""Exporting SavedModels: versions, signatures, and loading them in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from executor_models import X, dataset_input_fn, linear_model_fn, read_variable, sgd

import mox_core as mox


def train_and_export(log_dir, version=-1, steps=5):
    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        if mode == mox.ModeKeys.EXPORT:
            x = inputs[0]
            spec = mox.ModelSpec(export_spec=mox.ExportSpec(
                {"x": x}, {"prediction": spec.output_info["prediction"]}, version=version))
        return spec

    mox.run(input_fn=dataset_input_fn(epochs=100), model_fn=model_fn, optimizer_fn=sgd(),
            run_mode=mox.ModeKeys.TRAIN, batch_size=16, log_dir=str(log_dir),
            max_number_of_steps=steps, export_model=mox.ExportKeys.TF_SERVING)


def test_versions_count_up_from_one_and_a_fixed_version_is_used_once(tmp_path):
    train_and_export(tmp_path, steps=2)
    train_and_export(tmp_path, steps=4)
    assert (tmp_path / "1" / "saved_model.pb").is_file()
    assert (tmp_path / "2" / "variables" / "variables.index").is_file()
    train_and_export(tmp_path, version=7, steps=6)
    assert (tmp_path / "7" / "saved_model.pb").is_file()
    with pytest.raises(ValueError, match=r"export directory .*7 already exists"):
        train_and_export(tmp_path, version=7, steps=8)


def test_version_model_writes_the_modelarts_package_layout(tmp_path):
    train_and_export(tmp_path, version="model")
    assert sorted(os.listdir(tmp_path / "model")) == ["saved_model.pb", "variables"]


def test_the_export_loads_in_a_fresh_process_and_computes_what_training_learned(tmp_path):
    train_and_export(tmp_path, steps=20)
    expected = X[:5] @ read_variable(tmp_path)
    script = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        import tensorflow as tf
        loaded = tf.saved_model.load(sys.argv[1])
        out = {}
        for name in ("serving_default", "predict_object"):
            fn = loaded.signatures[name]
            inputs = fn.structured_input_signature[1]
            result = fn(x=tf.constant(np.array(json.loads(sys.argv[2]), np.float32)))
            out[name] = {"inputs": {k: [v.shape.as_list(), v.dtype.name]
                                    for k, v in inputs.items()},
                         "prediction": result["prediction"].numpy().tolist()}
        print(json.dumps(out))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "1"), json.dumps(X[:5].tolist())],
        capture_output=True, text=True, timeout=300, check=True,
    )
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    for name in ("serving_default", "predict_object"):
        assert out[name]["inputs"] == {"x": [[None, 4], "float32"]}
        np.testing.assert_allclose(out[name]["prediction"], expected, rtol=1e-5)


def test_export_without_log_dir_is_refused_up_front():
    with pytest.raises(ValueError, match="needs log_dir to export the model into"):
        mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn, optimizer_fn=sgd(),
                run_mode=mox.ModeKeys.TRAIN, batch_size=16, max_number_of_steps=1,
                export_model=mox.ExportKeys.TF_SERVING)


def test_run_mode_export_exports_an_existing_checkpoint(tmp_path):
    train_and_export(tmp_path, steps=3)
    export_dir = mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn,
                         run_mode=mox.ModeKeys.EXPORT, batch_size=16, log_dir=str(tmp_path))
    assert export_dir == str(tmp_path / "2")
    assert (tmp_path / "2" / "saved_model.pb").is_file()
