"""What users call: list, describe and create models and presets by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo import presets as _presets

if TYPE_CHECKING:  # Keras loads when a model is built, not to list names.
    import keras
from kerascnn.zoo.registry import (
    ZooError,
    get_entry,
    match,
    registered_models,
    unknown_name,
)

# Presets registered by URL (plugins, or the user): name -> (url, sha256).
_REMOTE_PRESETS: dict[str, tuple[str, str]] = {}


def register_preset(name: str, url: str, sha256: str) -> None:
    """Makes a preset archive at a URL available by name.

    It is downloaded (and checked against `sha256`) the first time it is
    created, then loaded from the cache. Plugins call this on import.

    Args:
        name: "model.tag", where `model` is a registered model name.
        url: http(s) URL of the preset folder as a `.tar.gz` or `.zip`.
        sha256: The archive's hex sha256.
    """
    model, _, tag = name.partition(".")
    if not model or not tag:
        raise ZooError(f"A preset name is 'model.tag', e.g. 'lenet5.mnist'. Received: {name!r}")
    if name in _REMOTE_PRESETS or name in _presets.packaged_presets():
        raise ZooError(f"A preset named '{name}' is already registered.")
    _REMOTE_PRESETS[name] = (url, sha256)


def _preset_names() -> list[str]:
    registered_models()  # plugins register their presets on import
    return sorted({*_presets.packaged_presets(), *_REMOTE_PRESETS})


def list_models(pattern="*", exclude=None, pretrained: bool = False) -> list[str]:
    """Registered names matching shell-style wildcards, sorted.

    Args:
        pattern: A pattern or list of patterns ("lenet5*", "*vgg*").
        exclude: Patterns to leave out.
        pretrained: List presets ("lenet5.mnist") instead of architectures.

    Example:
    >>> list_models("lenet5*")
    ['lenet5', 'lenet5_max']
    >>> list_models(pretrained=True)[:1]
    ['lenet5.mnist']
    """
    names = _preset_names() if pretrained else list(registered_models())
    return match(names, pattern, exclude)


def load_preset(
    source: str | Path,
    *,
    sha256: str | None = None,
    num_classes: int | None = None,
    input_shape=None,
    class_names=None,
    dtype=None,
) -> keras.Model:
    """Builds a model with a preset's trained weights, checksums verified.

    Args:
        source: A preset name ("lenet5.mnist"), a preset folder, or an
            http(s) URL of a preset archive.
        sha256: The archive's sha256, for a URL.
        num_classes: A different class count: a fresh head on the trained
            backbone, ready for fine-tuning.
        input_shape: (height, width, channels); other channel counts adapt
            the first convolution (1 <-> 3).
        class_names: The classes to predict; names other than the preset's
            (even as many) get a fresh head, as a different `num_classes`.
        dtype: Dtype policy of the layers ("float32", "mixed_bfloat16",
            ...); None means the global policy, as for a fresh model.

    Returns:
        A `ConvNet` that records the preset (`model.provenance`) and its
            class names (`model.class_names`).

    Example:
    >>> model = load_preset("lenet5.mnist", num_classes=5)
    """
    return _presets.build_from_preset(
        resolve_preset(source, sha256=sha256),
        num_classes=num_classes,
        input_shape=input_shape,
        class_names=class_names,
        dtype=dtype,
    )


def resolve_preset(source: str | Path, *, sha256: str | None = None) -> _presets.Preset:
    """The verified `Preset` of a name, folder or URL."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        return _presets.read_preset(_presets.fetch_preset(text, sha256))
    packaged = _presets.packaged_presets()
    names = _preset_names()
    if text in packaged:
        return _presets.read_preset(packaged[text])
    if text in _REMOTE_PRESETS:
        url, checksum = _REMOTE_PRESETS[text]
        return _presets.read_preset(_presets.fetch_preset(url, checksum))
    if Path(text).is_dir():
        return _presets.read_preset(text)
    if Path(text).is_file():
        raise ZooError(
            f"'{text}' is a file, not a zoo name or preset folder (`kerascnn models` lists "
            f"them). A model file loads with `kerascnn.load('{text}')`; `kerascnn evaluate "
            f"{text} --data ...` measures it."
        )
    raise unknown_name(text, names + list(registered_models()))


