"""TFDS data sets through the real builders, prepared offline from ../shared."""

import numpy as np
import pytest

from kerascnn.data import DataError, load_dataset

from ..conftest import read_idx, shared


def _all(dataset):
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)


def test_mnist_splits_hold_the_official_test_set(tfds_data_dir):
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, batch_size=1000)
    assert data.sizes == {"train": 54_000, "validation": 6_000, "test": 10_000}
    assert data.class_names == tuple(str(d) for d in range(10))
    assert data.image_shape == (28, 28, 1)
    images, labels = _all(data.test)
    assert images.dtype == np.float32 and labels.dtype == np.int32
    # The same pixels and labels as the official idx files, in TFDS' order.
    official_images = read_idx(shared("mnist") / "t10k-images-idx3-ubyte.gz")
    official_labels = read_idx(shared("mnist") / "t10k-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(official_labels))
    assert images.sum() == official_images.astype(np.int64).sum()
    assert images.max() == 255.0 and images.min() == 0.0


@pytest.mark.slow
def test_train_and_validation_partition_the_train_split(tfds_data_dir):
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, batch_size=2000)
    _, train_labels = _all(data.train)
    _, validation_labels = _all(data.validation)
    official = read_idx(shared("mnist") / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(
        np.bincount(train_labels) + np.bincount(validation_labels), np.bincount(official)
    )


@pytest.mark.slow
def test_fashion_mnist_has_its_class_names(tfds_fashion_data_dir):
    data = load_dataset(
        "tfds:fashion_mnist",
        data_dir=tfds_fashion_data_dir,
        validation_split=0.0,
        max_examples=500,
    )
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert set(data.splits) == {"train", "test"}
    assert data.sizes == {"train": 500, "test": 500}


@pytest.mark.slow
def test_mnist_and_fashion_mnist_prepared_in_one_data_dir_keep_their_own_pixels(
    tfds_fashion_data_dir,
):
    # Their original files share names; TFDS' extraction cache once gave
    # Fashion-MNIST the MNIST pixels when both used one download folder.
    # The session's data dir is that case: kerascnn prepared both in it.
    for name, folder in (("mnist", "mnist"), ("fashion_mnist", "fashion-mnist")):
        data = load_dataset(
            f"tfds:{name}", data_dir=tfds_fashion_data_dir, validation_split=0.0, batch_size=10_000
        )
        images, _ = _all(data.test)
        official = read_idx(shared(folder) / "t10k-images-idx3-ubyte.gz")
        # Integer sums: a float32 sum of 7.8 million pixels is not exact.
        assert images.astype(np.int64).sum() == official.astype(np.int64).sum(), name


def test_images_are_resized_and_converted_to_the_model_input(tfds_data_dir):
    data = load_dataset(
        "tfds:mnist", data_dir=tfds_data_dir, image_shape=(32, 36, 3), max_examples=64
    )
    images, _ = next(iter(data.test))
    assert images.shape[1:] == (32, 36, 3)
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # gray repeated


def test_an_unknown_name_suggests_close_ones(tfds_data_dir):
    with pytest.raises(DataError, match=r"no data set named 'mnsit'\. Did you mean: tfds:mnist"):
        load_dataset("tfds:mnsit", data_dir=tfds_data_dir)


def test_missing_manual_files_fail_fast_and_name_them(tmp_path):
    with pytest.raises(DataError, match=r"lacks t10k-images-idx3-ubyte\.gz"):
        load_dataset("tfds:mnist", data_dir=str(tmp_path / "d"), manual_dir=str(tmp_path))


def test_offline_setting_refuses_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASCNN_OFFLINE", "1")
    with pytest.raises(DataError, match="kerascnn is offline"):
        load_dataset("tfds:mnist", data_dir=str(tmp_path))


def test_a_data_set_without_image_and_label_is_refused(tfds_data_dir):
    with pytest.raises(DataError, match="not an image-classification data set"):
        load_dataset("tfds:imdb_reviews", data_dir=tfds_data_dir)
