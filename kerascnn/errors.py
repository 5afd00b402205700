"""The errors kerascnn raises for what a user can fix.

The command line prints any `KerasCNNError` as one line and exits with
status 2; anything else that escapes is a bug in kerascnn and is reported
as one, with its traceback.
"""

from __future__ import annotations


class KerasCNNError(Exception):
    """A problem the user can fix; the message says what and how."""


class TrainingDiverged(KerasCNNError, RuntimeError):
    """The loss became NaN or infinite; the run stopped, its last good epoch kept."""


class UsageError(KerasCNNError, ValueError):
    """A value kerascnn cannot work with: an argument, a field of a spec or a
    recipe, the content of a file.

    Example:
    >>> raise UsageError("`top` must be a positive integer. Received: top=0")
    """


class DataError(UsageError):
    """A data source that cannot be loaded, with what to do about it."""


class OutputExistsError(KerasCNNError, FileExistsError):
    """An output folder or file already holds something; nothing is replaced
    that kerascnn did not write."""


class MissingInputError(KerasCNNError, FileNotFoundError):
    """A file or folder the user named (a spec, a run to resume) is not there."""
