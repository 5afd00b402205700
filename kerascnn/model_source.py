"""What a model source names, and loading it: one answer for Python and the CLI.

A source is a zoo name (`lenet5`, fresh weights), a preset (`lenet5.mnist`,
a preset folder or URL), a `.keras` file, a run folder (its `best.keras`,
or a fine-tuning run's `final.keras`), a spec JSON file (to train), or an
exported artifact (`.tflite`, `.onnx`, a micro or SavedModel export folder).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kerascnn.errors import MissingInputError, UsageError

if TYPE_CHECKING:
    import keras

    from kerascnn.spec import ConvNetSpec

# The model a run folder holds: `kerascnn train`'s best epoch, or the
# model a fine-tuning recipe ends with.
RUN_MODELS = ("best.keras", "final.keras")


def read_spec(source: str | Path) -> ConvNetSpec:
    """A `ConvNetSpec` from a JSON file, or from standard input for "-"."""
    from kerascnn.spec import ConvNetSpec, SpecError

    if str(source) == "-":
        return ConvNetSpec.from_json(sys.stdin.read())
    path = Path(source)
    if not path.is_file():
        raise MissingInputError(
            f"No spec file at '{source}'; give the path of a spec JSON file, "
            "or '-' for standard input."
        )
    try:
        return ConvNetSpec.from_json(path.read_text(encoding="utf-8"))
    except SpecError as error:
        raise SpecError(f"{source}: {error.where}", error.reason) from None


def load_keras_file(path: str | Path) -> keras.Model:
    """A `.keras` file, loaded in Keras' safe mode (no code from the file runs)."""
    import keras

    import kerascnn

    kerascnn._register_keras_classes()
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # the file is the user's input, whatever it holds
        # Keras appends the whole config it could not load: the start says why.
        reason = " ".join(str(error).split()).split(" Full object config")[0][:300]
        raise UsageError(
            f"'{path}' cannot be loaded as a Keras model ({type(error).__name__}: {reason}); "
            "give a .keras file saved by Keras 3."
        ) from error


def keras_file(source: str | Path) -> Path | None:
    """The `.keras` file a source names: itself, or a run folder's model."""
    path = Path(source)
    if path.suffix == ".keras" and path.is_file():
        return path
    if path.is_dir():
        return next((path / name for name in RUN_MODELS if (path / name).is_file()), None)
    return None


def load(source: str | Path, *, trust_saved_model: bool = False, dtype=None):
    """Loads any model source kerascnn knows, the way `kerascnn` commands do.

    A SavedModel is a TensorFlow program: running it can do anything a
    program can (write files, open connections), so it loads only with
    `trust_saved_model`, the way Keras' safe mode refuses Lambda layers.
    `.tflite`, `.onnx` and micro exports are data, run by their runtimes.

    Args:
        source: A zoo name, preset name, preset folder or URL, `.keras`
            file, run folder, or export (`.tflite`, `.onnx`, folder).
        trust_saved_model: Allow a SavedModel folder.
        dtype: Dtype policy of a model built from the zoo or a preset; None
            means the global policy.

    Returns:
        A `keras.Model` (a `ConvNet` for kerascnn's own), or for an export
        a `kerascnn.export.LoadedArtifact` with `predict` and `class_names`.

    Example:
    >>> model = kerascnn.load("runs/my_photos")  # its final.keras
    >>> model.class_names
    ['cat', 'dog']
    """
    path = Path(source)
    saved_model = (path / "saved_model.pb").is_file()
    if saved_model and not trust_saved_model:
        raise UsageError(
            f"'{source}' is a SavedModel, and running a SavedModel runs the TensorFlow graph "
            "it holds, which can do anything a program can (write or send your files). Pass "
            "--trust-saved-model (trust_saved_model=True) if you trust where it came from, or "
            "use the .tflite or .onnx export (data, not code)."
        )
    if path.suffix in (".keras", ".tflite", ".onnx") and not path.exists():
        raise UsageError(
            f"'{source}' does not exist; give the path of a {path.suffix} file (a run folder "
            "holds best.keras or final.keras, an export folder its .tflite and .onnx files)."
        )
    if path.suffix in (".tflite", ".onnx") or saved_model or (path / "micro.json").is_file():
        from kerascnn.export import load_artifact

        return load_artifact(path)
    if keras_file(path) is not None:
        return load_keras_file(keras_file(path))
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"'{source}' is not a model; give a .keras file, a run folder with best.keras or "
            "final.keras, a preset folder or a zoo name (see `kerascnn models`)."
        )
    from kerascnn.zoo import create_model, load_preset

    if path.is_dir():
        return load_preset(path, dtype=dtype)
    return create_model(str(source), dtype=dtype)


def load_keras_model(source: str | Path, purpose: str) -> keras.Model:
    """`load`, refusing exported artifacts: `purpose` needs the Keras model."""
    import keras

    model = load(source)
    if not isinstance(model, keras.Model):
        raise UsageError(
            f"{purpose} needs a Keras model; '{source}' is an exported artifact. "
            "Give the zoo name, preset or .keras file it came from."
        )
    return model


def is_spec_source(source: str | Path) -> bool:
    """Whether `source` names an architecture to build (a spec JSON file or a
    zoo name) rather than a model with weights."""
    text = str(source)
    return Path(text).suffix == ".json" or (Path(text).suffix == "" and "." not in text)


def to_train(source: str | Path, *, input_shape=None, num_classes=None):
    """What `kerascnn.training.train` takes for a source: a `ConvNetSpec` for
    a spec file or zoo name (`input_shape`, `num_classes` apply to a zoo
    name), else the model to train further.

    Example:
    >>> to_train("lenet5", input_shape=(32, 32, 1)).input.height
    32
    """
    if Path(str(source)).suffix == ".json":
        return read_spec(source)
    if is_spec_source(source):
        from kerascnn.zoo import spec_of

        return spec_of(str(source), input_shape=input_shape, num_classes=num_classes)
    return load_keras_model(source, "training further")


def input_shape(model_or_spec) -> tuple[int, int, int]:
    """(height, width, channels) of the images a model, spec or export takes."""
    from kerascnn.spec import ConvNetSpec

    if isinstance(model_or_spec, ConvNetSpec):
        spec = model_or_spec.input
        return spec.height, spec.width, spec.channels
    import keras

    if isinstance(model_or_spec, keras.Model):
        return tuple(model_or_spec.inputs[0].shape[1:])
    return tuple(model_or_spec.input_shape)  # an exported artifact
