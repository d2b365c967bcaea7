"""An example third-party mox plugin (distribution ``mox-plugin-example``).

It registers, through the hooks of ``mox_core.hookspecs`` (see ``plugin.py``):

- the network ``tiny_convnet`` (``tiny_convnet.py``), for ``mox.get_model_fn``;
- the preprocessing pipeline ``tiny_preprocessing`` (``preprocessing.py``), for
  ``mox.get_data_augmentation_fn`` and as the network's default pipeline;
- the optimizer ``nesterov`` (``optimizers.py``), for ``mox.get_optimizer_fn``.

Importing the package imports neither TensorFlow nor mox: mox imports ``plugin`` to read the
records, and the modules they name only when the thing is used.
"""

__version__ = "0.1.0"
