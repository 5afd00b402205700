"""`load_dataset`: one entry point for TFDS names and image folders."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from kerascnn.data.config import DataConfig
from kerascnn.data.dataset import DataError, ImageDataset, finish_split, stream_seed
from kerascnn.data.images import check_channels_convertible, to_image_shape
from kerascnn.data.subsets import class_ids, select_examples, select_files

TFDS_PREFIX = "tfds:"
# The label of an image nobody labelled (`DataConfig.unlabeled`).
UNLABELED = -1


def _check_image_shape(image_shape) -> None:
    if image_shape is not None and (
        len(image_shape) != 3
        or not all(isinstance(d, int) and d > 0 for d in image_shape)
        or image_shape[-1] not in (1, 3)
    ):
        raise DataError(
            "`image_shape` must be (height, width, channels) of positive integers, with "
            f"1 or 3 channels. Received: image_shape={image_shape!r}"
        )


def _with_unlabeled(train, folder, image_shape, seed, on_bad_image):
    """The train examples followed by every image under `folder` (any depth,
    class folders or not) with the label `UNLABELED`; and their count."""
    import random

    from kerascnn.data.folder_source import examples_from_files, find_unreadable, image_files

    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"--unlabeled {folder}: no such folder; give a folder of images.")
    files = image_files(root)
    unreadable = set(find_unreadable(files))
    if unreadable and on_bad_image == "error":
        raise DataError(
            f"{len(unreadable)} image file(s) under '{root}' cannot be read: "
            f"{', '.join(sorted(unreadable)[:5])}. Remove them, or skip them with "
            "--on-bad-image skip."
        )
    files = [f for f in files if f not in unreadable]
    if not files:
        raise DataError(f"--unlabeled {folder}: no readable images (PNG, JPEG, BMP, GIF) in it.")
    # Shuffled once, as labelled folders are, so every epoch's window mixes them.
    random.Random(seed).shuffle(files)
    extra = examples_from_files(files, [UNLABELED] * len(files), image_shape)
    return train.concatenate(extra), len(files)


def _without_alpha(shape) -> tuple[int, int, int]:
    height, width, channels = shape
    return height, width, {2: 1, 4: 3}.get(channels, channels)


def load_dataset(
    source: str,
    *,
    image_shape: tuple[int, int, int] | None = None,
    seed: int = 0,
    first_epoch: int = 0,
    cache: bool = True,
    **options,
) -> ImageDataset:
    """Loads an image-classification data set as batched tf.data splits.

    Args:
        source: `"tfds:NAME"` for a TensorFlow Datasets data set (for example
            `tfds:mnist`, `tfds:fashion_mnist`), or the path of a folder with
            one sub-folder per class (PNG, JPEG, BMP, GIF), optionally split
            into `train/`, `validation/` (or `val/`) and `test/` folders.
        image_shape: (height, width, channels) to resize and convert every
            image to, usually the model's input; None keeps the data set's own.
        seed: Seed of the shuffling, the validation cut and augmentation.
        first_epoch: Training epochs already completed. A resumed run passes
            them, so its shuffles and augmentations are new draws instead of
            a replay of its first epochs'; the validation cut stays `seed`'s.
        cache: Keep decoded images in memory after the first pass.
        **options: The fields of `DataConfig` (`batch_size`, `augment`,
            `classes`, `per_class`, `validation_split`, `max_examples`,
            `on_bad_image`, `data_dir`, `manual_dir`), declared there once.

    Returns:
        An `ImageDataset`: `train`, `validation`, `test` (where the source has
        them) yield `(float32 images 0-255, int labels)` batches.

    Raises:
        DataError: a missing or empty folder, a single class, unreadable
            images with `on_bad_image="error"`, an unknown TFDS name, images
            whose channels cannot be converted; each says what to do.

    Example:
    >>> data = load_dataset("tfds:mnist", manual_dir="mnist_files")  # the 4 original .gz
    >>> images, labels = next(iter(data.train))
    """
    config = DataConfig(**options)
    _check_image_shape(image_shape)
    classes = config.classes
    if not isinstance(first_epoch, int) or first_epoch < 0:
        raise DataError(
            "`first_epoch` must be the number of completed epochs, 0 or more. "
            f"Received: first_epoch={first_epoch!r}"
        )
    if isinstance(classes, str):
        classes = [c.strip() for c in classes.split(",") if c.strip()]
    if source.startswith(TFDS_PREFIX):
        from kerascnn.data.tfds_source import load_tfds_splits

        name = source[len(TFDS_PREFIX) :]
        raw, sizes, class_names, native_shape = load_tfds_splits(
            name,
            data_dir=config.data_dir,
            manual_dir=config.manual_dir,
            validation_split=config.validation_split,
            max_examples=config.max_examples,
        )
        check_channels_convertible(native_shape[-1], source)
        if image_shape is None:
            if None in native_shape:
                raise DataError(
                    f"{source} has images of varying size; pass image_shape=(height, width, "
                    "channels) to resize them."
                )
            image_shape = _without_alpha(native_shape)
        examples = {
            split: ds.map(
                lambda image, label: (to_image_shape(image, image_shape), tf.cast(label, tf.int32)),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            for split, ds in raw.items()
        }
        if classes is not None or config.per_class is not None:
            ids = class_ids(class_names, classes) if classes else list(range(len(class_names)))
            for split in examples:
                examples[split], sizes[split] = select_examples(
                    examples[split],
                    ids,
                    len(class_names),
                    config.per_class if split == "train" else None,
                )
            class_names = [class_names[i] for i in ids]
        skipped = ()
    else:
        from kerascnn.data.folder_source import (
            examples_from_files,
            first_image_shape,
            load_folder_splits,
        )

        root = Path(source)
        splits, class_names, skipped = load_folder_splits(
            root,
            validation_split=config.validation_split,
            seed=seed,
            on_bad_image=config.on_bad_image,
            max_examples=config.max_examples,
        )
        if classes is not None or config.per_class is not None:
            ids = class_ids(class_names, classes) if classes else list(range(len(class_names)))
            splits = {
                split: select_files(
                    files, labels, ids, config.per_class if split == "train" else None
                )
                for split, (files, labels) in splits.items()
            }
            class_names = [class_names[i] for i in ids]
        if image_shape is None:
            image_shape = _without_alpha(first_image_shape(next(iter(splits.values()))[0]))
        examples = {
            split: examples_from_files(files, labels, image_shape)
            for split, (files, labels) in splits.items()
        }
        sizes = {split: len(files) for split, (files, _) in splits.items()}

    image_shape = tuple(image_shape)
    if config.unlabeled is not None:
        examples["train"], sizes["unlabeled"] = _with_unlabeled(
            examples["train"], config.unlabeled, image_shape, seed, config.on_bad_image
        )
    return ImageDataset(
        source=source,
        class_names=tuple(class_names),
        image_shape=image_shape,
        splits={
            split: finish_split(
                ds,
                training=split == "train",
                batch_size=config.batch_size,
                image_shape=image_shape,
                augment=config.augment,
                seed=stream_seed(seed, first_epoch),
                cache=cache,
            )
            for split, ds in examples.items()
        },
        sizes=sizes,
        batch_size=config.batch_size,
        options={
            "validation_split": config.validation_split,
            "augment": config.augment,
            "seed": seed,
            "max_examples": config.max_examples,
            "classes": classes,
            "per_class": config.per_class,
            "on_bad_image": config.on_bad_image,
            **({"unlabeled": str(config.unlabeled)} if config.unlabeled is not None else {}),
        },
        skipped_files=skipped,
    )
