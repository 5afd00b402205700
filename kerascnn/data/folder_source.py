"""Image folders: one sub-folder per class, optionally under train/validation/test."""

from __future__ import annotations

import os
import random
import re
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from kerascnn import settings
from kerascnn.data.dataset import DataError
from kerascnn.data.images import to_image_shape

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_FOLDERS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def image_files(folder: Path) -> list[str]:
    """Every image file under `folder`, at any depth, sorted."""
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
        found = image_files(root / name)
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


def _unsigned(contents, start: int, length: int, big_endian: bool) -> tf.Tensor:
    """An unsigned integer read from the file's bytes, as int64."""
    digits = tf.cast(
        tf.io.decode_raw(tf.strings.substr(contents, start, length), tf.uint8), tf.int64
    )
    weights = tf.constant([256**k for k in range(length)], tf.int64)
    return tf.reduce_sum(digits * (weights[::-1] if big_endian else weights))


def header_pixels(contents) -> tf.Tensor:
    """width x height read from a JPEG, PNG, GIF or BMP header, before any
    decoding; 0 for a file too short or of another kind (decoding judges it)."""
    head = tf.strings.substr(contents, 0, 8)
    is_long_enough = tf.strings.length(contents) >= 26

    def png():
        return _unsigned(contents, 16, 4, True) * _unsigned(contents, 20, 4, True)

    def gif():
        return _unsigned(contents, 6, 2, False) * _unsigned(contents, 8, 2, False)

    def bmp():
        height = _unsigned(contents, 22, 4, False)
        height = tf.where(height >= 2**31, 2**32 - height, height)  # top-down BMPs
        return _unsigned(contents, 18, 4, False) * height

    def jpeg():
        shape = tf.cast(tf.io.extract_jpeg_shape(contents), tf.int64)
        return shape[0] * shape[1]

    return tf.case(
        [
            (tf.io.is_jpeg(contents), jpeg),
            (tf.logical_and(is_long_enough, tf.equal(head, b"\x89PNG\r\n\x1a\n")), png),
            (
                tf.logical_and(is_long_enough, tf.strings.substr(head, 0, 3) == b"GIF"),
                gif,
            ),
            (tf.logical_and(is_long_enough, tf.strings.substr(head, 0, 2) == b"BM"), bmp),
        ],
        default=lambda: tf.constant(0, tf.int64),
    )


def _decode(path, max_pixels: int):
    contents = tf.io.read_file(path)
    too_large = tf.debugging.assert_less_equal(
        header_pixels(contents),
        tf.constant(max_pixels, tf.int64),
        message=f"IMAGE_TOO_LARGE: more than {max_pixels:,} pixels",
    )
    with tf.control_dependencies([too_large]):
        # NOTE: TensorFlow's default JPEG decoding (fast integer DCT) differs
        # from libjpeg's accurate mode, which Pillow and most deployment code
        # use, by up to 5 levels a pixel; training on it would skew against serving.
        image = tf.cond(
            tf.io.is_jpeg(contents),
            lambda: tf.io.decode_jpeg(contents, dct_method="INTEGER_ACCURATE"),
            lambda: tf.io.decode_image(contents, expand_animations=False),
        )
    return tf.ensure_shape(image, [None, None, None])


def _too_large_hint(max_pixels: int) -> str:
    return (
        f"larger than kerascnn's cap of {max_pixels:,} pixels (width x height), which keeps "
        f"a small file from taking gigabytes once decoded; resize it, or raise the cap with "
        f"{settings.MAX_PIXELS_VARIABLE}=N"
    )


def read_image(path: str | Path, image_shape: tuple[int, int, int]) -> np.ndarray:
    """One image file as a float32 (H, W, C) array of raw 0-255 pixels,
    decoded and converted exactly as training data from folders is.

    Example:
    >>> read_image("digit.png", (28, 28, 1)).shape  # (28, 28, 1)
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"No image file at '{path}'.")
    max_pixels = settings.max_image_pixels()
    try:
        image = to_image_shape(_decode(str(path), max_pixels), tuple(image_shape))
    except tf.errors.OpError as error:
        if "IMAGE_TOO_LARGE" in error.message:
            raise DataError(f"'{path}' is {_too_large_hint(max_pixels)}.") from None
        # TensorFlow wraps the reason in the op's name: keep the reason.
        reason = re.sub(r"^\{\{function_node [^}]*\}\}\s*|\s*\[Op:\w+\].*$", "", error.message)
        raise DataError(f"'{path}' is not an image this loader reads: {reason}") from None
    return tf.cast(image, tf.float32).numpy()


def find_unreadable(files: list[str]) -> list[str]:
    """Decodes every file once; returns those that cannot be read or decoded,
    or are larger than `settings.max_image_pixels()`."""
    max_pixels = settings.max_image_pixels()
    indexed = tf.data.Dataset.from_tensor_slices((files, tf.range(len(files))))
    decoded = indexed.map(
        lambda path, index: (index, tf.shape(_decode(path, max_pixels))[0]),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).ignore_errors()
    readable = np.zeros(len(files), dtype=bool)
    for indices, _ in decoded.batch(4096):
        readable[indices.numpy()] = True
    return [f for f, ok in zip(files, readable) if not ok]


def examples_from_files(files, labels, image_shape) -> tf.data.Dataset:
    """Decoded `(uint8 image, label)` examples, converted to `image_shape`."""

    max_pixels = settings.max_image_pixels()

    def load(path, label):
        return to_image_shape(_decode(path, max_pixels), image_shape), label

    dataset = tf.data.Dataset.from_tensor_slices((files, np.asarray(labels, np.int32)))
    return dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)


def split_folders(root: Path) -> dict[str, Path]:
    """The split folders under `root`, by split name, in the order train,
    validation, test (empty for a folder of class folders alone)."""
    named = {
        split: next((root / n for n in names if (root / n).is_dir()), None)
        for split, names in SPLIT_FOLDERS.items()
    }
    return {split: folder for split, folder in named.items() if folder is not None}


def load_folder_splits(
    root: Path,
    *,
    validation_split: float,
    seed: int,
    on_bad_image: str,
    max_examples: int | None,
):
    """Returns `{split: (files, labels)}`, class names and the skipped files.

    A folder with split folders (`train/`, `validation/` or `val/`, `test/`)
    has those splits, whichever of them it has (a held-out folder may hold
    only `test/`); the first one names the classes. A folder of class
    folders alone is one "train" split.
    """
    named = split_folders(root)
    if named:
        first, *others = named
        files, labels, class_names = scan_classes(named[first])
        splits = {first: (files, labels)}
        for split in others:
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
    if "train" in splits and "validation" not in splits and validation_split:
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
                f"{len(unreadable)} image file(s) under '{root}' cannot be read or decoded, or "
                f"have more than {settings.max_image_pixels():,} pixels: {listed}. Remove or "
                "replace them, or leave them out with --on-bad-image skip "
                "(on_bad_image='skip')."
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
    image = _decode(files[0], settings.max_image_pixels())
    return tuple(int(d) for d in image.shape)
