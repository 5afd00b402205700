"""SavedModel for TensorFlow Serving: raw pixels in, class probabilities out."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from kerascnn.export.graph import feature_maps_function, serving_function
from kerascnn.export.metadata import LABELS_FILE, METADATA_FILE, labels_text


def write_saved_model(
    model: keras.Model, directory: Path, metadata: dict, *, feature_maps: bool = False
) -> None:
    """Writes a SavedModel with a `serving_default` signature (and `feature_maps`).

    `serving_default` takes `image` (float32 raw pixels, any batch) and
    returns `predictions`; `feature_maps` returns every rectified feature
    map by layer name. The metadata and the labels are SavedModel assets.
    """
    module = tf.Module()
    module.model = model
    module.serve = serving_function(model)
    signatures = {"serving_default": module.serve}
    if feature_maps:
        module.feature_maps = feature_maps_function(model)
        signatures["feature_maps"] = module.feature_maps
    with tempfile.TemporaryDirectory() as assets:
        metadata_path = Path(assets) / METADATA_FILE
        metadata_path.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        labels_path = Path(assets) / LABELS_FILE
        labels_path.write_text(labels_text(metadata), encoding="utf-8")
        module.metadata_file = tf.saved_model.Asset(str(metadata_path))
        module.labels_file = tf.saved_model.Asset(str(labels_path))
        tf.saved_model.save(module, str(directory), signatures=signatures)
