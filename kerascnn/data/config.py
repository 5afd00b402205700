"""`DataConfig`: how a job loads its images, as plain data.

Each field is declared once (`kerascnn.options.option`): `load_dataset`'s
keyword arguments and every command's data flags are derived from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kerascnn.errors import DataError
from kerascnn.options import option

ON_BAD_IMAGE = ("skip", "error")


@dataclass(frozen=True)
class DataConfig:
    """How to load a data set; see `kerascnn.data.load_dataset`.

    Args:
        batch_size: Examples per batch (the global batch of a distributed run).
        validation_split: Fraction of the training examples held out for
            validation when the source has no validation split.
        augment: Augmentations of the train split, comma-separated: flip,
            crop, rotation, translation, erase.
        classes: Keep only these class names (comma-separated, or a list),
            relabelled 0..n-1 in the order given.
        per_class: Keep the first this-many training images of each class.
        max_examples: Keep at most this many examples of each split.
        on_bad_image: Unreadable images in a folder: "skip" them (counted)
            or "error".
        data_dir: TFDS data directory (where prepared data sets live).
        manual_dir: TFDS manual directory with a data set's original files,
            to prepare it with no network.
        unlabeled: A folder of images with no labels (at any depth), added
            to the train split with the label -1: for distillation, whose
            teacher labels them softly (`kerascnn.zoo.distill`).

    Example:
    >>> load_dataset("my_photos", **DataConfig(batch_size=32, augment="flip").to_dict())
    """

    batch_size: int = option(128, "global batch size")
    validation_split: float = option(
        0.1, "fraction of the training images held out when there is no validation split"
    )
    augment: str | None = option(None, "comma-separated: flip, crop, rotation, translation, erase")
    classes: str | None = option(None, "comma-separated class names to keep (relabelled)")
    per_class: int | None = option(None, "keep this many training images of each class")
    max_examples: int | None = option(None, "use at most this many examples a split")
    on_bad_image: str = option(
        "skip", "unreadable images in a folder: skip them (counted) or stop", choices=ON_BAD_IMAGE
    )
    data_dir: str | None = option(None, "TFDS data directory (prepared data sets)")
    manual_dir: str | None = option(None, "TFDS manual directory (original files, offline)")
    unlabeled: str | None = option(
        None, "a folder of unlabelled images (any depth), which a teacher labels softly"
    )

    def __post_init__(self):
        for name in ("batch_size", "per_class", "max_examples"):
            value = getattr(self, name)
            if value is None and name != "batch_size":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DataError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if not 0 <= self.validation_split < 1:
            raise DataError(
                "`validation_split` must be in [0, 1). "
                f"Received: validation_split={self.validation_split!r}"
            )
        if self.on_bad_image not in ON_BAD_IMAGE:
            raise DataError(
                "`on_bad_image` must be 'skip' or 'error'. "
                f"Received: on_bad_image={self.on_bad_image!r}"
            )

    @classmethod
    def of(cls, value) -> DataConfig:
        """A `DataConfig` from itself, its dict (or some of its fields), or None."""
        return value if isinstance(value, cls) else cls(**(value or {}))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> DataConfig:
        return dataclasses.replace(self, **changes)
