"""Data augmentation as Keras preprocessing layers."""

from __future__ import annotations

import keras

from kerascnn.errors import UsageError

AUGMENTATIONS = ("flip", "crop", "rotation", "translation", "erase")


def build_augmentation(names, image_shape, seed: int | None = None) -> keras.Sequential:
    """Builds the named augmentations, applied in the order listed.

    Args:
        names: Any of "flip" (horizontal), "crop" (pad by 1/8 of the size,
            then crop back at a random place), "rotation" (up to +-18
            degrees), "translation" (up to 10% each way), "erase" (random
            erasing, Zhong et al. 2020: half the images get a rectangle of
            random pixels over 2-40% of their area); a list or a
            comma-separated string.
        image_shape: (height, width, channels) of the images.
        seed: Seed of the random transforms.

    Returns:
        A `keras.Sequential` to call with `training=True` on image batches.

    Example:
    >>> augment = build_augmentation("flip,crop", (32, 32, 3), seed=0)
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise UsageError(
            f"Unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}. "
            f"Received: augment={names!r}"
        )
    height, width, _ = image_shape
    layers = []
    for name in names:
        if name == "flip":
            layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
        elif name == "crop":
            pad = max(1, height // 8), max(1, width // 8)
            layers.append(keras.layers.ZeroPadding2D(pad))
            layers.append(keras.layers.RandomCrop(height, width, seed=seed))
        elif name == "rotation":
            layers.append(keras.layers.RandomRotation(0.05, fill_mode="constant", seed=seed))
        elif name == "translation":
            layers.append(keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed))
        elif name == "erase":
            layers.append(
                keras.layers.RandomErasing(
                    factor=(0.5, 0.5), scale=(0.02, 0.4), value_range=(0, 255), seed=seed
                )
            )
    return keras.Sequential(layers, name="augmentation")
