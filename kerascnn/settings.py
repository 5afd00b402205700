"""Settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_VARIABLE = "KERASCNN_OFFLINE"
HOME_VARIABLE = "KERASCNN_HOME"
MAX_PIXELS_VARIABLE = "KERASCNN_MAX_IMAGE_PIXELS"
VERBOSE_VARIABLE = "KERASCNN_VERBOSE"
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
# 8192 x 8192: a 48-megapixel phone photo fits; a 20000 x 20000 PNG of a few
# kilobytes, which would take gigabytes once decoded, does not.
DEFAULT_MAX_IMAGE_PIXELS = 8192 * 8192


def offline() -> bool:
    """True when `KERASCNN_OFFLINE` forbids network access (1, true, yes)."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def verbose() -> bool:
    """True when `KERASCNN_VERBOSE` (1, true, yes; `kerascnn --verbose-logs`
    sets it) asks for the logs and progress bars of the libraries kerascnn
    drives (TFDS, TensorFlow), which are otherwise kept quiet."""
    return os.environ.get(VERBOSE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def prefer_onednn() -> None:
    """Asks TensorFlow for its oneDNN CPU kernels unless the user chose.

    TensorFlow turns oneDNN on by itself only on CPUs with AVX-512 VNNI,
    BF16 or AMX; elsewhere its Eigen kernels train these networks 1.2-2.6x
    slower (minivgg_s on 2 AVX2 cores: 577 vs 872 images/s, LeNet-5 3,052
    vs 7,974; benchmarks/training.py). Takes effect only before TensorFlow is
    imported, so the command line calls it first; `TF_ENABLE_ONEDNN_OPTS=0`
    keeps Eigen.
    """
    os.environ.setdefault(ONEDNN_VARIABLE, "1")


def home() -> Path:
    """kerascnn's own folder (the preset cache): `KERASCNN_HOME`, or ~/.kerascnn."""
    configured = os.environ.get(HOME_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".kerascnn"


def max_image_pixels() -> int:
    """The largest image (width x height) kerascnn decodes:
    `KERASCNN_MAX_IMAGE_PIXELS`, or 8192 x 8192."""
    configured = os.environ.get(MAX_PIXELS_VARIABLE, "").strip()
    if not configured:
        return DEFAULT_MAX_IMAGE_PIXELS
    try:
        value = int(configured)
    except ValueError:
        value = 0
    if value < 1:
        from kerascnn.errors import UsageError

        raise UsageError(
            f"{MAX_PIXELS_VARIABLE} must be a positive number of pixels, e.g. "
            f"{DEFAULT_MAX_IMAGE_PIXELS}. Received: {configured!r}"
        )
    return value
