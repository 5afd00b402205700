"""Image folders: one sub-folder per class, optionally under train/validation/test."""

from __future__ import annotations

import os
import random
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from kerascnn.data.dataset import DataError
from kerascnn.data.images import to_image_shape

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_FOLDERS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_files(folder: Path) -> list[str]:
    files = []
    for directory, _, names in os.walk(folder, followlinks=True):
        files.extend(
            os.path.join(directory, name)
            for name in names
            if name.lower().endswith(IMAGE_EXTENSIONS)
        )
    return sorted(files)


def scan_classes(root: Path, class_names: list[str] | None = None):
    """Lists `(files, labels, class_names)` of a folder of class folders.

    Raises:
        DataError: the folder is missing, holds no class folders or images,
            or fewer than two classes.
    """
    if not root.is_dir():
        raise DataError(f"No folder at '{root}'; give a folder with one sub-folder per class.")
    folders = _class_folders(root)
    if class_names is None:
        class_names = [f.name for f in folders]
    else:
        missing = sorted(set(class_names) - {f.name for f in folders})
        if missing:
            raise DataError(f"'{root}' has no folder for the classes {missing}.")
    files, labels, empty = [], [], []
    for label, name in enumerate(class_names):
        found = _image_files(root / name)
        if not found:
            empty.append(name)
        files.extend(found)
        labels.extend([label] * len(found))
    if not files:
        raise DataError(
            f"'{root}' holds no images: put them in one sub-folder per class "
            f"({', '.join(e.lstrip('.') for e in IMAGE_EXTENSIONS)})."
        )
    if len(class_names) < 2:
        raise DataError(
            f"'{root}' has only one class ({class_names[0]!r}); a classifier needs at "
            "least two class folders."
        )
    if empty:
        raise DataError(f"'{root}': the class folders {empty} hold no images; fill or remove them.")
    return files, labels, class_names


def _decode(path):
    contents = tf.io.read_file(path)
    # NOTE: TensorFlow's default JPEG decoding (fast integer DCT) differs from
    # libjpeg's accurate mode, which Pillow and most deployment code use, by
    # up to 5 levels a pixel; training on it would skew against serving.
    image = tf.cond(
        tf.io.is_jpeg(contents),
        lambda: tf.io.decode_jpeg(contents, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(contents, expand_animations=False),
    )
    return tf.ensure_shape(image, [None, None, None])


def read_image(path: str | Path, image_shape: tuple[int, int, int]) -> np.ndarray:
    """One image file as a float32 (H, W, C) array of raw 0-255 pixels,
    decoded and converted exactly as training data from folders is.

    Example:
    >>> read_image("digit.png", (28, 28, 1)).shape  # (28, 28, 1)
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"No image file at '{path}'.")
    try:
        image = to_image_shape(_decode(str(path)), tuple(image_shape))
    except tf.errors.OpError as error:
        raise DataError(f"'{path}' is not an image this loader reads: {error.message}") from None
    return tf.cast(image, tf.float32).numpy()


def find_unreadable(files: list[str]) -> list[str]:
    """Decodes every file once; returns those that cannot be read or decoded."""
    indexed = tf.data.Dataset.from_tensor_slices((files, tf.range(len(files))))
    decoded = indexed.map(
        lambda path, index: (index, tf.shape(_decode(path))[0]),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).ignore_errors()
    readable = np.zeros(len(files), dtype=bool)
    for indices, _ in decoded.batch(4096):
        readable[indices.numpy()] = True
    return [f for f, ok in zip(files, readable) if not ok]


def examples_from_files(files, labels, image_shape) -> tf.data.Dataset:
    """Decoded `(uint8 image, label)` examples, converted to `image_shape`."""

    def load(path, label):
        return to_image_shape(_decode(path), image_shape), label

    dataset = tf.data.Dataset.from_tensor_slices((files, np.asarray(labels, np.int32)))
    return dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)


def load_folder_splits(
    root: Path,
    *,
    validation_split: float,
    seed: int,
    on_bad_image: str,
    max_examples: int | None,
):
    """Returns `{split: (files, labels)}`, class names and the skipped files."""
    named = {
        split: next((root / n for n in names if (root / n).is_dir()), None)
        for split, names in SPLIT_FOLDERS.items()
    }
    if named["train"] is not None:
        files, labels, class_names = scan_classes(named["train"])
        splits = {"train": (files, labels)}
        for split in ("validation", "test"):
            if named[split] is not None:
                splits[split] = scan_classes(named[split], class_names)[:2]
    else:
        files, labels, class_names = scan_classes(root)
        splits = {"train": (files, labels)}
    rng = random.Random(seed)
    # Files are listed class by class; shuffled once here, every split
    # streams in random order (the pipeline's shuffle window relies on it).
    for split, (files, labels) in splits.items():
        order = list(range(len(files)))
        rng.shuffle(order)
        splits[split] = ([files[i] for i in order], [labels[i] for i in order])
    if "validation" not in splits and validation_split:
        files, labels = splits["train"]
        cut = round(len(files) * (1 - validation_split))
        splits["train"] = (files[:cut], labels[:cut])
        splits["validation"] = (files[cut:], labels[cut:])

    if max_examples is not None:
        splits = {
            k: (files[:max_examples], labels[:max_examples])
            for k, (files, labels) in splits.items()
        }

    all_files = [f for files, _ in splits.values() for f in files]
    unreadable = set(find_unreadable(all_files))
    if unreadable:
        listed = ", ".join(sorted(unreadable)[:5]) + (" ..." if len(unreadable) > 5 else "")
        if on_bad_image == "error":
            raise DataError(
                f"{len(unreadable)} image file(s) under '{root}' cannot be read or decoded: "
                f"{listed}. Remove or replace them, or pass on_bad_image='skip' to leave "
                "them out."
            )
        warnings.warn(
            f"Skipped {len(unreadable)} unreadable image file(s) under '{root}': {listed}",
            stacklevel=3,
        )
        splits = {
            split: (
                [f for f in files if f not in unreadable],
                [y for f, y in zip(files, labels) if f not in unreadable],
            )
            for split, (files, labels) in splits.items()
        }
    return splits, class_names, tuple(sorted(unreadable))


def first_image_shape(files: list[str]) -> tuple[int, int, int]:
    """Shape of the first image, for folders whose size is not given."""
    image = _decode(files[0])
    return tuple(int(d) for d in image.shape)
