"""A dataset reader: paths in, the same elements with the files' bytes out."""

import tensorflow as tf

from mox_core.file import tfdata


class DocsReader:
    def __init__(self, num_readers=8, capacity=256, **reader_kwargs):
        if reader_kwargs:
            raise TypeError(f"DocsReader takes no reader_kwargs, got {sorted(reader_kwargs)}")
        self.num_readers = num_readers
        self.capacity = capacity
        self.mox_file_urls = None  # set by the dataset before read

    def read(self, elements, deterministic):
        read_file = tf.io.read_file if self.mox_file_urls is False else tfdata.read_file
        contents = elements.map(lambda element: {**element, "image_buf": read_file(element["path"])},
                                num_parallel_calls=self.num_readers, deterministic=deterministic)
        return contents.prefetch(self.capacity) if self.capacity else contents
