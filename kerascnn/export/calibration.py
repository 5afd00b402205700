"""Representative images: for int8 calibration and for checking artifacts."""

from __future__ import annotations

import numpy as np

from kerascnn.export.errors import ExportError

# Images int8 calibration (TFLite and ONNX Runtime) runs through the model.
CALIBRATION_IMAGES = 200


def representative_images(data, input_shape, *, limit: int) -> np.ndarray:
    """Up to `limit` images as a float32 array of `input_shape` images.

    Args:
        data: An array of raw images (N, H, W, C), a `tf.data.Dataset` of
            images or of (images, labels) (batched or not), or a kerascnn
            `ImageDataset` (its train split, else its first split).
        input_shape: (height, width, channels) the model takes.
        limit: The most images to take.
    """
    from kerascnn.data import ImageDataset

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
