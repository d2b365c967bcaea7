"""The hook implementations: records only, every piece of code named by a string."""

from mox_core import hookimpl
from mox_core.registry import DatasetReaderSpec, DatasetSpec, FilesystemSpec, NetworkSpec


@hookimpl
def mox_networks():
    return [NetworkSpec(name="docs_pool_net", builder="mox_docs_plugin.network:pool_net",
                        default_image_size=28, default_logits_pattern="DocsPoolNet/logits",
                        preprocessing="lenet_preprocessing",
                        description="Global average pooling and one dense layer")]


@hookimpl
def mox_filesystems():
    return [FilesystemSpec(name="memfs", backend="mox_docs_plugin.storage:MemoryBackend",
                           description="Objects kept in this process's memory")]


@hookimpl
def mox_dataset_readers():
    return [DatasetReaderSpec(name="DocsReader", reader="mox_docs_plugin.reader:DocsReader",
                              description="One file per call, in num_readers parallel calls")]


@hookimpl
def mox_datasets():
    return [DatasetSpec(name="docs_shapes", loader="mox_docs_plugin.dataset:load",
                        meta="mox_docs_plugin.dataset:meta",
                        description="mox demo's shapes: one image folder per split")]
