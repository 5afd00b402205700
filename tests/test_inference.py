"""Predictor: the model's answers, for one image or a batch."""

import keras
import numpy as np
import pytest

from kerascnn.inference import Predictor
from kerascnn.zoo import create_model


def test_predictor_gives_the_models_answers_for_one_image_and_a_batch():
    model = create_model("lenet5.mnist")
    images = np.random.default_rng(0).uniform(0, 255, (5, 28, 28, 1)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    predict = Predictor(model)
    np.testing.assert_allclose(predict(images), expected, atol=1e-6)
    np.testing.assert_allclose(predict(images[2]), expected[2], atol=1e-6)
    # Another batch size, through the same function (its batch dimension is free).
    np.testing.assert_allclose(predict(images[:3]), expected[:3], atol=1e-6)


def test_predictor_names_the_shape_it_expects():
    predict = Predictor(create_model("lenet5"))
    with pytest.raises(
        ValueError, match=r"\(28, 28, 1\).*Received: images of shape \(2, 32, 32, 1\)"
    ):
        predict(np.zeros((2, 32, 32, 1)))
