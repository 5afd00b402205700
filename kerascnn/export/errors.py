"""The one error the exporters raise."""

from __future__ import annotations

from kerascnn.errors import KerasCNNError


class ExportError(KerasCNNError, RuntimeError):
    """An export failed: a missing dependency, a converter failure, an
    unsupported layer or dtype, or an artifact that does not match Keras.

    The message says what failed and what to do about it.
    """
