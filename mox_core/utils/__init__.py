"""``moxing.tensorflow.utils``: the helpers of MoXing's ``utils`` package that scripts import.

``tf_util.version_info()`` (scripts branch on the TensorFlow version) and
``hyper_param_flags.mox_flags`` (``mox_flags.get_help()`` lists the run flags).
"""
