"""The MNIST tutorial reader (``input_data``) of TensorFlow 1.x, without the download."""
