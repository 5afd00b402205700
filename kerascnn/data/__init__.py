"""Image-classification data: TFDS data sets and image folders as tf.data.

Imported on its own (`from kerascnn.data import load_dataset`), not by
`import kerascnn`: it needs TensorFlow, and TFDS loads only for `tfds:` names.
"""

from kerascnn.data.augmentation import AUGMENTATIONS, build_augmentation
from kerascnn.data.dataset import DataError, ImageDataset
from kerascnn.data.folder_source import read_image
from kerascnn.data.loading import load_dataset

__all__ = [
    "AUGMENTATIONS",
    "DataError",
    "ImageDataset",
    "build_augmentation",
    "load_dataset",
    "read_image",
]
