"""The contract every kerascnn layer meets, checked the same way for each.

Serialization round trip, symbolic call with `None` dimensions, eager call,
one training step through the layer, `mixed_float16` output dtype, and a
`.keras` save/load giving identical outputs.
"""

import json

import keras
import numpy as np


def check_layer_contract(layer_cls, init_kwargs, input_shape, tmp_path, symbolic_shape=None):
    """Runs every contract check for `layer_cls(**init_kwargs)`.

    Args:
        layer_cls: The layer class.
        init_kwargs: Constructor arguments.
        input_shape: A concrete input shape, batch included.
        tmp_path: A directory for the `.keras` file.
        symbolic_shape: The input shape without batch, with `None` where the
            layer accepts any size; defaults to all spatial dims `None`.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=input_shape).astype("float32")

    _check_config_round_trip(layer_cls, init_kwargs)
    expected = _check_eager_call(layer_cls, init_kwargs, x)
    _check_symbolic_call(layer_cls, init_kwargs, x, symbolic_shape, expected)
    _check_training_step(layer_cls, init_kwargs, x)
    _check_mixed_float16(layer_cls, init_kwargs, x)
    _check_keras_file_round_trip(layer_cls, init_kwargs, x, tmp_path)


def _check_config_round_trip(layer_cls, init_kwargs):
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    rebuilt = layer_cls.from_config(config)
    assert rebuilt.get_config() == config
    # Through JSON text, as in a .keras file: json.dumps raises on anything
    # that is not JSON, and the layer rebuilt from the text has the same config.
    text = json.dumps(config, sort_keys=True)
    from_text = layer_cls.from_config(json.loads(text))
    assert json.dumps(from_text.get_config(), sort_keys=True) == text
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == f"kerascnn>{layer_cls.__name__}"
    assert type(keras.saving.deserialize_keras_object(serialized)) is layer_cls


def _check_eager_call(layer_cls, init_kwargs, x):
    layer = layer_cls(**init_kwargs)
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.shape == tuple(layer.compute_output_shape(x.shape))
    assert np.all(np.isfinite(y))
    return y


def _check_symbolic_call(layer_cls, init_kwargs, x, symbolic_shape, expected):
    if symbolic_shape is None:
        channels_first = init_kwargs.get("data_format") == "channels_first"
        symbolic_shape = tuple(
            d if (i == 0 and channels_first) or (i == x.ndim - 2 and not channels_first) else None
            for i, d in enumerate(x.shape[1:])
        )
    inputs = keras.Input(shape=symbolic_shape)
    layer = layer_cls(**init_kwargs)
    outputs = layer(inputs)
    assert tuple(outputs.shape) == tuple(layer.compute_output_shape((None, *symbolic_shape)))
    model = keras.Model(inputs, outputs)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-6, atol=1e-6)


def _check_training_step(layer_cls, init_kwargs, x):
    inputs = keras.Input(shape=x.shape[1:])
    projected = keras.layers.Dense(x.shape[-1], name="before")(inputs)
    features = layer_cls(**init_kwargs)(projected)
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(features))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    before = keras.ops.convert_to_numpy(model.get_layer("before").kernel).copy()
    loss = model.train_on_batch(x, np.ones((x.shape[0], 1), "float32"))
    after = keras.ops.convert_to_numpy(model.get_layer("before").kernel)
    assert np.isfinite(loss)
    assert not np.allclose(before, after), "no gradient reached the layer before"


def _check_mixed_float16(layer_cls, init_kwargs, x):
    layer = layer_cls(**init_kwargs, dtype="mixed_float16")
    assert keras.backend.standardize_dtype(layer(x).dtype) == "float16"
    symbolic = layer_cls(**init_kwargs, dtype="mixed_float16")(keras.Input(shape=x.shape[1:]))
    assert keras.backend.standardize_dtype(symbolic.dtype) == "float16"


def _check_keras_file_round_trip(layer_cls, init_kwargs, x, tmp_path):
    inputs = keras.Input(shape=x.shape[1:])
    model = keras.Model(inputs, layer_cls(**init_kwargs)(inputs))
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.layers[-1]) is layer_cls
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )
