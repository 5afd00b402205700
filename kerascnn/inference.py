"""`Predictor`: fast predictions from a Keras model, one image or a batch.

`model.predict` sets up a data pipeline and a progress callback on every
call (about 5x a compiled function for one image). A `Predictor` traces the
model once into a TensorFlow function with a free batch dimension and calls
it directly.
"""

from __future__ import annotations

import keras
import numpy as np

from kerascnn.errors import UsageError


class Predictor:
    """Calls a Keras model in inference mode through one compiled function.

    Args:
        model: A Keras model with one image input.

    Example:
    >>> predict = Predictor(create_model("lenet5.mnist"))
    >>> predict(image).argmax()      # one (28, 28, 1) image
    >>> predict(images).argmax(-1)   # a batch
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            function = tf.function(
                lambda images: model(images, training=False),
                input_signature=[tf.TensorSpec((None, *self.input_shape), tf.float32)],
                autograph=False,
            )
            self._run = lambda images: function(images).numpy()
        else:
            self._run = lambda images: keras.ops.convert_to_numpy(model(images, training=False))

    def __call__(self, images) -> np.ndarray:
        """Predictions for one image (H, W, C) or a batch (N, H, W, C)."""
        images = np.asarray(images, dtype=np.float32)
        single = images.shape == self.input_shape
        if single:
            images = images[None]
        elif images.shape[1:] != self.input_shape:
            raise UsageError(
                f"Expected one image of shape {self.input_shape} or a batch of them. "
                f"Received: images of shape {images.shape}"
            )
        outputs = self._run(images)
        return outputs[0] if single else outputs
