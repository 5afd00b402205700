"""Averaged weights ramp up as TensorFlow's do, and are scored and saved
with batch norm statistics of their own."""

import keras
import numpy as np
import tensorflow as tf

from kerascnn.optimizers import AveragingSGD
from kerascnn.training.averaging import AveragedWeights

from .helpers import StepWeights


def _network():
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    normed = keras.layers.BatchNormalization(name="norm")(features)
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(normed))
    return keras.Model(inputs, outputs)


def test_the_average_ramps_as_tensorflows_gets_its_own_batch_norm_statistics_and_gives_them_back():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.normal(2.0, 3.0, (96, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, 96)
    train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    model = _network()
    model.compile(
        AveragingSGD(0.05, use_ema=True, ema_momentum=0.5),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        steps_per_execution=1,
    )
    average, steps = AveragedWeights(train, max_images=64), StepWeights()
    # 12 steps: the momentum ramps up ((1 + t) / (10 + t)) to step 8, then stays at 0.5.
    model.fit(train, epochs=2, callbacks=[average, steps], shuffle=False, verbose=0)
    np.testing.assert_array_equal(average.images, images[:64])

    # A freshly trained copy: fit ends by overwriting the weights with the
    # average, so take the last step's trained weights back first.
    for variable, value in zip(model.trainable_variables, steps.steps[-1], strict=True):
        variable.assign(value)
    trained = [w.copy() for w in model.get_weights()]
    expected = steps.reference_average(0.5)

    with average.applied():
        for variable, value in zip(model.trainable_variables, expected, strict=True):
            np.testing.assert_allclose(variable.numpy(), value, rtol=1e-5, atol=1e-6)
        # The statistics are those of the averaged convolution's outputs on
        # the 64 images: computed here in NumPy from its kernel and bias.
        kernel, bias = (v.numpy() for v in model.get_layer("conv").weights)
        windows = np.lib.stride_tricks.sliding_window_view(images[:64, ..., 0], (3, 3), (1, 2))
        outputs = np.einsum("nhwij,ijc->nhwc", windows, kernel[:, :, 0, :]) + bias
        norm = model.get_layer("norm")
        np.testing.assert_allclose(norm.moving_mean.numpy(), outputs.mean((0, 1, 2)), rtol=1e-4)
        np.testing.assert_allclose(norm.moving_variance.numpy(), outputs.var((0, 1, 2)), rtol=1e-3)
    for ours, before in zip(model.get_weights(), trained, strict=True):
        np.testing.assert_allclose(ours, before, rtol=1e-6, atol=1e-7)
