"""`ImageDataset`: the batched tf.data splits of one image-classification source."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from kerascnn.data.augmentation import build_augmentation
from kerascnn.errors import DataError

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class ImageDataset:
    """Batched, prefetched splits of raw images (float32, 0-255) and int labels.

    Attributes:
        source: Where the data came from (`tfds:mnist`, a folder path).
        class_names: Label names, index = label.
        image_shape: (height, width, channels) of every image.
        splits: `tf.data.Dataset`s by split name ("train", "validation",
            "test"); each yields `(images, labels)` batches.
        sizes: Number of examples of each split.
        batch_size: Examples per batch (the global batch of a distributed run).
        options: The loading options (validation split, augmentation, seed,
            ...), recorded with every run trained on the data.
        skipped_files: Image files that could not be read and were skipped.
    """

    source: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    splits: dict
    sizes: dict
    batch_size: int
    options: dict = field(default_factory=dict)
    skipped_files: tuple[str, ...] = field(default=())

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split(self, name: str) -> tf.data.Dataset:
        """The named split, or a `DataError` listing the ones there are."""
        if name not in self.splits:
            raise DataError(
                f"{self.source} has no '{name}' split; it has: {', '.join(self.splits)}."
            )
        return self.splits[name]

    @property
    def train(self) -> tf.data.Dataset:
        return self.split("train")

    @property
    def validation(self) -> tf.data.Dataset:
        return self.split("validation")

    @property
    def test(self) -> tf.data.Dataset:
        return self.split("test")


def stream_seed(seed: int, first_epoch: int) -> int:
    """The seed of a training stream that starts after `first_epoch` epochs.

    A resumed run rebuilds its data, and with the same seed its shuffles and
    augmentations would replay those of its first epochs, images it has
    already seen in the same order and crops. Epoch 0 keeps `seed`, so an
    uninterrupted run is unchanged; a later epoch mixes itself into the seed.

    Example:
    >>> stream_seed(0, 0)
    0
    """
    if first_epoch == 0:
        return seed
    # SeedSequence hashes the pair, so nearby seeds and epochs give unrelated
    # streams; one 32-bit word, halved to stay a positive int32 for TF ops.
    return int(np.random.SeedSequence([seed, first_epoch]).generate_state(1)[0] >> 1)


def finish_split(
    examples: tf.data.Dataset,
    *,
    training: bool,
    batch_size: int,
    image_shape: tuple[int, int, int],
    augment=None,
    seed: int | None = None,
    cache: bool = True,
) -> tf.data.Dataset:
    """Caches, shuffles, batches, augments and prefetches decoded examples.

    `examples` yields `(uint8 image of image_shape, int label)`. Images stay
    uint8 until batched so that the in-memory cache holds one byte a pixel.
    """
    if cache:
        examples = examples.cache()
    if training:
        # NOTE: sources arrive in random order (TFDS shuffles when preparing,
        # folders are shuffled by file), so a 10k window reshuffles each epoch
        # well while the first batch waits for 10k examples, not all of them.
        examples = examples.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    batches = examples.batch(batch_size, num_parallel_calls=tf.data.AUTOTUNE)
    batches = batches.map(
        lambda images, labels: (tf.cast(images, tf.float32), labels),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if training and augment:
        augmentation = build_augmentation(augment, image_shape, seed=seed)
        batches = batches.map(
            lambda images, labels: (augmentation(images, training=True), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return batches.prefetch(tf.data.AUTOTUNE)
