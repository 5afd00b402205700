"""The fused-kernel batch norm computes what Keras' layer and a NumPy oracle compute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerascnn.layers import BatchNormalization

EPSILON = 1e-3


def _pair(shape, **kwargs):
    """Keras' layer and ours, built with the same random weights and statistics."""
    rng = np.random.default_rng(0)
    ours, reference = BatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    ours.build(shape)
    reference.build(shape)
    weights = [rng.uniform(0.5, 2.0, w.shape).astype("float32") for w in reference.weights]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


def _train_step(layer, x):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        # A loss that weighs every output differently, so each gradient is tested.
        loss = tf.reduce_sum(y * tf.reshape(tf.range(tf.size(y), dtype=y.dtype), y.shape))
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return y.numpy(), [g.numpy() for g in grads]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the fused kernel is TensorFlow's; on other backends the layer is Keras' own",
)
@pytest.mark.parametrize("kwargs", [{}, {"center": False, "momentum": 0.5}, {"scale": False}])
def test_training_matches_keras_layer(kwargs):
    x = np.random.default_rng(1).normal(3.0, 2.0, (8, 5, 6, 4)).astype("float32")
    ours, reference = _pair(x.shape, **kwargs)
    y, grads = _train_step(ours, x)
    y_ref, grads_ref = _train_step(reference, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-4)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours.moving_mean.numpy(), reference.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        ours.moving_variance.numpy(), reference.moving_variance.numpy(), rtol=1e-5
    )


def test_training_matches_numpy_oracle():
    x = np.random.default_rng(2).normal(-1.0, 3.0, (16, 3, 3, 2)).astype("float32")
    layer, _ = _pair(x.shape, momentum=0.9)
    gamma, beta, moving_mean, moving_variance = (w.copy() for w in layer.get_weights())
    y = keras.ops.convert_to_numpy(layer(x, training=True))

    mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # biased, as Keras
    np.testing.assert_allclose(
        y, (x - mean) / np.sqrt(variance + EPSILON) * gamma + beta, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.9 * moving_mean + 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(
        layer.moving_variance.numpy(), 0.9 * moving_variance + 0.1 * variance, rtol=1e-5
    )


@pytest.mark.parametrize(("shape", "axis"), [((8, 3, 5, 6), 1), ((8, 5), -1)])
def test_other_layouts_are_keras_layer_exactly(shape, axis):
    x = np.random.default_rng(5).normal(size=shape).astype("float32")
    ours, reference = _pair(shape, axis=axis)
    np.testing.assert_array_equal(ours(x, training=True), reference(x, training=True))
    np.testing.assert_array_equal(ours.moving_variance.numpy(), reference.moving_variance.numpy())


def test_inference_is_keras_layer_exactly():
    x = np.random.default_rng(3).normal(size=(4, 5, 5, 3)).astype("float32")
    ours, reference = _pair(x.shape)
    np.testing.assert_array_equal(ours(x, training=False), reference(x, training=False))


def test_bfloat16_policy_trains_in_float32_statistics():
    x = np.random.default_rng(4).normal(size=(8, 4, 4, 3)).astype("float32")
    ours = BatchNormalization(dtype="mixed_bfloat16")
    reference = keras.layers.BatchNormalization(dtype="mixed_bfloat16")
    y, y_ref = ours(x, training=True), reference(x, training=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(y_ref.dtype) == "bfloat16"
    assert ours.moving_variance.dtype == "float32"
    np.testing.assert_allclose(
        ours.moving_variance.numpy(), reference.moving_variance.numpy(), rtol=1e-2
    )


def test_built_networks_use_it():
    from kerascnn.zoo import create_model

    model = create_model("resnet8", input_shape=(32, 32, 3), num_classes=10)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(isinstance(layer, BatchNormalization) for layer in norms)
