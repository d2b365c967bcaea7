"""mox-datasets-obs: obs:// and s3:// storage for mox.file and the datasets."""
