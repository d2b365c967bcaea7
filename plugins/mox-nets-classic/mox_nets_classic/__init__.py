"""mox-nets-classic: the classic networks of the MoXing API, with TF-Slim's variable names.

Networks are registered by ``mox_nets_classic.plugin`` (entry point group ``mox``) and built
through ``mox_core.get_model_fn(name, ...)``; one module per family, as TF-Slim's ``nets/``.
"""
