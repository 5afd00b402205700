"""Every registered model: builds, runs, trains, serializes, at any size."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo import create_model, list_models, spec_of
from kerascnn.zoo.registry import get_entry

MODELS = list_models()


def _images(shape, n=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, *shape)).astype("float32")


def _other_shape(name):
    """A non-default, non-square input size at or above the minimum, other channels."""
    entry = get_entry(name)
    height, width, channels = entry.default_input_shape
    low = max(entry.min_input_size()[0], 8)
    return (max(low, height + 8), max(low, width - 4) + 3, 4 - channels)


@pytest.mark.parametrize("name", MODELS)
def test_default_build_runs_round_trips_and_reloads(name, tmp_path):
    entry = get_entry(name)
    model = create_model(name)
    assert model.output_shape == (None, entry.default_num_classes)
    assert model.input_shape == (None, *entry.default_input_shape)
    x = _images(entry.default_input_shape)
    y = keras.ops.convert_to_numpy(model(x))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)

    assert ConvNetSpec.from_json(model.spec.to_json()) == model.spec
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.spec == model.spec
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(reloaded(x)), y)


@pytest.mark.parametrize("name", MODELS)
def test_any_size_channels_and_classes_train(name):
    shape = _other_shape(name)
    model = create_model(name, num_classes=7, input_shape=shape)
    assert model.output_shape == (None, 7)
    x, labels = _images(shape, n=4, seed=1), np.array([0, 3, 6, 2])
    with tf.GradientTape() as tape:
        probabilities = model(x, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    assert np.isfinite(keras.ops.convert_to_numpy(probabilities)).all()
    gradients = tape.gradient(loss, model.trainable_variables)
    missing = [
        v.path
        for v, g in zip(model.trainable_variables, gradients)
        if g is None or not np.any(keras.ops.convert_to_numpy(g))
    ]
    assert not missing, f"no gradient reaches {missing}"


@pytest.mark.parametrize("name", MODELS)
def test_its_minimum_input_size_is_the_smallest_that_builds(name):
    size = get_entry(name).min_input_size()
    channels = get_entry(name).default_input_shape[2]
    model = create_model(name, input_shape=(*size, channels))
    assert np.isfinite(keras.ops.convert_to_numpy(model(_images((*size, channels))))).all()
    # One pixel less, in height or in width, no longer fits the network.
    for smaller in ((size[0] - 1, size[1]), (size[0], size[1] - 1)):
        if min(smaller) < 1:
            continue
        with pytest.raises(ValueError, match=r"does not fit|at least"):
            create_model(name, input_shape=(*smaller, channels))


@pytest.mark.parametrize("name", MODELS)
def test_the_spec_counts_the_parameters_keras_builds(name):
    # The spec's count guards its parameter limit before anything is built.
    spec = spec_of(name)
    assert spec.parameter_count() == create_model(name).count_params()
