"""Representative images: for int8 calibration and for checking artifacts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kerascnn.export.errors import ExportError

# Images int8 calibration (TFLite and ONNX Runtime) runs through the model.
CALIBRATION_IMAGES = 200


def representative_images(data, input_shape, *, limit: int, data_config=None) -> np.ndarray:
    """Up to `limit` images as a float32 array of `input_shape` images.

    Calibration takes training images, so that the test split stays unseen
    for evaluating what was calibrated.

    Args:
        data: An array of raw images (N, H, W, C), a `.npy` file of one, a
            `tf.data.Dataset` of images or of (images, labels) (batched or
            not), a kerascnn `ImageDataset` (its train split, else its first
            split), or a data source to load one from (a folder, `tfds:NAME`).
        input_shape: (height, width, channels) the model takes.
        limit: The most images to take.
        data_config: A `DataConfig` (or its dict) for a source loaded here.
    """
    from kerascnn.data import ImageDataset

    if isinstance(data, (str, Path)):
        data = _load_source(data, input_shape, data_config)
    if isinstance(data, ImageDataset):
        split = "train" if "train" in data.splits else next(iter(data.splits))
        data = data.splits[split]
    if isinstance(data, (np.ndarray, list, tuple)):
        images = np.asarray(data)
    elif hasattr(data, "as_numpy_iterator"):
        images = _take_from_dataset(data, tuple(input_shape), limit)
    else:
        raise ExportError(
            "representative_data must be an array of images, a tf.data.Dataset or a "
            f"kerascnn ImageDataset. Received: {type(data).__name__}"
        )
    images = images[:limit].astype("float32")
    if images.ndim == 3 and input_shape[-1] == 1:
        images = images[..., None]
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(input_shape):
        raise ExportError(
            f"representative_data must hold images of shape {tuple(input_shape)} (the model's "
            f"input). Received: an array of shape {images.shape}"
        )
    if len(images) == 0:
        raise ExportError("representative_data holds no images; give at least one.")
    return images


def _load_source(source, input_shape, data_config):
    """An `.npy` array (no pickles), or a data set loaded at the model's input."""
    from kerascnn.data import DataConfig, load_dataset

    if str(source).endswith(".npy"):
        return np.load(source, allow_pickle=False)
    data_config = DataConfig.of(data_config)
    return load_dataset(str(source), image_shape=tuple(input_shape), **data_config.to_dict())


def _take_from_dataset(dataset, input_shape, limit) -> np.ndarray:
    taken, count = [], 0
    for element in dataset.as_numpy_iterator():
        images = element[0] if isinstance(element, tuple) else element
        images = np.asarray(images)
        if images.ndim == len(input_shape):
            images = images[None]
        taken.append(images)
        count += len(images)
        if count >= limit:
            break
    return np.concatenate(taken) if taken else np.zeros((0, *input_shape), "float32")


def synthesized_images(input_shape, count: int, seed: int = 0) -> np.ndarray:
    """Random raw-pixel images (0-255) when no representative data is given."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (count, *input_shape)).astype("float32")
