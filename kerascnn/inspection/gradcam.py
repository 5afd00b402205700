"""Grad-CAM: which part of the image drove the prediction.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017: the last rectified feature map,
each channel weighted by the mean gradient of the class score with respect
to it, summed and rectified.
"""

from __future__ import annotations

import keras
import numpy as np

from kerascnn.errors import UsageError
from kerascnn.inspection.maps import steps


def grad_cam(model: keras.Model, image, class_index: int | None = None, layer: str | None = None):
    """A class-activation heat map over the input image.

    Args:
        model: A classifier with rectified feature maps.
        image: One raw image (H, W, C).
        class_index: The class to explain; default the predicted one.
        layer: The rectified layer to use; default the last one.

    Returns:
        (heat map (H, W) scaled to [0, 1], the class index explained).

    Example:
    >>> heat, label = grad_cam(create_model("lenet5.mnist"), digit)
    """
    if keras.backend.backend() != "tensorflow":
        raise UsageError(
            "grad_cam takes gradients with TensorFlow; run with KERAS_BACKEND=tensorflow. "
            f"Received backend: {keras.backend.backend()}"
        )
    import tensorflow as tf

    layer = layer or steps(model)[-1].rectified
    probe = keras.Model(model.input, [model.get_layer(layer).output, model.outputs[0]])
    x = tf.constant(np.asarray(image, dtype="float32")[None])
    with tf.GradientTape() as tape:
        fmap, scores = probe(x, training=False)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        score = scores[:, class_index]
    gradients = tape.gradient(score, fmap)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(fmap * weights, axis=-1))[0]
    cam = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else cam), class_index
