"""TensorFlow Datasets image-classification data sets, prepared offline or online."""

from __future__ import annotations

import contextlib
import difflib
import io
import sys
from pathlib import Path

import tensorflow as tf

from kerascnn import settings
from kerascnn.data.dataset import DataError
from kerascnn.settings import OFFLINE_VARIABLE, offline


@contextlib.contextmanager
def _quiet_tfds():
    """TFDS' progress bars, prints and absl warnings off, unless
    `settings.verbose()`: preparing a data set is one line of kerascnn's."""
    if settings.verbose():
        yield
        return
    import tensorflow_datasets as tfds
    from absl import logging as absl_logging

    verbosity = absl_logging.get_verbosity()
    tfds.disable_progress_bar()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        tfds.enable_progress_bar()
        absl_logging.set_verbosity(verbosity)


def _builder(name: str, data_dir: str | None):
    import tensorflow_datasets as tfds

    try:
        with _quiet_tfds():
            return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        names = tfds.list_builders(with_community_datasets=False)
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" Did you mean: {', '.join('tfds:' + c for c in close)}?" if close else ""
        raise DataError(f"TFDS has no data set named '{name}'.{hint}") from None


def _prepare(builder, data_dir: str | None, manual_dir: str | None) -> None:
    """Prepares the data set unless it is; fails fast when that cannot work offline."""
    import tensorflow_datasets as tfds

    if builder.is_prepared():
        return
    where = f"tfds:{builder.name} is not prepared in '{data_dir or builder.data_dir_root}'"
    files = sorted({info.filename for info in (builder.url_infos or {}).values() if info.filename})
    if manual_dir is not None:
        missing = [f for f in files if not (Path(manual_dir) / f).is_file()]
        if missing:
            raise DataError(
                f"{where}, and the manual directory '{manual_dir}' lacks {', '.join(missing)}. "
                "Put the data set's original files there under those names."
            )
    elif offline():
        raise DataError(
            f"{where}, and kerascnn is offline ({OFFLINE_VARIABLE} is set). Pass manual_dir "
            "(--manual-dir), a folder holding its original files "
            f"({', '.join(files) or 'see the TFDS catalog'}), or the data_dir (--data-dir) "
            "of a prepared copy."
        )
    config = tfds.download.DownloadConfig(manual_dir=manual_dir)
    # NOTE: TFDS extracts manual files to <download_dir>/extracted/GZIP.<file
    # name> and reuses what it finds there, so with a shared download folder
    # Fashion-MNIST silently gets MNIST's pixels (same file names). Each data
    # set gets its own folder.
    download_dir = Path(data_dir or builder.data_dir_root) / "downloads" / builder.name
    print(f"preparing tfds:{builder.name} (once) ...", file=sys.stderr, flush=True)
    try:
        builder.download_and_prepare(download_dir=str(download_dir), download_config=config)
    except Exception as error:  # TFDS raises many kinds; all mean "not prepared"
        raise DataError(
            f"{where} and preparing it failed: {error}. Without a network, pass manual_dir "
            "(--manual-dir), a folder with the data set's original files."
        ) from error


def _image_and_label_keys(builder) -> tuple[str, str]:
    import tensorflow_datasets as tfds

    features = builder.info.features
    supervised = builder.info.supervised_keys
    if supervised and len(supervised) == 2 and all(isinstance(k, str) for k in supervised):
        image_key, label_key = supervised
    else:
        image_key = next(
            (k for k, f in features.items() if isinstance(f, tfds.features.Image)), None
        )
        label_key = next(
            (k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)), None
        )
    if (
        image_key is None
        or label_key is None
        or not isinstance(features[image_key], tfds.features.Image)
        or not isinstance(features[label_key], tfds.features.ClassLabel)
    ):
        raise DataError(
            f"tfds:{builder.name} is not an image-classification data set (it needs an "
            f"Image feature and a ClassLabel feature; it has: {', '.join(features)})."
        )
    return image_key, label_key


def load_tfds_splits(
    name: str,
    *,
    data_dir: str | None,
    manual_dir: str | None,
    validation_split: float,
    max_examples: int | None,
):
    """Returns `{split: examples}`, sizes, class names and the native image shape.

    Each `examples` yields `(uint8 image, label)` as TFDS decodes it; the
    caller converts channels and size. The train split is cut into train
    and validation by example count when TFDS has no validation split.
    """
    builder = _builder(name, data_dir)
    image_key, label_key = _image_and_label_keys(builder)
    with _quiet_tfds():
        _prepare(builder, data_dir, manual_dir)
    available = {k: v.num_examples for k, v in builder.info.splits.items()}
    if "train" not in available:
        raise DataError(f"tfds:{name} has no train split (it has {', '.join(available)}).")
    n_train = available["train"]
    # Each split as (TFDS split, first example, end), sliced by example count.
    ranges = {"train": ("train", 0, n_train)}
    if "validation" in available:
        ranges["validation"] = ("validation", 0, available["validation"])
    elif validation_split:
        cut = round(n_train * (1 - validation_split))
        ranges = {"train": ("train", 0, cut), "validation": ("train", cut, n_train)}
    if "test" in available:
        ranges["test"] = ("test", 0, available["test"])
    if max_examples is not None:
        ranges = {k: (b, lo, min(hi, lo + max_examples)) for k, (b, lo, hi) in ranges.items()}

    def pair(example):
        return example[image_key], example[label_key]

    splits = {
        split: builder.as_dataset(split=f"{base}[{lo}:{hi}]", shuffle_files=False).map(
            pair, num_parallel_calls=tf.data.AUTOTUNE
        )
        for split, (base, lo, hi) in ranges.items()
    }
    sizes = {split: hi - lo for split, (_, lo, hi) in ranges.items()}
    class_names = tuple(builder.info.features[label_key].names)
    image_shape = builder.info.features[image_key].shape
    return splits, sizes, class_names, image_shape
