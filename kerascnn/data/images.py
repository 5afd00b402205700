"""Per-image conversions: channels and size, in TensorFlow ops on uint8."""

from __future__ import annotations

import tensorflow as tf

from kerascnn.data.dataset import DataError

CONVERTIBLE_CHANNELS = (1, 2, 3, 4)  # gray, gray+alpha, RGB, RGBA


def check_channels_convertible(channels: int | None, source: str) -> None:
    """Raises a `DataError` when images of `channels` cannot become 1 or 3."""
    if channels is not None and channels not in CONVERTIBLE_CHANNELS:
        raise DataError(
            f"{source}: its images have {channels} channels, which cannot be converted "
            "to grayscale or RGB (only 1-4 channels can: gray, RGB and their alpha "
            "variants); convert the images first."
        )


def to_channels(image: tf.Tensor, target: int) -> tf.Tensor:
    """Converts a uint8 image with 1-4 channels to `target` (1 or 3) channels.

    Alpha is dropped, gray becomes RGB by repetition and RGB becomes gray by
    the ITU-R BT.601 luma weights (as `tf.image.rgb_to_grayscale`).
    """
    channels = tf.shape(image)[-1]
    without_alpha = tf.cond(
        tf.logical_or(tf.equal(channels, 2), tf.equal(channels, 4)),
        lambda: image[..., :-1],
        lambda: image,
    )
    is_gray = tf.equal(tf.shape(without_alpha)[-1], 1)
    if target == 3:
        converted = tf.cond(
            is_gray, lambda: tf.image.grayscale_to_rgb(without_alpha), lambda: without_alpha
        )
    else:
        converted = tf.cond(
            is_gray, lambda: without_alpha, lambda: tf.image.rgb_to_grayscale(without_alpha)
        )
    return tf.ensure_shape(converted, [None, None, target])


def to_size(image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Resizes a uint8 image (bilinear) unless it already has the size."""
    shape = tf.shape(image)
    resized = tf.cond(
        tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width)),
        lambda: image,
        lambda: tf.cast(
            tf.clip_by_value(tf.round(tf.image.resize(image, (height, width))), 0, 255),
            tf.uint8,
        ),
    )
    return tf.ensure_shape(resized, [height, width, image.shape[-1]])


def to_image_shape(image: tf.Tensor, image_shape: tuple[int, int, int]) -> tf.Tensor:
    """Converts a decoded uint8 image to `image_shape`: channels, then size."""
    height, width, channels = image_shape
    return to_size(to_channels(image, channels), height, width)
