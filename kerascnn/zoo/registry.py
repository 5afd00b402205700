"""The registry of model names: families of specs, and plugins' models.

A model is a function returning a `ConvNetSpec` for an input shape and a
class count; `register_model` files it under its name. Other packages add
models through the `kerascnn.zoo` entry-point group: each entry point names a
module (or object) whose import registers them, and the registry imports
every one the first time it is asked for a name.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

from kerascnn.errors import UsageError
from kerascnn.spec import ConvNetSpec, SpecError

ENTRY_POINT_GROUP = "kerascnn.zoo"
logger = logging.getLogger("kerascnn.zoo")


class ZooError(UsageError):
    """A model or preset name, argument or file the zoo cannot use."""


@dataclass(frozen=True)
class ModelEntry:
    """One registered model.

    Attributes:
        name: `family_variant`, e.g. "minivgg_m".
        family: e.g. "minivgg".
        reference: One line: where the architecture comes from.
        make_spec: `make_spec(input_shape, num_classes, **overrides)` returns
            the `ConvNetSpec`.
        default_input_shape: (height, width, channels) it is designed for.
        default_num_classes: Classes of its default head.
        options: Names of the keyword overrides `make_spec` accepts.
    """

    name: str
    family: str
    reference: str
    make_spec: Callable[..., ConvNetSpec]
    default_input_shape: tuple
    default_num_classes: int
    options: tuple

    def spec(self, input_shape=None, num_classes=None, **overrides) -> ConvNetSpec:
        """The spec for an input shape and class count (defaults: the entry's)."""
        unknown = sorted(set(overrides) - set(self.options))
        if unknown:
            valid = ", ".join(self.options) or "none"
            raise ZooError(
                f"{self.name} has no option {', '.join(map(repr, unknown))}. "
                f"Its options: {valid}; all models also take num_classes and input_shape."
            )
        shape = input_shape_of(input_shape or self.default_input_shape, self.name)
        classes = self.default_num_classes if num_classes is None else num_classes
        if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
            raise ZooError(f"num_classes must be a positive integer. Received: {classes!r}")
        try:
            return self.make_spec(shape, classes, **overrides)
        except SpecError as error:
            reason = str(error).rstrip(".")
            raise ZooError(
                f"{self.name} cannot take input_shape={shape}: {reason}. It needs inputs of "
                f"at least {'x'.join(map(str, self.min_input_size()))} pixels."
            ) from None

    def min_input_size(self) -> tuple[int, int]:
        """The smallest (height, width) the network accepts (square search)."""
        channels = self.default_input_shape[2]
        for size in range(1, 1025):
            try:
                self.make_spec((size, size, channels), self.default_num_classes)
            except SpecError:
                continue
            return (size, size)
        raise ZooError(f"{self.name} accepts no input up to 1024x1024.")


def input_shape_of(shape, name: str) -> tuple[int, int, int]:
    """`shape` as (height, width, channels), or a `ZooError` naming `name`."""
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) != 3
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
    ):
        raise ZooError(
            f"input_shape must be (height, width, channels) of positive integers, channels "
            f"last, e.g. (32, 32, 3). Received for {name}: input_shape={shape!r}"
        )
    return tuple(shape)


_MODELS: dict[str, ModelEntry] = {}
_plugins_loaded = False


def register_model(
    fn: Callable | None = None,
    *,
    family: str,
    reference: str,
    name: str | None = None,
    default_input_shape=(32, 32, 3),
    default_num_classes: int = 10,
):
    """Registers a spec function under a name (by default its own).

    The function takes `(input_shape, num_classes, **options)` and returns a
    `ConvNetSpec`; `create_model(name)` builds it.

    Args:
        fn: The spec function (when used as `@register_model(...)` this is
            filled in).
        family: The family, the name's prefix (e.g. "lenet5").
        reference: One line saying where the architecture comes from.
        name: The registered name; defaults to the function's name. It must
            be `family` or start with `family_`.
        default_input_shape: (height, width, channels) of the default build.
        default_num_classes: Classes of the default head.

    Raises:
        ZooError: the name is taken, or is not `family_variant`.

    Example:
    >>> @register_model(family="tiny", reference="A two-block example.")
    ... def tiny_a(input_shape, num_classes):
    ...     return ConvNetSpec(name="tiny_a", input=dict(zip(("height", "width", "channels"),
    ...         input_shape)), blocks=[{"filters": 8}, {"filters": 16}],
    ...         head={"num_classes": num_classes})
    """

    def register(fn):
        model_name = name or fn.__name__
        if not model_name.isidentifier() or not model_name.islower():
            raise ZooError(
                f"Model names are lowercase identifiers (a '.' starts a preset tag). "
                f"Received: {model_name!r}"
            )
        if model_name != family and not model_name.startswith(f"{family}_"):
            raise ZooError(
                f"A model name is family or family_variant; '{model_name}' does not start "
                f"with its family '{family}'."
            )
        if model_name in _MODELS:
            raise ZooError(f"A model named '{model_name}' is already registered.")
        options = tuple(inspect.signature(fn).parameters)[2:]
        _MODELS[model_name] = ModelEntry(
            name=model_name,
            family=family,
            reference=reference,
            make_spec=fn,
            default_input_shape=tuple(default_input_shape),
            default_num_classes=default_num_classes,
            options=options,
        )
        return fn

    return register(fn) if fn is not None else register


def load_plugins() -> None:
    """Imports every `kerascnn.zoo` entry point once (registering its models).

    A plugin that fails to import is skipped with a warning naming it, so a
    broken package cannot take the zoo down.
    """
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry_point.load()
        except Exception as error:  # a third party's bug must not break the zoo
            warnings.warn(
                f"kerascnn.zoo plugin '{entry_point.name}' ({entry_point.value}) failed to "
                f"load and was skipped: {type(error).__name__}: {error}",
                stacklevel=2,
            )


def registered_models() -> dict[str, ModelEntry]:
    """Every registered model, the built-in families and the plugins'."""
    # Imported here: the families register themselves on import.
    from kerascnn.zoo import families  # noqa: F401

    load_plugins()
    return _MODELS


def get_entry(name: str) -> ModelEntry:
    """The entry of a model name, or a `ZooError` suggesting close names."""
    models = registered_models()
    if name not in models:
        raise unknown_name(name, list(models))
    return models[name]


def unknown_name(name: str, known: list[str]) -> ZooError:
    """The error for an unknown name, with the closest known ones."""
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ZooError(
        f"Unknown model '{name}'.{hint} See kerascnn.zoo.list_models() or "
        "`kerascnn models` for every name."
    )


def match(names, pattern: str = "*", exclude=None) -> list[str]:
    """The names matching shell-style `pattern` and none of `exclude`, sorted."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    excludes = [exclude] if isinstance(exclude, str) else list(exclude or ())
    return sorted(
        n
        for n in names
        if any(fnmatch.fnmatchcase(n, p) for p in patterns)
        and not any(fnmatch.fnmatchcase(n, p) for p in excludes)
    )
