"""FeatureMapStatistics logs what the rectified feature maps do."""

import keras
import numpy as np
import pytest

from kerascnn import ConvNetSpec, FeatureMapStatistics, build_model


def _data(n=32):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, size=(n, 28, 28, 1)).astype("float32"), rng.integers(0, 10, n)


def test_statistics_appear_in_the_history_and_match_numpy():
    model = build_model(ConvNetSpec(blocks=[{"filters": 4}, {"filters": 6}]))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    probe = x[:8]
    history = model.fit(
        x, y, epochs=2, batch_size=16, verbose=0, callbacks=[FeatureMapStatistics(probe)]
    )
    for name in ("block1_relu1", "block2_relu1"):
        assert len(history.history[f"{name}_sparsity"]) == 2
        fmap = keras.ops.convert_to_numpy(
            keras.Model(model.input, model.get_layer(name).output)(probe)
        )
        assert history.history[f"{name}_sparsity"][-1] == pytest.approx(np.mean(fmap == 0))
        assert history.history[f"{name}_mean_activation"][-1] == pytest.approx(
            fmap.mean(), rel=1e-4
        )


def test_a_model_without_rectified_feature_maps_is_refused():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no rectified feature map"):
        model.fit(
            np.ones((2, 4)), np.ones((2, 1)), callbacks=[FeatureMapStatistics(np.ones((1, 4)))]
        )


def test_a_plain_relu_model_reports_the_maps_inspection_and_export_show():
    # One definition of "rectified feature map": the callback, inspection and
    # the exporter's feature_maps signature agree on a model kerascnn did not build.
    from kerascnn.export.graph import feature_maps_function
    from kerascnn.inspection.maps import steps

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    images = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")
    history = model.fit(
        images, np.array([0, 1, 0, 1]), verbose=0, callbacks=[FeatureMapStatistics(images)]
    )
    relu = keras.ops.convert_to_numpy(keras.Model(inputs, model.get_layer("relu").output)(images))
    assert history.history["relu_sparsity"][-1] == pytest.approx(np.mean(relu == 0))
    assert [step.rectified for step in steps(model)] == ["relu"]
    served = feature_maps_function(model)(images)
    assert list(served) == ["relu"]


def test_unknown_statistics_are_refused():
    with pytest.raises(ValueError, match="Unknown statistics"):
        FeatureMapStatistics(np.ones((1, 4)), statistics=("entropy",))
