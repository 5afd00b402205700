"""The TensorFlow functions every format is converted from.

A model that was never called still exports: the input signature comes from
`model.inputs`, with a free batch dimension.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kerascnn.export.errors import ExportError
from kerascnn.export.metadata import INPUT_NAME, OUTPUT_NAME
from kerascnn.layers import rectified_map_layers


def check_exportable(model: keras.Model) -> None:
    """Refuses what the exporters cannot turn into a faithful artifact."""
    if not isinstance(model, keras.Model):
        raise ExportError(
            f"export needs a keras.Model. Received: {type(model).__name__}; load a .keras "
            "file with keras.saving.load_model or a zoo model with kerascnn.zoo.create_model."
        )
    if keras.backend.backend() != "tensorflow":
        raise ExportError(
            "The exporters trace the model with TensorFlow; run with KERAS_BACKEND=tensorflow. "
            f"Received backend: {keras.backend.backend()}"
        )
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ExportError(
            f"Model '{model.name}' needs one image input of shape (batch, height, width, "
            "channels) with known sizes; build it with keras.Input(shape=(H, W, C)) first."
        )
    if any(d is None for d in inputs[0].shape[1:]):
        raise ExportError(
            f"Model '{model.name}' has a free image size {tuple(inputs[0].shape)}; exported "
            "artifacts need fixed sizes: rebuild it with keras.Input(shape=(H, W, C))."
        )
    other = sorted({layer.dtype_policy.name for layer in model.layers} - {"float32"})
    if other:
        raise ExportError(
            f"Model '{model.name}' computes in {', '.join(other)}; the exporters take float32 "
            "models (quantize at export instead). Rebuild it with float32 layers and load its "
            "weights (a kerascnn ConvNet is converted by export itself)."
        )


def in_float32(model: keras.Model) -> keras.Model:
    """The model itself, or for a `ConvNet` trained in another dtype policy
    (mixed_bfloat16, ...) the same model computing in float32: its whole
    config (class names, provenance, preprocessing) and its weights kept.

    Example:
    >>> in_float32(create_model("lenet5.mnist", dtype="mixed_bfloat16")).dtype_policy.name
    'float32'
    """
    from kerascnn.builder import ConvNet

    if not isinstance(model, ConvNet) or model.dtype_policy.name == "float32":
        return model
    copy = ConvNet.from_config({**model.get_config(), "dtype": "float32"})
    copy.set_weights([np.asarray(w, dtype="float32") for w in model.get_weights()])
    return copy


def input_signature(model: keras.Model) -> list[tf.TensorSpec]:
    """One float32 image tensor with a free batch dimension."""
    shape = (None, *(int(d) for d in model.inputs[0].shape[1:]))
    return [tf.TensorSpec(shape, tf.float32, name=INPUT_NAME)]


def serving_function(model: keras.Model) -> tf.types.experimental.GenericFunction:
    """`image` (raw pixels) -> {"predictions": ...}, in inference mode."""

    @tf.function(input_signature=input_signature(model))
    def serve(image):
        return {OUTPUT_NAME: model(image, training=False)}

    return serve


def feature_maps_function(model: keras.Model) -> tf.types.experimental.GenericFunction:
    """`image` -> {layer name: rectified feature map} for every rectified layer."""
    layers = rectified_map_layers(model)
    if not layers:
        raise ExportError(
            f"Model '{model.name}' has no RectifiedFeatureMap or ReLU layer, so there are no "
            "rectified feature maps to serve; export without feature_maps."
        )
    # Named outputs: a one-output model would return its tensor, not a list.
    probe = keras.Model(model.input, {layer.name: layer.output for layer in layers})

    @tf.function(input_signature=input_signature(model))
    def feature_maps(image):
        return probe(image, training=False)

    return feature_maps


def predictions_and_maps_function(model: keras.Model) -> tf.types.experimental.GenericFunction:
    """`image` -> {"predictions": ..., and every step's convolution, rectified
    feature map and pooled map by layer name}: what `kerascnn.inspection`
    shows, computed with the predictions in one pass."""
    from kerascnn.inspection.maps import map_layer_names

    names = map_layer_names(model)
    outputs = {OUTPUT_NAME: model.outputs[0], **{n: model.get_layer(n).output for n in names}}
    probe = keras.Model(model.input, outputs)

    @tf.function(input_signature=input_signature(model))
    def serve(image):
        return probe(image, training=False)

    return serve


def frozen_module(model: keras.Model) -> tf.Module:
    """A `tf.Module` whose serving signature has the weights as constants.

    The TFLite converter and tf2onnx both want a graph without variables:
    converted straight from Keras 3 variables, the TFLite model kept them as
    resource variables (VAR_HANDLE/READ_VARIABLE) that the interpreter
    leaves uninitialised.
    """
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    frozen = convert_variables_to_constants_v2(serving_function(model).get_concrete_function())

    @tf.function(input_signature=input_signature(model))
    def serve(image):
        return {OUTPUT_NAME: frozen(image)[0]}

    module = tf.Module()
    module.serve = serve
    return module
