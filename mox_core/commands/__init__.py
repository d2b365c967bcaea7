"""The ``mox`` subcommands of the core, one module per command (``listings`` holds the three
listings), plus what the job commands share: ``job_setup`` (network, input size, checkpoint,
common arguments), ``model_fn`` (the classifier handed to ``mox.run``), ``progress`` (the
training progress bar), ``prediction_writer`` (the predictions CSV), ``data`` (finding and
opening a dataset), ``artifacts`` (the model info kept beside checkpoints and exports),
``fine_tune`` (``mox train --checkpoint``: foreign logits, head first; imported when used,
it loads TensorFlow), ``eval_report`` and
``confusion_png`` (``mox eval``'s report and confusion-matrix picture); ``plugin_template``
is ``mox plugin new``.

Each command module has ``register(subparsers)``, which adds its subparser with
``set_defaults(func=...)`` (plus ``framework_flags=True`` when the command takes the framework's
``--flag=value`` run flags). They reach ``mox`` through the ``mox_commands`` hook like any
plugin's commands: ``mox_core.builtin.commands`` calls every ``register``. Command modules load
no TensorFlow at import: every ``mox`` invocation imports them all.
"""
