"""A mox plugin written from the reference alone: a network, a storage backend, a dataset
reader and a named dataset."""
