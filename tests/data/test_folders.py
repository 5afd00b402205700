"""Image folders: formats, splits, conversion, and every kind of bad input."""

import os

import numpy as np
import pytest
from PIL import Image

from kerascnn.data import DataError, load_dataset


def _write(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)


def _folder(tmp_path, classes=("cat", "dog"), per_class=3, size=(6, 5)):
    """Class folders of solid images whose value encodes class and index."""
    for c, name in enumerate(classes):
        for i in range(per_class):
            _write(tmp_path / name / f"{i}.png", np.full((*size, 3), 10 * c + i, np.uint8))
    return tmp_path


def _all(dataset):
    pairs = [(x.numpy(), y.numpy()) for x, y in dataset]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def test_reads_every_pixel_and_label_it_was_given(tmp_path):
    root = _folder(tmp_path, per_class=4)
    data = load_dataset(str(root), validation_split=0.0, batch_size=3)
    assert data.class_names == ("cat", "dog")
    assert data.image_shape == (6, 5, 3)
    images, labels = _all(data.train)
    values = images[:, 0, 0, 0].astype(int)
    assert sorted(zip(labels.tolist(), values.tolist(), strict=True)) == [
        (c, 10 * c + i) for c in range(2) for i in range(4)
    ]
    assert np.all(images == images[:, :1, :1, :1])  # solid images stay solid


# JPEGs too: they are decoded with libjpeg's accurate DCT, as Pillow does.
@pytest.mark.parametrize(
    ("name", "fmt", "mode"),
    [
        ("a.png", "PNG", "RGBA"),
        ("a.bmp", "BMP", "RGB"),
        ("a.gif", "GIF", "P"),
        ("a.jpg", "JPEG", "RGB"),
        ("a.jpeg", "JPEG", "L"),
    ],
)
def test_reads_png_jpeg_bmp_gif_as_pillow_does(tmp_path, name, fmt, mode):
    gradient = np.add.outer(np.arange(12) * 20, np.arange(10) * 5).astype(np.uint8)
    image = Image.fromarray(np.stack([gradient, gradient[::-1], 255 - gradient], -1))
    for cls in ("x", "y"):
        (tmp_path / cls).mkdir()
        image.convert(mode).save(tmp_path / cls / name, format=fmt)
    expected = np.asarray(Image.open(tmp_path / "x" / name).convert("RGB"), np.float32)
    data = load_dataset(str(tmp_path), image_shape=(12, 10, 3), validation_split=0.0)
    images, _ = _all(data.train)
    assert images.shape == (2, 12, 10, 3)
    np.testing.assert_array_equal(images[0], expected)


def test_mixed_sizes_are_resized_and_rgb_becomes_gray(tmp_path):
    _write(tmp_path / "a" / "big.png", np.full((20, 30, 3), 90, np.uint8))
    _write(tmp_path / "b" / "small.png", np.full((4, 4), 30, np.uint8))
    data = load_dataset(str(tmp_path), image_shape=(10, 10, 1), validation_split=0.0)
    images, labels = _all(data.train)
    assert images.shape == (2, 10, 10, 1)
    by_label = dict(zip(labels.tolist(), images[:, 5, 5, 0].tolist(), strict=True))
    assert by_label == {0: 90.0, 1: 30.0}


def test_train_and_test_folders_are_splits_and_validation_is_cut_from_train(tmp_path):
    _folder(tmp_path / "train", per_class=10)
    _folder(tmp_path / "test", per_class=2)
    data = load_dataset(str(tmp_path), validation_split=0.2)
    assert data.sizes == {"train": 16, "validation": 4, "test": 4}


@pytest.mark.slow
def test_cifar10_jpeg_folders(cifar10_full_folder):
    data = load_dataset(str(cifar10_full_folder), validation_split=0.0, batch_size=1000)
    assert data.class_names == (
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    )  # fmt: skip
    assert data.sizes == {"train": 50_000, "test": 10_000}
    images, labels = _all(data.train)
    assert np.bincount(labels).tolist() == [5000] * 10
    # The mean RGB the data set's README gives for the train split.
    mean_rgb = images.mean(axis=(0, 1, 2), dtype=np.float64)
    np.testing.assert_allclose(mean_rgb, [125.3, 122.9, 113.9], atol=0.1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nowhere", "No folder at"),
        (lambda p: p, "holds no images"),
        (lambda p: _folder(p, classes=("only",)), r"only one class \('only'\)"),
        (lambda p: (_folder(p), (p / "empty").mkdir())[0], r"the class folders \['empty'\] hold"),
    ],
    ids=["missing", "empty", "one-class", "empty-class"],
)
def test_bad_folders_are_explained(tmp_path, make, message):
    root = make(tmp_path)
    with pytest.raises(DataError, match=message):
        load_dataset(str(root))


