"""``mox.run``: TRAIN, EVAL, PREDICT and EXPORT from ``input_fn`` / ``model_fn`` / ``optimizer_fn``.

Each run builds its own ``tf.Graph`` in ``tf.compat.v1`` graph mode and composes TensorFlow's
own parts: ``tf.data`` (or queue batching) for input, ``MonitoredSession``'s session creators
for set-up, resume and the stop protocol, ``Saver`` and ``CheckpointSaverHook`` for
checkpoints, ``SummarySaverHook`` for TensorBoard, and ``saved_model.Builder`` for the export.

The layers, as ``tf.estimator`` had them: :mod:`config` checks the arguments and reads the run
flags once (``RunConfig``); :mod:`graph` and :mod:`train_op` build the model towers and the
training step; :mod:`modes` runs each mode through the one session loop of :mod:`loop`;
:mod:`export` writes the SavedModel. Everything a user can get wrong is checked before the
session starts.
"""

from __future__ import annotations

from mox_core.constants import ModeKeys
from mox_core.executor import checkpoints
from mox_core.executor.config import UNSET, build_config
from mox_core.executor.export import export_from
from mox_core.executor.logging_hooks import ensure_info_logging
from mox_core.executor.modes import evaluate, predict, train


def run(input_fn=None, output_fn=None, model_fn=None, optimizer_fn=None, run_mode="invalid",
        inter_mode=None, batch_size=None, auto_batch=True, log_dir=None, max_number_of_steps=0,
        checkpoint_path=None, log_every_n_steps=10, output_every_n_steps=0,
        save_summary_steps=100, save_model_secs=UNSET, export_model=False,
        fetch_strategy_fn=None, save_model_steps=UNSET):
    """Run ``model_fn`` on ``input_fn``'s data in ``run_mode`` (see the module docs).

    Returns, for EVAL, the mean of each ``log_info`` metric over the data; for TRAIN, the
    metrics of the last logged step; for EXPORT, the export folder; for PREDICT, ``None``.
    """
    config = build_config(
        input_fn=input_fn, output_fn=output_fn, model_fn=model_fn, optimizer_fn=optimizer_fn,
        run_mode=run_mode, inter_mode=inter_mode, batch_size=batch_size, auto_batch=auto_batch,
        log_dir=log_dir, max_number_of_steps=max_number_of_steps,
        checkpoint_path=checkpoint_path, log_every_n_steps=log_every_n_steps,
        output_every_n_steps=output_every_n_steps, save_summary_steps=save_summary_steps,
        save_model_secs=save_model_secs, export_model=export_model,
        fetch_strategy_fn=fetch_strategy_fn, save_model_steps=save_model_steps)
    ensure_info_logging()
    if config.mode == ModeKeys.TRAIN:
        return train(config)
    if config.mode == ModeKeys.EVAL:
        return evaluate(config)
    if config.mode == ModeKeys.PREDICT:
        return predict(config)
    return export_from(config, checkpoints.resolve_checkpoint(
        config.checkpoint_path or config.log_dir, "checkpoint_path"))
