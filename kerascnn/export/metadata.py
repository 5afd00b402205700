"""What every artifact carries: class names, preprocessing, the source and
a fingerprint of the network's spec and weights.

The same dictionary goes into each format's own metadata slot (ONNX
`metadata_props`, a TFLite associated file, SavedModel assets) and into a
JSON sidecar, so an app reads it without kerascnn.
"""

from __future__ import annotations

import hashlib
import json

import keras
import numpy as np

from kerascnn.builder import ConvNet, head_activation
from kerascnn.builder import class_names as class_names_of

FORMAT = "kerascnn-artifact/1"
# The graph's input and output names, and the files every format carries.
INPUT_NAME = "image"
OUTPUT_NAME = "predictions"
METADATA_FILE = "kerascnn_metadata.json"
LABELS_FILE = "labels.txt"


def _sha256_json(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(model: keras.Model) -> dict:
    """sha256 of the architecture (the spec, or the Keras config) and of the weights.

    Two models with equal fingerprints compute the same function; the
    fingerprint ties an artifact to the exact network it came from.
    """
    architecture = model.spec.to_dict() if isinstance(model, ConvNet) else model.get_config()
    digest = hashlib.sha256()
    for variable in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(variable.path.encode("utf-8"))
        digest.update(str(value.dtype).encode("ascii"))
        digest.update(str(value.shape).encode("ascii"))
        digest.update(value.tobytes())
    return {"spec_sha256": _sha256_json(architecture), "weights_sha256": digest.hexdigest()}


def _preprocessing(model: keras.Model) -> dict:
    if isinstance(model, ConvNet):
        return model.preprocessing
    height, width, channels = (int(d) for d in model.inputs[0].shape[1:])
    return {
        "input_shape": [height, width, channels],
        "pixels": "float32, channels last, as given to the Keras model",
    }


def artifact_metadata(model: keras.Model, *, source: str | None = None) -> dict:
    """The metadata an exported artifact carries, read from the model.

    A `ConvNet` declares its class names, preprocessing and provenance in
    its config; any other Keras model gets "0", "1", ... as class names.

    Args:
        model: The Keras model being exported.
        source: Where it came from (a zoo name, a `.keras` path); defaults
            to the preset the model came from, else the model's name.

    Example:
    >>> artifact_metadata(create_model("minivgg_m.cifar10"))["class_names"][:2]
    ['airplane', 'automobile']
    """
    provenance = dict(model.provenance) if isinstance(model, ConvNet) else {}
    from kerascnn import __version__

    return {
        "format": FORMAT,
        "model": model.name,
        "source": source or provenance.get("preset", model.name),
        "provenance": provenance,
        "class_names": class_names_of(model),
        "preprocessing": _preprocessing(model),
        "input": {"name": INPUT_NAME, "dtype": "float32"},
        "output": {"name": OUTPUT_NAME, "activation": head_activation(model)},
        "fingerprint": fingerprint(model),
        "versions": {
            "kerascnn": __version__,
            "keras": keras.__version__,
        },
    }


def labels_text(metadata: dict) -> str:
    """`labels.txt`: one class name a line, index = class."""
    return "\n".join(metadata["class_names"]) + "\n"