def create_model(
    name: str,
    *,
    num_classes: int | None = None,
    input_shape=None,
    class_names=None,
    dtype=None,
    **overrides,
) -> keras.Model:
    """Builds a registered model, fresh or with a preset's trained weights.

    Args:
        name: "family_variant" (fresh weights, e.g. "minivgg_m") or
            "family_variant.tag" (a preset, e.g. "lenet5.mnist").
        num_classes: Classes to predict; for a preset, a different count
            keeps the trained backbone under a fresh head.
        input_shape: (height, width, channels); any size at or above the
            model's minimum, 1 or 3 channels.
        class_names: The classes to predict (sets `num_classes`); for a
            preset, names other than its own get a fresh head even when
            there are as many. Exports and inspection pages show them.
        dtype: Dtype policy of the layers; None means the global policy.
        **overrides: The model's own options (see `model_info(name).options`),
            e.g. `width_multiplier` or `dropout`; not for presets.

    Returns:
        A `ConvNet` (a functional `keras.Model` taking raw 0-255 pixels).

    Example:
    >>> model = create_model("mobilecnn_050", num_classes=5, input_shape=(64, 64, 3))
    >>> model = create_model("minivgg_m.cifar10", class_names=["cat", "dog", "horse"])
    """
    if "." in name:
        if overrides:
            raise ZooError(
                f"A preset's architecture is fixed by its weights; {name} takes only "
                f"num_classes, input_shape and class_names. Received: {', '.join(overrides)}"
            )
        return load_preset(
            name,
            num_classes=num_classes,
            input_shape=input_shape,
            class_names=class_names,
            dtype=dtype,
        )
    if class_names is not None:
        num_classes = len(class_names)
    from kerascnn.builder import build_model

    spec = get_entry(name).spec(input_shape, num_classes, **overrides)
    return build_model(spec, dtype=dtype, class_names=class_names)


@dataclass(frozen=True)
class ModelInfo:
    """What `model_info` reports.

    Attributes:
        name: The model or preset name.
        family: Its family.
        reference: One line: where the architecture comes from.
        spec: The default `ConvNetSpec` (a preset's own spec).
        parameters: Trainable and non-trainable parameters.
        macs: Multiply-accumulates for one image.
        min_input_size: The smallest (height, width) it accepts.
        options: Keyword options `create_model` accepts for it.
        presets: Names of its presets (trained weights).
        metadata: A preset's metadata (accuracy, data, recipe...), else None.
    """

    name: str
    family: str
    reference: str
    spec: ConvNetSpec
    parameters: int
    macs: int
    min_input_size: tuple
    options: tuple
    presets: list = field(default_factory=list)
    metadata: dict | None = None

    def __str__(self) -> str:
        shape = f"{self.spec.input.height}x{self.spec.input.width}x{self.spec.input.channels}"
        lines = [
            f"{self.name} ({self.family}): {self.reference}",
            f"  input {shape} (at least {self.min_input_size[0]}x{self.min_input_size[1]}), "
            f"{self.spec.head.num_classes} classes, {self.parameters:,} parameters, "
            f"{self.macs:,} MACs",
        ]
        if self.options:
            lines.append(f"  options: {', '.join(self.options)}")
        if self.metadata:
            data = self.metadata["dataset"]["name"]
            accuracy = 100 * self.metadata["test_accuracy"]
            lines.append(
                f"  trained on {data}: {accuracy:.2f}% test accuracy on "
                f"{self.metadata['test_examples']:,} images"
            )
        if self.presets:
            lines.append(f"  presets: {', '.join(self.presets)}")
        return "\n".join(lines)


def model_info(name: str) -> ModelInfo:
    """The spec, reference, size, cost and presets of a model or preset.

    Example:
    >>> print(model_info("lenet5"))
    """
    from kerascnn.describe import describe

    metadata = None
    if "." in name:
        preset = resolve_preset(name)
        entry = get_entry(preset.model)
        spec, metadata = preset.spec, preset.metadata
    else:
        entry = get_entry(name)
        spec = entry.spec()
    description = describe(spec)
    return ModelInfo(
        name=name,
        family=entry.family,
        reference=entry.reference,
        spec=spec,
        parameters=description.total_params,
        macs=description.total_macs,
        min_input_size=entry.min_input_size(),
        options=entry.options,
        presets=[p for p in _preset_names() if p.split(".")[0] == entry.name],
        metadata=metadata,
    )


def spec_of(name: str, **kwargs) -> ConvNetSpec:
    """The `ConvNetSpec` `create_model(name, **kwargs)` would build."""
    if "." in name:
        return resolve_preset(name).spec
    num_classes = kwargs.pop("num_classes", None)
    input_shape = kwargs.pop("input_shape", None)
    return get_entry(name).spec(input_shape, num_classes, **kwargs)
