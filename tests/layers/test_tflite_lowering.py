"""Exported, the layers are the plain ops a TFLite runtime runs fastest.

The ReLU of a RectifiedFeatureMap fuses into the convolution before it (no
op of its own), sum pooling is one DEPTHWISE_CONV_2D, and the LiteRT
interpreter reproduces the NumPy reference, "same"-padding borders included.
"""

import keras
import numpy as np
import pytest

from kerascnn.layers import RectifiedFeatureMap, SumPooling2D

from .reference import sum_pool

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TFLite conversion needs TensorFlow"
)


def _convert(model, tmp_path):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    model.export(tmp_path / "saved_model", format="tf_saved_model", verbose=False)
    flatbuffer = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved_model")).convert()
    interpreter = Interpreter(
        model_content=flatbuffer,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    return interpreter


def _run(interpreter, x):
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_relu_fuses_into_conv_and_sum_pool_is_one_depthwise_conv(tmp_path):
    inputs = keras.Input((9, 9, 3), batch_size=1)
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = RectifiedFeatureMap()(x)
    outputs = SumPooling2D(3, strides=2, padding="same")(x)
    model = keras.Model(inputs, outputs)
    interpreter = _convert(model, tmp_path)
    ops = [op["op_name"] for op in interpreter._get_ops_details()]
    assert ops == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    x = np.random.default_rng(0).normal(size=(1, 9, 9, 3)).astype("float32")
    np.testing.assert_allclose(_run(interpreter, x), model(x), atol=1e-5)


def test_same_padding_border_values_survive_tflite(tmp_path):
    inputs = keras.Input((7, 8, 2), batch_size=1)
    model = keras.Model(inputs, SumPooling2D(3, strides=2, padding="same")(inputs))
    interpreter = _convert(model, tmp_path)
    x = np.random.default_rng(1).normal(size=(1, 7, 8, 2)).astype("float32")
    np.testing.assert_allclose(
        _run(interpreter, x), sum_pool(x, (3, 3), (2, 2), "same"), rtol=1e-5, atol=1e-5
    )


def test_flatten_with_a_free_batch_is_one_reshape(tmp_path):
    from kerascnn.layers import Flatten

    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, Flatten()(inputs))
    interpreter = _convert(model, tmp_path)
    assert [op["op_name"] for op in interpreter._get_ops_details()] == ["RESHAPE"]
    x = np.random.default_rng(0).normal(size=(1, 4, 4, 3)).astype("float32")
    np.testing.assert_array_equal(_run(interpreter, x), x.reshape(1, 48))
