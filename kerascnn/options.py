"""Settings declared once: a job's dataclass fields carry their help and flag.

Ultralytics keeps every setting of every job in one table that both the
`yolo` command and `model.train(**settings)` read, so the two cannot drift.
kerascnn's table is the dataclass of each job (`TrainConfig`, `DataConfig`,
`FinetuneConfig`): each field is declared with `option(...)`, and the
command line's flags (their defaults, choices and help), the fields a
fine-tuning recipe's stage may set, and a model card's reproduce command
are all derived from those fields. Adding a setting is one edit.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    choices: tuple | None = None,
    stage: bool = False,
) -> Any:
    """A dataclass field that is a user-facing setting.

    Args:
        default: Its default, the same in Python and on the command line.
        help: One line for `--help` (and the field's documentation).
        flag: Its command-line flag; None means `--` and the field's name
            with dashes (`warmup_epochs` -> `--warmup-epochs`).
        choices: The values it accepts, where it is one of a few.
        stage: Whether a fine-tuning recipe's stage may set it.

    Example:
    >>> epochs: int = option(10, "passes over the training data", stage=True)
    """
    metadata = {"help": help, "flag": flag, "choices": choices, "stage": stage}
    return dataclasses.field(default=default, metadata={"option": metadata})


def options(cls) -> list[dataclasses.Field]:
    """The fields of a dataclass declared with `option`, in order."""
    return [f for f in dataclasses.fields(cls) if "option" in f.metadata]


def flag(field: dataclasses.Field) -> str:
    """The command-line flag of an `option` field."""
    return field.metadata["option"]["flag"] or "--" + field.name.replace("_", "-")


def stage_fields(cls) -> tuple[str, ...]:
    """The fields a fine-tuning recipe's stage may set."""
    return tuple(f.name for f in options(cls) if f.metadata["option"]["stage"])


def value_type(field: dataclasses.Field) -> type:
    """The Python type of a setting's values: bool, int, float or str.

    NOTE: the job modules use postponed annotations, so `field.type` is the
    annotation's text, e.g. "int | None".
    """
    text = field.type if isinstance(field.type, str) else field.type.__name__
    name = text.replace(" | None", "").replace("None | ", "").strip()
    return {"bool": bool, "int": int, "float": float}.get(name, str)


def command_line(config, base=None) -> list[str]:
    """The flags that give `config` its values: those that differ from the
    defaults (or from `base`, a config of the same kind, such as a recipe's),
    in declaration order (a reproduce command's words).

    Example:
    >>> command_line(TrainConfig(epochs=30, learning_rate=0.01))
    ['--epochs', '30', '--lr', '0.01']
    """
    words = []
    for field in options(type(config)):
        value = getattr(config, field.name)
        if value == (field.default if base is None else getattr(base, field.name)):
            continue
        if value_type(field) is bool:
            words += [flag(field)] if value else []
        else:
            words += [flag(field), str(value)]
    return words
