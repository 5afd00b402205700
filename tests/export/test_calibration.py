"""Representative images from each kind of input the exporters accept."""

import numpy as np
import pytest
import tensorflow as tf

from kerascnn.data import ImageDataset
from kerascnn.export import ExportError
from kerascnn.export.calibration import representative_images

IMAGES = np.arange(10 * 6 * 6, dtype="float32").reshape(10, 6, 6, 1)
LABELS = np.arange(10) % 3


def test_an_array_a_tf_data_set_and_a_kerascnn_data_set_give_the_same_images():
    batched = tf.data.Dataset.from_tensor_slices((IMAGES, LABELS)).batch(4)
    unbatched_images = tf.data.Dataset.from_tensor_slices(IMAGES)
    dataset = ImageDataset(
        source="memory",
        class_names=("a", "b", "c"),
        image_shape=(6, 6, 1),
        splits={"train": batched},
        sizes={"train": 10},
        batch_size=4,
    )
    for data in (IMAGES, list(IMAGES), batched, unbatched_images, dataset):
        np.testing.assert_array_equal(representative_images(data, (6, 6, 1), limit=7), IMAGES[:7])


def test_grayscale_images_without_a_channel_axis_are_accepted():
    got = representative_images(IMAGES[..., 0], (6, 6, 1), limit=10)
    np.testing.assert_array_equal(got, IMAGES)


def test_images_of_the_wrong_shape_are_refused():
    with pytest.raises(ExportError, match=r"shape \(6, 6, 3\)"):
        representative_images(IMAGES, (6, 6, 3), limit=10)
    with pytest.raises(ExportError, match="no images"):
        representative_images(IMAGES[:0], (6, 6, 1), limit=10)
    with pytest.raises(ExportError, match="Received: dict"):
        representative_images({"x": IMAGES}, (6, 6, 1), limit=10)
