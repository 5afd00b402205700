"""Image-classification data: TFDS data sets and image folders as tf.data.

Names import lazily: `DataConfig` (plain data) loads no TensorFlow, so the
command line can describe its options before anything heavy loads; TFDS
loads only for `tfds:` names.
"""

from kerascnn._lazy import lazy_getattr

_EXPORTS = {
    "AUGMENTATIONS": "kerascnn.data.augmentation",
    "build_augmentation": "kerascnn.data.augmentation",
    "DataConfig": "kerascnn.data.config",
    "DataError": "kerascnn.data.dataset",
    "ImageDataset": "kerascnn.data.dataset",
    "read_image": "kerascnn.data.folder_source",
    "load_dataset": "kerascnn.data.loading",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
