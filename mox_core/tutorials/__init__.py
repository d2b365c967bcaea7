"""Stand-ins for the tutorial helpers TensorFlow 1.x shipped and 2.x removed.

``mox port`` rewrites ``from tensorflow.examples.tutorials.mnist import input_data`` to
``from mox_core.tutorials.mnist import input_data``, so MoXing's MNIST scripts keep their
``input_data.read_data_sets(...)`` line.
"""