def _with_bad_files(tmp_path):
    root = _folder(tmp_path)
    (root / "cat" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    os.symlink(tmp_path / "missing.png", root / "dog" / "dangling.png")
    return root


def test_unreadable_images_are_an_error_when_asked(tmp_path):
    with pytest.raises(DataError, match=r"2 image file\(s\) .* cannot be read") as info:
        load_dataset(str(_with_bad_files(tmp_path)), on_bad_image="error")
    assert "corrupt.jpg" in str(info.value) and "dangling.png" in str(info.value)


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    with pytest.warns(UserWarning, match="Skipped 2 unreadable image"):
        data = load_dataset(str(_with_bad_files(tmp_path)), validation_split=0.0)
    assert [os.path.basename(f) for f in data.skipped_files] == ["corrupt.jpg", "dangling.png"]
    assert data.sizes == {"train": 6}
    assert len(_all(data.train)[1]) == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_shape": (8, 8, 2)}, "with 1 or 3 channels"),
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"validation_split": 1.0}, "Received: validation_split=1.0"),
        ({"on_bad_image": "ignore"}, "Received: on_bad_image='ignore'"),
        ({"augment": "zoom"}, "Unknown augmentation 'zoom'"),
    ],
)
def test_bad_arguments_are_explained(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        load_dataset(str(_folder(tmp_path)), **kwargs)


def test_channels_that_cannot_be_converted_are_refused():
    from kerascnn.data.images import check_channels_convertible

    with pytest.raises(DataError, match="5 channels, which cannot be converted"):
        check_channels_convertible(5, "tfds:multispectral")


def test_random_erasing_covers_a_rectangle_of_half_the_images():
    from kerascnn.data import build_augmentation

    images = np.full((400, 20, 20, 1), 128.0, dtype="float32")
    erased = np.asarray(build_augmentation("erase", (20, 20, 1), seed=0)(images, training=True))
    changed = erased != 128.0
    hit = changed.any(axis=(1, 2, 3))
    assert 0.4 < hit.mean() < 0.6
    assert erased.min() >= 0 and erased.max() <= 255
    for mask in changed[hit, ..., 0]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        # One rectangle (the pixels it spans), at most 40% of the image.
        assert rows[-1] - rows[0] + 1 == len(rows) and cols[-1] - cols[0] + 1 == len(cols)
        assert len(rows) * len(cols) <= 0.4 * 20 * 20 + 20


def test_augmentation_changes_train_images_only(tmp_path):
    root = tmp_path
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        for i in range(4):
            _write(root / cls / f"{i}.png", rng.integers(0, 255, (16, 16, 3), dtype=np.uint8))
    plain = load_dataset(str(root), validation_split=0.5, seed=1)
    augmented = load_dataset(
        str(root), validation_split=0.5, seed=1, augment="flip,crop,rotation,translation,erase"
    )
    a_train, _ = _all(augmented.train)
    p_train, _ = _all(plain.train)
    assert a_train.shape == p_train.shape
    assert a_train.min() >= 0 and a_train.max() <= 255
    assert not np.allclose(np.sort(a_train.ravel()), np.sort(p_train.ravel()))
    np.testing.assert_array_equal(_all(augmented.validation)[0], _all(plain.validation)[0])


@pytest.mark.slow
def test_a_resumed_run_draws_new_batches_and_keeps_its_validation_cut(tmp_path):
    # Rebuilt with the same seed, a resumed run's data would replay the
    # shuffles (and augmentations, drawn from the same seed) of its first
    # epochs; `first_epoch` makes new ones. Solid images: value = identity.
    root = _folder(tmp_path, per_class=8)

    def epoch_order_and_validation(first_epoch):
        data = load_dataset(
            str(root), validation_split=0.25, seed=1, batch_size=4, first_epoch=first_epoch
        )
        images, _ = _all(data.train)
        return images[:, 0, 0, 0].tolist(), sorted(_all(data.validation)[0][:, 0, 0, 0])

    start, start_validation = epoch_order_and_validation(0)
    again, _ = epoch_order_and_validation(0)
    resumed, resumed_validation = epoch_order_and_validation(3)
    later, _ = epoch_order_and_validation(4)
    assert again == start  # a seeded shuffle is reproducible
    assert resumed != start and later != resumed
    assert sorted(resumed) == sorted(start)  # the same training images, drawn anew
    assert resumed_validation == start_validation
    with pytest.raises(DataError, match="first_epoch=-1"):
        load_dataset(str(root), first_epoch=-1)
